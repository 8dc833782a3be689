import { describe, expect, it } from 'vitest';
import { expressionReads, formatRead } from '../../../cli/contracts/expression-reads.ts';

/** The reads of an expression as `$variable.member...`, calls marked `()`. */
function reads(expression: string): string[] {
  return expressionReads(expression).reads.map(
    (read) => `${formatRead(read)}${read.called ? '()' : ''}`,
  );
}

describe('expressionReads', () => {
  it('reads a variable-rooted path, and nothing for the event itself', () => {
    expect(reads('{ "email": $contact.properties.email, "id": data.object.id }')).toEqual([
      '$contact.properties.email',
    ]);
  });

  it('follows an alias to the variable it stands for, and does not count it as unbound', () => {
    const result = expressionReads(
      '( $p := $contact.properties; { "name": $p.firstname & " " & $p.lastname } )',
    );
    expect(result.bound).toEqual(new Set(['p']));
    expect(result.reads.map(formatRead)).toEqual([
      '$contact.properties',
      '$contact.properties.firstname',
      '$contact.properties.lastname',
    ]);
  });

  it("follows steps evaluated in the path's context: blocks, filters, sorts, groups, $lookup", () => {
    expect(reads('$contact.properties.(firstname & lastname)')).toContain(
      '$contact.properties.lastname',
    );
    expect(reads('$contact.properties[email != null].phone')).toEqual([
      '$contact.properties.email',
      '$contact.properties.phone',
    ]);
    expect(reads('$order.lines^(price).sku')).toEqual(['$order.lines.price', '$order.lines.sku']);
    expect(reads('$order.lines{sku: price}')).toEqual([
      '$order.lines.sku',
      '$order.lines.price',
      '$order.lines',
    ]);
    expect(reads('$lookup($contact.properties, "website")')).toContain(
      '$contact.properties.website',
    );
  });

  it('follows a focus variable to the items it stands for', () => {
    expect(reads('$order.lines@$l.{ "sku": $l.sku }')).toEqual([
      '$order.lines',
      '$order.lines.sku',
    ]);
  });

  it('ends a path where it cannot be told, rather than invent a read', () => {
    expect(reads('$contact.properties.*')).toEqual(['$contact.properties']);
    expect(reads('$map($contact.lines, function($x) { $x.sku })')).toEqual([
      '$map()',
      '$contact.lines',
    ]);
  });

  it('marks calls, and names a quoted member as written', () => {
    expect(reads('$fromMinorUnits(amount, currency)')).toEqual(['$fromMinorUnits()']);
    expect(reads('$contact.`first name`')).toEqual(['$contact.`first name`']);
  });

  it('gives each read the offset of its variable, for the line of a finding', () => {
    const expression = '{\n  "a": 1,\n  "b": $contact.x\n}';
    const [read] = expressionReads(expression).reads;
    expect(expression.slice(0, read?.position).split('\n')).toHaveLength(3);
  });

  it('throws on an expression that does not parse', () => {
    expect(() => expressionReads('$contact.(')).toThrow();
  });
});
