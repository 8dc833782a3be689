import { describe, expect, it } from 'vitest';
import {
  type CompiledContract,
  externalIdFor,
  loadContractRegistry,
  mapEvent,
  mask,
  pseudonymise,
  redact,
  type Shape,
} from '../../functions/contracts/index.ts';
import { parseJsonPath, readJsonPath } from '../../functions/contracts/json-path.ts';
import { fromMinorUnits, isoDate, odooDatetime } from '../../functions/contracts/mapping.ts';
import { MappingError } from '../../functions/errors/index.ts';

describe('pseudonyms', () => {
  it('are stable for a key, ignore case and spaces, and differ between keys', () => {
    const a = pseudonymise('Jane@Example.com ', { secret: 'k1' });
    expect(a).toMatch(/^hmac:[0-9a-f]{32}$/);
    expect(pseudonymise('jane@example.com', { secret: 'k1' })).toBe(a);
    expect(pseudonymise('jane@example.com', { secret: 'k2' })).not.toBe(a);
    expect(pseudonymise('john@example.com', { secret: 'k1' })).not.toBe(a);
  });
});

describe('mask', () => {
  it.each([
    ['jane.doe@example.com', 'j***@e***.com'],
    ['+33 4 72 00 11 22', '***22'],
    ['Camille Durand', 'C***'],
    ['', ''],
    [42, '***'],
    [{ line1: 'x' }, '[masked]'],
    [null, null],
  ])('%j → %j', (value, masked) => {
    expect(mask(value)).toEqual(masked);
  });
});

describe('redact', () => {
  const shape: Shape = {
    kind: 'object',
    properties: {
      email: { kind: 'value', pii: 'hash' },
      name: { kind: 'value', pii: 'mask' },
      note: { kind: 'value', pii: 'drop' },
      lines: { kind: 'array', items: { kind: 'object', properties: { sku: { kind: 'value' } } } },
      tags: { kind: 'object', properties: {}, additional: { kind: 'value', pii: 'mask' } },
    },
  };

  it('hashes, masks and drops as marked, drops undeclared fields and leaves the input alone', () => {
    const event = {
      email: 'a@b.co',
      name: 'Ann',
      note: 'secret',
      extra: 'undeclared',
      lines: [{ sku: 'S1', secret: 'x' }],
      tags: { vip: 'yes' },
    };
    const copy = structuredClone(event);
    expect(redact(shape, event, { secret: 'k' })).toEqual({
      email: pseudonymise('a@b.co', { secret: 'k' }),
      name: 'A***',
      lines: [{ sku: 'S1' }],
      tags: { vip: 'y***' },
    });
    expect(event).toEqual(copy);
  });

  it('drops a value of another shape than declared when the schema marks personal data under it', () => {
    const stripe = loadContractRegistry().contract('stripe.customer') as CompiledContract;
    const event = {
      id: 'evt_1',
      data: {
        object: {
          id: 'cus_1',
          // An object of personal fields in the schema, one string in this (quarantined) event.
          address: '221B Baker Street, London NW1 6XE',
          preferred_locales: 'en-GB',
        },
      },
    };
    const redacted = redact(stripe.shape, event, { secret: 'k' });
    expect(JSON.stringify(redacted)).not.toContain('Baker');
    expect(redacted).toEqual({
      id: 'evt_1',
      data: { object: { id: 'cus_1', preferred_locales: 'en-GB' } },
    });
    expect(redact(shape, { lines: 'S1', tags: ['vip'] }, { secret: 'k' })).toEqual({
      lines: 'S1',
    });
  });
});

describe('mapping helpers', () => {
  it.each([
    [1999, 'usd', 19.99],
    [500, 'JPY', 500],
    [1234, 'kwd', 1.234],
    [1, 'eur', 0.01],
  ])('fromMinorUnits(%d, %s) = %d', (amount, currency, expected) => {
    expect(fromMinorUnits(amount, currency)).toBe(expected);
  });

  it('turns unix seconds, milliseconds and ISO times into Odoo dates and datetimes', () => {
    expect(isoDate(1737972455)).toBe('2025-01-27');
    expect(isoDate(1738082400123)).toBe('2025-01-28');
    expect(odooDatetime('2025-01-28T09:00:12-05:00')).toBe('2025-01-28 14:00:12');
    expect(() => isoDate('soon')).toThrow(/not a time/);
  });

  it('spells out characters that would make external ids collide or break', () => {
    const context = { entityKey: 'a.b/c', eventId: 'e', source: 'shop' };
    expect(externalIdFor('{source}_x_{entityKey}', context)).toBe('shop_x_a_x2eb_x2fc');
    expect(externalIdFor('x_{entityKey}', { ...context, entityKey: 'cus_AbC-1' })).toBe(
      'x_cus_AbC-1',
    );
  });
});

describe('mapEvent', () => {
  const base = loadContractRegistry().contract('stripe.customer') as CompiledContract;
  const context = { entityKey: 'cus_1', eventId: 'evt_1', source: 'stripe' };

  it('refuses values outside the write allowlist even if the mapping produces them', async () => {
    const contract = {
      ...base,
      target: { ...base.target, mapping: '{ "email": "x", "vat": "FR1" }' },
    };
    await expect(mapEvent(contract, {}, context)).rejects.toThrow(MappingError);
    await expect(mapEvent(contract, {}, context)).rejects.toThrow(
      /"vat", which target.write does not allow/,
    );
  });

  it('turns a JSONata runtime error into a permanent MappingError naming the contract', async () => {
    const contract = {
      ...base,
      target: { ...base.target, mapping: '{ "email": $number("abc") }' },
    };
    const error = await mapEvent(contract, {}, context).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MappingError);
    expect(error).toMatchObject({ retryable: false, code: 'mapping-error' });
    expect((error as Error).message).toContain('stripe.customer@1.1.0');
  });
});

describe('json paths', () => {
  it('reads dotted, quoted and indexed steps', () => {
    const value = { a: { 'x-id': [{ b: 1 }] } };
    expect(readJsonPath(value, "$.a['x-id'][0].b")).toBe(1);
    expect(readJsonPath(value, '$.a.missing.b')).toBeUndefined();
    expect(() => parseJsonPath('a.b')).toThrow(/starts with "\$"/);
    expect(() => parseJsonPath('$.a[*]')).toThrow(/\['name'\] or \[index\]/);
  });
});
