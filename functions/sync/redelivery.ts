/**
 * When a failed event comes back from its flow queue. Each receive counts toward the queue's
 * redrive limit, so a retry that comes back too soon spends the limit while Odoo is still down:
 * the worker hides a failed message for a time that doubles with its receive count, up to a cap
 * (ChangeMessageVisibility), and the redrive limit is sized from the same schedule so that the
 * retries of one event span a whole outage of the tolerated length.
 */

export interface RedeliveryPolicy {
  /** The wait after the first failed receive. @default 30 */
  readonly baseSeconds: number;
  /** The longest wait between two receives. @default 900 */
  readonly capSeconds: number;
}

export const DEFAULT_REDELIVERY: RedeliveryPolicy = { baseSeconds: 30, capSeconds: 900 };

/**
 * The share of the nominal wait that jitter may take away: messages that failed together come
 * back spread out, and the sizing below counts only what is left.
 */
const JITTER = 0.2;

/** SQS's longest visibility timeout: 12 hours. */
const SQS_MAX_VISIBILITY_SECONDS = 43_200;

function nominalSeconds(receiveCount: number, policy: RedeliveryPolicy): number {
  const doublings = Math.max(0, Math.min(30, receiveCount - 1));
  return Math.min(policy.capSeconds, policy.baseSeconds * 2 ** doublings);
}

/** How long a message that failed on its `receiveCount`-th receive stays hidden, in seconds. */
export function redeliveryDelaySeconds(
  receiveCount: number,
  policy: RedeliveryPolicy = DEFAULT_REDELIVERY,
  random: () => number = Math.random,
): number {
  const nominal = nominalSeconds(receiveCount, policy);
  const seconds = Math.ceil(nominal * (1 - JITTER * random()));
  return Math.min(SQS_MAX_VISIBILITY_SECONDS, Math.max(1, seconds));
}

/**
 * The time the retries of an event span at the least before its last receive: the sum of the
 * shortest waits after receives 1 … maxReceiveCount − 1. An outage shorter than this dead-letters
 * nothing (the time each attempt itself takes only adds to it).
 */
export function retriesSpanSeconds(
  maxReceiveCount: number,
  policy: RedeliveryPolicy = DEFAULT_REDELIVERY,
): number {
  let span = 0;
  for (let receive = 1; receive < maxReceiveCount; receive++)
    span += Math.max(1, Math.ceil(nominalSeconds(receive, policy) * (1 - JITTER)));
  return span;
}

/** The smallest redrive limit whose retries span an outage of `outageSeconds`. */
export function receivesToOutlast(
  outageSeconds: number,
  policy: RedeliveryPolicy = DEFAULT_REDELIVERY,
): number {
  let receives = 1;
  while (retriesSpanSeconds(receives, policy) < outageSeconds) receives++;
  return receives;
}
