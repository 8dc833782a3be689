/**
 * Properties of the contract runtime on any JSON a vendor could send, deep nesting and
 * out-of-range numbers included: validation, minimising, redaction and the locators never
 * throw, and they keep their promises (declared fields only, times a Date can print).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  loadContractRegistry,
  minimise,
  pseudonymise,
  readLocatorString,
  redact,
  type Shape,
  toEpochMillis,
} from '../../functions/contracts/index.ts';
import { nestsDeeperThan } from '../../functions/ingest/event-json.ts';

const registry = loadContractRegistry();
const key = { secret: 'property-key' };

/** A value nested `depth` levels deep, built without recursion. */
function nested(depth: number, array: boolean, leaf: unknown = 1): unknown {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = array ? [value] : { a: value, __proto__x: i };
  return value;
}

const deepValue = fc
  .tuple(fc.integer({ min: 65, max: 20_000 }), fc.boolean())
  .map(([depth, array]) => nested(depth, array));

/** Any JSON value, with the numbers and nesting JSON.parse can produce from hostile text. */
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.constantFrom(6e200, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, -1, 1e-300),
  fc.double(),
  deepValue,
  fc.string({ unit: 'binary', maxLength: 20 }),
);

/**
 * A contract's event with `value` written at one of the places its shape declares, so that
 * values reach the fields validation, minimising and redaction look at.
 */
function eventWith(shape: Shape, value: unknown, choice: number): unknown {
  const path: string[] = [];
  let current: Shape = shape;
  for (let step = 0; current.kind === 'object'; step++) {
    const names = Object.keys(current.properties);
    if (names.length === 0 || (choice >> step) % 4 === 0) break;
    const name = names[(choice + step) % names.length] as string;
    path.push(name);
    current = current.properties[name] as Shape;
  }
  let event = value;
  for (const name of path.reverse()) event = { [name]: event };
  return event;
}

/** Every key of `value` is declared by `shape` (or by its map of undeclared keys). */
function declaredOnly(shape: Shape, value: unknown): boolean {
  if (value === null || typeof value !== 'object' || shape.kind === 'value') return true;
  if (shape.kind === 'array')
    return (value as unknown[]).every((v) => declaredOnly(shape.items, v));
  return Object.entries(value).every(([name, child]) => {
    const declared = Object.hasOwn(shape.properties, name)
      ? shape.properties[name]
      : shape.additional;
    return declared !== undefined && declaredOnly(declared, child);
  });
}

describe('contract runtime properties', () => {
  it('validates, minimises and redacts any value under any contract without throwing', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...registry.contracts),
        anyValue,
        fc.nat(),
        (contract, value, choice) => {
          const event = eventWith(contract.shape, value, choice);
          const violations = registry.validate(contract, event);
          for (const v of violations) {
            expect(v.path).toMatch(/^\$/);
            expect(v.path.length).toBeLessThanOrEqual(201);
            expect(v.message).toEqual(expect.any(String));
          }
          minimise(contract.shape, event);
          const redacted = redact(contract.shape, event, key);
          expect(declaredOnly(contract.shape, redacted)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps every key a map declares, `__proto__` included, and minimising twice changes nothing', () => {
    const stripe = registry.contract('stripe.customer');
    if (!stripe) throw new Error('missing contract');
    fc.assert(
      fc.property(
        fc.uniqueArray(
          fc.tuple(
            fc.constantFrom('__proto__', 'constructor', 'plan', 'toString', 'a'),
            fc.string(),
          ),
          { selector: ([name]) => name },
        ),
        (entries) => {
          // As JSON.parse reads it from a vendor: `__proto__` an own key like any other.
          const metadata = `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`;
          const event = JSON.parse(`{"data":{"object":{"metadata":${metadata}}}}`) as unknown;
          const once = minimise(stripe.shape, event) as { data: { object: { metadata: object } } };
          expect(Object.entries(once.data.object.metadata)).toEqual(entries);
          expect(minimise(stripe.shape, once)).toEqual(once);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('turns any located value into a time a Date can print, or into nothing', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          anyValue,
          fc.bigInt({ min: 0n, max: 10n ** 25n }).map(String),
          fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
          fc.constantFrom('275760-09-13T00:00:00.001Z', '-271821-04-20T00:00:00Z', '1e400'),
        ),
        (value) => {
          const millis = toEpochMillis(value);
          if (millis === undefined) return;
          expect(Number.isFinite(millis)).toBe(true);
          expect(() => new Date(millis).toISOString()).not.toThrow();
        },
      ),
      { numRuns: 400 },
    );
  });

  it('reads a locator as a non-empty string or nothing, for any value at its path', () => {
    const contracts = registry.contracts.filter((c) => 'path' in c.source.eventId);
    fc.assert(
      fc.property(fc.constantFrom(...contracts), anyValue, (contract, value) => {
        const path = (contract.source.eventId as { path: string }).path;
        const event = JSON.parse(JSON.stringify({ [path.replace(/^\$\./, '')]: 'x' })) as Record<
          string,
          unknown
        >;
        event[path.replace(/^\$\./, '')] = value;
        const read = readLocatorString(contract.source.eventId, { event, headers: {} });
        if (read !== undefined) expect(read).toMatch(/./);
        if (typeof value === 'number' && !Number.isSafeInteger(value)) expect(read).toBeUndefined();
      }),
      { numRuns: 300 },
    );
  });

  it('pseudonymises a value of any depth, the same way every time', () => {
    fc.assert(
      fc.property(anyValue, (value) => {
        const pseudonym = pseudonymise(value, key);
        expect(pseudonym).toMatch(/^hmac:[0-9a-f]{32}$/);
        expect(pseudonymise(value, key)).toBe(pseudonym);
      }),
      { numRuns: 150 },
    );
  });

  it('measures nesting without recursion, as a recursive walk would', () => {
    const depth = (v: unknown): number =>
      v === null || typeof v !== 'object' ? 0 : 1 + Math.max(0, ...Object.values(v).map(depth));
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), fc.integer({ min: 0, max: 7 }), (value, limit) => {
        expect(nestsDeeperThan(value, limit)).toBe(depth(value) > limit);
      }),
      { numRuns: 300 },
    );
    expect(nestsDeeperThan(nested(200_000, true), 64)).toBe(true);
  });
});
