import { describe, expect, it } from 'vitest';
import { unboundVariable } from '../../../../cli/contracts/rules/unbound-variable.ts';
import { CONTACT, input } from './contracts.ts';

describe('unbound-variable', () => {
  it("Compliance 1 – Spine's bindings and functions, JSONata's, and local variables", () => {
    const mapping = `(
      $name := $trim(name);
      {
        "ref": $source & ":" & $entityKey & ":" & $eventId & $account,
        "name": $name,
        "date": $isoDate(created),
        "amount": $fromMinorUnits(amount, currency),
        "currency_id": $reference('currencies', currency),
        "lines": $map(lines, function($l) { $l.sku })
      }
    )`;
    expect(unboundVariable(input({ mapping }))).toEqual([]);
  });

  it('Compliance 2 – the fetched object, in the mapping and a lifecycle step', () => {
    expect(
      unboundVariable(
        input({
          enrich: CONTACT,
          mapping: '{ "email": $contact.properties.email }',
          lifecycle: [{ step: 'confirm', when: '$contact.archived = false' }],
        }),
      ),
    ).toEqual([]);
  });

  it('Noncompliance 1 – $contact without an enrich part, once per expression', () => {
    const mapping = '{ "email": $contact.properties.email,\n "phone": $contact.properties.phone }';
    const findings = unboundVariable(input({ mapping }));
    expect(findings).toEqual([
      {
        severity: 'error',
        rule: 'unbound-variable',
        at: ['target', 'mapping'],
        position: mapping.indexOf('$contact') + '$contact'.length,
        message: 'reads $contact, which nothing binds: the contract has no enrich part',
        hint: 'to read an object the event only names, declare enrich (object, id, as: contact, schema); or bind $contact with := before reading it',
      },
    ]);
  });

  it('Noncompliance 2 – a misspelt name, with the one meant', () => {
    const [fetched] = unboundVariable(
      input({ enrich: CONTACT, mapping: '{ "email": $contcat.properties.email }' }),
    );
    expect(fetched?.message).toBe(
      'reads $contcat, which nothing binds (the fetched object is $contact)',
    );
    expect(fetched?.hint).toBe('did you mean $contact?');
    const [binding] = unboundVariable(input({ mapping: '{ "ref": $entitykey }' }));
    expect(binding?.hint).toBe('did you mean $entityKey?');
  });

  it('Noncompliance 3 – a function nothing defines', () => {
    const [finding] = unboundVariable(
      input({ mapping: '{ "amount": $fromMinorUnit(amount, "usd") }' }),
    );
    expect(finding?.message).toBe(
      'calls $fromMinorUnit, which is not a function the expression has',
    );
    expect(finding?.hint).toBe('did you mean $fromMinorUnits?');
  });
});
