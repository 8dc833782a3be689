/** Reads the values a contract's source section points at: event type, id, time, entity key. */
import { readJsonPath } from './json-path.ts';
import type { Locator } from './model.ts';

/** One vendor event as delivered: its JSON (one element of a batch body) and the HTTP headers. */
export interface Delivery {
  readonly event: unknown;
  /** Header names lower-cased, as API Gateway payload v2 gives them. */
  readonly headers: Readonly<Record<string, string | undefined>>;
}

export function readLocator(locator: Locator, delivery: Delivery): unknown {
  if ('path' in locator) return readJsonPath(delivery.event, locator.path);
  if ('join' in locator) {
    // Every part must name something: a missing one leaves no id at all, never a shorter one,
    // and a part that is no id (an object, 1.5) is answered as it is, for the caller to refuse.
    const values = locator.join.map((path) => readJsonPath(delivery.event, path));
    if (values.some((v) => v === undefined || v === null || v === '')) return undefined;
    const unusable = values.find(
      (v) => typeof v !== 'string' && !(typeof v === 'number' && Number.isSafeInteger(v)),
    );
    return unusable !== undefined ? unusable : values.map(String).join('-');
  }
  const names = typeof locator.header === 'string' ? [locator.header] : locator.header;
  for (const name of names) {
    const value = delivery.headers[name.toLowerCase()];
    if (value !== undefined && value !== '') return value;
  }
  return undefined;
}

/**
 * The located value as a non-empty string, or undefined. Ids may be whole numbers; any other
 * number (`1.5`, `6e200`, which prints as `6e+200`) names nothing and reads as undefined.
 */
export function readLocatorString(locator: Locator, delivery: Delivery): string | undefined {
  const value = readLocator(locator, delivery);
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number') return Number.isSafeInteger(value) ? String(value) : undefined;
  if (typeof value === 'bigint') return String(value);
  return undefined;
}

/** The widest time a JavaScript Date holds: ±10^8 days around 1970 (ECMA-262 §21.4.1.1). */
const DATE_RANGE_MILLIS = 8.64e15;

/**
 * A vendor timestamp as epoch milliseconds: unix seconds (Stripe), unix milliseconds
 * (HubSpot, Clerk) or ISO 8601 (Shopify). Numbers below 10^11 are seconds: 10^11 ms is 1973,
 * 10^11 s is the year 5138. Undefined for anything that is not a time a Date can hold
 * (`6e200`, `1e400`), so a caller never meets the RangeError of `toISOString`.
 */
export function toEpochMillis(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) {
    const millis = value < 1e11 ? value * 1000 : value;
    return Math.abs(millis) <= DATE_RANGE_MILLIS ? millis : undefined;
  }
  if (typeof value === 'string' && value.trim() !== '') {
    if (/^\d+$/.test(value)) return toEpochMillis(Number(value));
    const parsed = Date.parse(value);
    return Number.isNaN(parsed) ? undefined : parsed;
  }
  return undefined;
}
