import { describe, expect, it } from 'vitest';
import { pseudonymise } from '../../functions/contracts/redaction.ts';
import {
  canonicalFieldValue,
  fieldFingerprint,
  writtenFingerprints,
} from '../../functions/reconcile/fingerprint.ts';

const key = { secret: 'a test redaction key' };
const fingerprint = fieldFingerprint(key);

describe('field fingerprints: what the worker wrote and what Odoo reads back meet', () => {
  it('gives a many2one written as an id and read as [id, name] one fingerprint', () => {
    expect(fingerprint([7, 'France'])).toBe(fingerprint(7));
    expect(fingerprint([7, false])).toBe(fingerprint(7));
    expect(fingerprint([7, 'France'])).not.toBe(fingerprint(8));
  });

  it('gives a many2many its ids in any order one fingerprint', () => {
    expect(fingerprint([3, 1, 2])).toBe(fingerprint([1, 2, 3]));
    expect(fingerprint([1, 2])).not.toBe(fingerprint([1, 2, 3]));
  });

  it('gives every empty value one fingerprint, since Odoo reads an empty field as false', () => {
    const empty = fingerprint(null);
    for (const value of [undefined, false, '', 0, []]) expect(fingerprint(value)).toBe(empty);
    expect(fingerprint('x')).not.toBe(empty);
  });

  it('compares numbers as numbers, past float noise, and strings exactly as Odoo holds them', () => {
    expect(fingerprint(149)).toBe(fingerprint(149.0000000001));
    expect(fingerprint(0.1 + 0.2)).toBe(fingerprint(0.3));
    expect(fingerprint(149)).not.toBe(fingerprint(149.01));
    expect(fingerprint('Lyon')).not.toBe(fingerprint('lyon'));
    expect(fingerprint('Lyon')).not.toBe(fingerprint('Lyon '));
    expect(canonicalFieldValue({ b: 2, a: [2, 1] })).toEqual({ a: [1, 2], b: 2 });
  });

  it('is 16 hex digits, keyed, and neither the value nor its pseudonym', () => {
    const email = 'camille.durand@example.com';
    expect(fingerprint(email)).toMatch(/^[0-9a-f]{16}$/);
    expect(fieldFingerprint({ secret: 'another key' })(email)).not.toBe(fingerprint(email));
    expect(pseudonymise(email, key)).not.toContain(fingerprint(email));
  });
});

describe('written fingerprints of an applied event', () => {
  it('names the fields a later event updates: not create-only fields, not x2many lines', () => {
    const written = writtenFingerprints(
      {
        name: 'Camille Durand',
        email: 'camille.durand@example.com',
        country_id: 75,
        category_id: [4, 2],
        order_line: [{ product_id: 3, product_uom_qty: 1 }],
        street2: null,
      },
      ['name'],
      fingerprint,
    );
    expect(written).toEqual({
      email: fingerprint('camille.durand@example.com'),
      country_id: fingerprint(75),
      category_id: fingerprint([2, 4]),
      street2: fingerprint(false),
    });
  });
});
