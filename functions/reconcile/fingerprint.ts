/**
 * Fingerprints of field values as Odoo holds them. The worker records, with each applied event,
 * a fingerprint of every field it wrote; reconciliation fingerprints what Odoo holds the same way
 * and compares. Lineage thus says what a record should hold without holding a personal value.
 */
import { createHmac } from 'node:crypto';
import type { RedactionKey } from '../contracts/redaction.ts';

/** A keyed fingerprint of one field's value, in its canonical form. */
export type FieldFingerprint = (value: unknown) => string;

/**
 * Keeps the fingerprints apart from the pseudonyms made with the same key: a field's fingerprint
 * never equals, or reveals, the pseudonym of the same value in a redacted event.
 */
const DOMAIN = 'spine/odoo-field/v1\n';

const isEmpty = (value: unknown) =>
  value === undefined ||
  value === null ||
  value === false ||
  value === '' ||
  // Odoo keeps no "no number" in a numeric field: an empty one reads back as 0.
  value === 0 ||
  (Array.isArray(value) && value.length === 0);

/**
 * A field's value in the one form both sides reach: what the worker wrote (relations resolved to
 * ids) and what Odoo reads back. A many2one is its id (Odoo reads `[id, name]`), a many2many its
 * sorted ids, a number rounded past float noise, and every empty value (null, false, '', 0, [])
 * one `null`, since Odoo reads an empty field as false whatever was written.
 */
export function canonicalFieldValue(value: unknown): unknown {
  if (isEmpty(value)) return null;
  if (typeof value === 'number') return Math.round(value * 1e6) / 1e6;
  if (Array.isArray(value)) {
    // A many2many holds ids only: a number then anything else (a name, false) is a many2one.
    if (value.length === 2 && typeof value[0] === 'number' && typeof value[1] !== 'number')
      return canonicalFieldValue(value[0]);
    if (value.every((v) => typeof v === 'number')) return [...value].sort((a, b) => a - b);
    return value.map(canonicalFieldValue);
  }
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonicalFieldValue((value as Record<string, unknown>)[k])]),
    );
  return value;
}

/** The fingerprint function of a redaction key: HMAC-SHA256 of the canonical JSON, 16 hex digits. */
export function fieldFingerprint(key: RedactionKey): FieldFingerprint {
  return (value) =>
    createHmac('sha256', key.secret)
      .update(DOMAIN + JSON.stringify(canonicalFieldValue(value)))
      .digest('hex')
      .slice(0, 16);
}

/** x2many lines (a list of line values): written on create only, so not compared afterwards. */
const isLines = (value: unknown) =>
  Array.isArray(value) && value.some((v) => typeof v === 'object' && v !== null);

/**
 * The fingerprint of each field an applied event wrote or found already equal: the fields a later
 * event updates, so not the create-only ones another system owns, nor x2many lines.
 */
export function writtenFingerprints(
  values: Readonly<Record<string, unknown>>,
  createOnly: readonly string[],
  fingerprint: FieldFingerprint,
): Record<string, string> {
  const written: Record<string, string> = {};
  for (const [field, value] of Object.entries(values))
    if (!createOnly.includes(field) && !isLines(value)) written[field] = fingerprint(value);
  return written;
}
