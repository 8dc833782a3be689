/**
 * Where an event is filed: its vendor id, entity key and occurred-at time, read from the
 * locations its contract names. Each becomes a queue id, a key or a time further on, so a value
 * that cannot serve as one is reported as a violation (the event is quarantined, not refused).
 */
import { type Delivery, readLocator, toEpochMillis } from '../contracts/locator.ts';
import type { CompiledContract, Locator } from '../contracts/model.ts';
import type { Violation } from '../errors/contract-violation.ts';

/**
 * An event id is half of a FIFO deduplication id (128 printable ASCII characters, cut to 100 on
 * a DLQ, with the source in front) and of the worker's idempotency key: one that is longer, or
 * holds other characters, could be confused with another event's and that event dropped.
 */
const EVENT_ID = /^[\x21-\x7e]{1,64}$/;
/** An entity key becomes a FIFO group, a stale-guard key and part of an Odoo external id. */
const MAX_ENTITY_KEY = 256;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds.
const CONTROL = /[\u0000-\u001f\u007f]/;
/** Envelope times are ISO 8601 with a four-digit year, so that they sort as text. */
const EARLIEST = 0;
const LATEST = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

export interface EventAddress {
  readonly eventId?: string;
  readonly entityKey?: string;
  /** Epoch milliseconds. */
  readonly occurredAt?: number;
  /** The vendor account, when the contract locates one and the event names it. */
  readonly account?: string;
  readonly violations: readonly Violation[];
}

export function describeLocator(locator: Locator): string {
  if ('path' in locator) return locator.path;
  if ('join' in locator) return locator.join.join(' + ');
  return `header ${[locator.header].flat().join(' or ')}`;
}

/** A short, printable rendering of a vendor value for a violation message. */
function preview(value: unknown): string {
  // Never String() an object: an array nested thousands deep overflows the stack when joined.
  if (typeof value === 'object' && value !== null)
    return Array.isArray(value) ? 'an array' : 'an object';
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

function idText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  return typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : undefined;
}

function absent(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

export function addressOf(contract: CompiledContract, delivery: Delivery): EventAddress {
  const { eventId: idAt, entityKey: keyAt, occurredAt: timeAt } = contract.source;
  const violations: Violation[] = [];
  const flag = (locator: Locator, keyword: string, message: string) =>
    violations.push({ path: describeLocator(locator), keyword, message });

  const rawId = readLocator(idAt, delivery);
  let eventId = idText(rawId);
  if (absent(rawId)) flag(idAt, 'required', 'the event id is missing');
  else if (eventId === undefined)
    flag(idAt, 'type', `the event id ${preview(rawId)} is not a string or a whole number`);
  else if (!EVENT_ID.test(eventId)) {
    flag(
      idAt,
      'format',
      `the event id ${preview(eventId)} (${eventId.length} characters) is not 1 to 64 printable ASCII characters, so it cannot serve as a queue deduplication id`,
    );
    eventId = undefined;
  }

  const rawKey = readLocator(keyAt, delivery);
  let entityKey = idText(rawKey);
  if (absent(rawKey)) flag(keyAt, 'required', 'the entity key is missing');
  else if (entityKey === undefined)
    flag(keyAt, 'type', `the entity key ${preview(rawKey)} is not a string or a whole number`);
  else if (entityKey.length > MAX_ENTITY_KEY || CONTROL.test(entityKey)) {
    flag(
      keyAt,
      'format',
      `the entity key ${preview(entityKey)} (${entityKey.length} characters) is longer than ${MAX_ENTITY_KEY} characters or holds control characters`,
    );
    entityKey = undefined;
  }

  const rawTime = readLocator(timeAt, delivery);
  let occurredAt = toEpochMillis(rawTime);
  if (absent(rawTime)) flag(timeAt, 'required', 'the occurred-at time is missing');
  else if (
    occurredAt === undefined &&
    typeof rawTime !== 'number' &&
    !(typeof rawTime === 'string' && /^\d+$/.test(rawTime))
  )
    flag(timeAt, 'format', `the occurred-at time ${preview(rawTime)} is not a time`);
  else if (occurredAt === undefined || occurredAt < EARLIEST || occurredAt > LATEST) {
    flag(
      timeAt,
      'format',
      `the occurred-at time ${preview(rawTime)} is out of range: a time from 1970 to the year 9999 is expected`,
    );
    occurredAt = undefined;
  }

  // An account is optional (a Stripe event outside Connect names none); one that is not a short
  // printable text is left out, and the mapping routes the event as it would without one.
  const account = contract.source.account
    ? idText(readLocator(contract.source.account, delivery))
    : undefined;
  const usableAccount =
    account !== undefined && account.length <= MAX_ENTITY_KEY && !CONTROL.test(account)
      ? account
      : undefined;

  return {
    ...(eventId !== undefined ? { eventId } : {}),
    ...(entityKey !== undefined ? { entityKey } : {}),
    ...(occurredAt !== undefined ? { occurredAt } : {}),
    ...(usableAccount ? { account: usableAccount } : {}),
    violations,
  };
}
