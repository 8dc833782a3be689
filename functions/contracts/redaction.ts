/**
 * The view of an event that logs, lineage and error reports may hold. Every field the
 * contract marks `x-pii` is hashed, masked or dropped; fields the contract does not declare
 * are dropped too, since nobody has classified them.
 */
import { createHmac } from 'node:crypto';
import { keep } from './minimise.ts';
import type { PiiTreatment, Shape } from './model.ts';

/** The key of the pseudonyms; the same key always yields the same pseudonym for a value. */
export interface RedactionKey {
  readonly secret: string | Uint8Array;
}

const LITERAL = Symbol('literal');

/**
 * The text a value is hashed as: strings trimmed and lower-cased, object keys sorted. Built
 * with an explicit stack, since a hashed field may hold a value nested arbitrarily deep.
 */
function canonical(value: unknown): string {
  let text = '';
  const pending: (unknown | { readonly [LITERAL]: string })[] = [value];
  const literal = (part: string) => ({ [LITERAL]: part });
  while (pending.length > 0) {
    const next = pending.pop();
    if (typeof next === 'object' && next !== null && LITERAL in next) {
      text += next[LITERAL];
    } else if (typeof next === 'string') {
      text += next.trim().toLowerCase();
    } else if (next === null || typeof next !== 'object') {
      text += String(next);
    } else {
      const array = Array.isArray(next);
      const keys = array ? [] : Object.keys(next).sort();
      const children: unknown[] = array
        ? (next as unknown[]).flatMap((item, i) => (i > 0 ? [literal(','), item] : [item]))
        : keys.flatMap((k, i) => [
            literal(`${i > 0 ? ',' : ''}${JSON.stringify(k)}:`),
            (next as Record<string, unknown>)[k],
          ]);
      pending.push(literal(array ? ']' : '}'), ...children.reverse(), literal(array ? '[' : '{'));
    }
  }
  return text;
}

/**
 * A keyed pseudonym of a value, e.g. `hmac:3f1c…`. Case and surrounding spaces are ignored so
 * that `Jane@Example.com ` and `jane@example.com` can be found with one search.
 */
export function pseudonymise(value: unknown, key: RedactionKey): string {
  return `hmac:${createHmac('sha256', key.secret).update(canonical(value)).digest('hex').slice(0, 32)}`;
}

/** A hint of the value's shape that cannot be reversed: `j***@e***.com`, `***42`, `M***`. */
export function mask(value: unknown): unknown {
  if (value === null || value === undefined) return value;
  if (typeof value === 'object') return '[masked]';
  if (typeof value !== 'string') return '***';
  const text = value.trim();
  if (text === '') return '';
  const email = /^([^@\s]+)@([^@\s]+?)(\.[A-Za-z]{2,})?$/.exec(text);
  if (email) return `${email[1]?.[0] ?? ''}***@${email[2]?.[0] ?? ''}***${email[3] ?? ''}`;
  const digits = text.replace(/\D/g, '');
  if (digits.length >= 6 && digits.length >= text.replace(/[\s()+.-]/g, '').length)
    return `***${digits.slice(-2)}`;
  return `${text[0]}***`;
}

const DROPPED = Symbol('dropped');

function apply(treatment: PiiTreatment, value: unknown, key: RedactionKey): unknown {
  if (value === null || value === undefined) return value;
  switch (treatment) {
    case 'drop':
      return DROPPED;
    case 'mask':
      return mask(value);
    case 'hash':
      return pseudonymise(value, key);
  }
}

const piiBeneath = new WeakMap<Shape, boolean>();

/** Whether the schema marks personal data anywhere under this shape. */
function holdsPii(shape: Shape): boolean {
  let known = piiBeneath.get(shape);
  if (known === undefined) {
    // `x-pii: none` compiles to no treatment, so any treatment marks personal data.
    known = shape.pii !== undefined;
    if (!known && shape.kind === 'array') known = holdsPii(shape.items);
    if (!known && shape.kind === 'object')
      known =
        Object.values(shape.properties).some(holdsPii) ||
        (shape.additional !== undefined && holdsPii(shape.additional));
    piiBeneath.set(shape, known);
  }
  return known;
}

function walk(shape: Shape, value: unknown, key: RedactionKey): unknown {
  if (shape.pii) return apply(shape.pii, value, key);
  if (shape.kind === 'value' || value === null || value === undefined) return value;
  const fits = shape.kind === 'array' ? Array.isArray(value) : isPlainObject(value);
  // A value of another shape than declared (an address as one string where the schema has an
  // object of personal fields) cannot be treated field by field: it is dropped whole. So is a
  // container of the wrong kind (an object where a list is declared): nobody classified its fields.
  if (!fits) return holdsPii(shape) || typeof value === 'object' ? DROPPED : value;
  if (shape.kind === 'array')
    return (value as unknown[])
      .map((item) => walk(shape.items, item, key))
      .filter((item) => item !== DROPPED);
  const kept: Record<string, unknown> = {};
  for (const [name, child] of Object.entries(value as Record<string, unknown>)) {
    const childShape = Object.hasOwn(shape.properties, name)
      ? shape.properties[name]
      : shape.additional;
    if (!childShape) continue;
    const redacted = walk(childShape, child, key);
    if (redacted !== DROPPED) keep(kept, name, redacted);
  }
  return kept;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A redacted copy of `value`; the original is not changed. */
export function redact(shape: Shape, value: unknown, key: RedactionKey): unknown {
  const result = walk(shape, value, key);
  return result === DROPPED ? undefined : result;
}
