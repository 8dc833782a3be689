/**
 * The flags of `npm run chaos`, read and checked before anything starts: an impossible value
 * (a negative count, a rate over 100 %, an unknown fault) is refused with what was received and
 * what is expected, so a typo never runs a chaos run that proves nothing.
 */

/** Faults the harness can inject, each one a phase of the run (see fault-phases.ts). */
export const FAULT_KINDS = [
  'drop',
  '429',
  '500',
  '502',
  '503',
  '504',
  'lock',
  'server',
  'validation',
  'access',
  'commit-then-fail',
  'latency',
  'stall',
  'request-limit',
  'outage',
  'rotation',
] as const;

export type FaultKind = (typeof FAULT_KINDS)[number];

export interface ChaosOptions {
  /** Unique vendor events to send (re-deliveries come on top). */
  readonly events: number;
  readonly seed: number;
  /** Share (0..1) of events delivered a second time: half at once, half after they were processed. */
  readonly duplicates: number;
  /** Share (0..1) of entities whose versions are sent newest first. */
  readonly outOfOrder: number;
  /** Share (0..1) of Odoo calls each rate-based fault hits while its phase lasts. */
  readonly faultRate: number;
  readonly faults: readonly FaultKind[];
  /** kill -9 the runtime mid-traffic, then start it again on the same state. */
  readonly kill: boolean;
  /** Stories (one entity's or person's events, in their order) sent at the same time. */
  readonly concurrency: number;
  /** State folder of the runtime; a fresh temporary one when absent. */
  readonly dataDir?: string;
  /** Keep the state folder afterwards (always kept when --data-dir names one). */
  readonly keep: boolean;
  readonly json: boolean;
  /** Longest wait for the queues to drain, each time, in seconds. */
  readonly drainTimeoutSeconds: number;
}

/** A flag the harness refuses; the CLI exits 2 with its message. */
export class ChaosFlagError extends Error {
  override readonly name = 'ChaosFlagError';
}

/** What commander hands over: every flag as typed, or a boolean for switches. */
export interface RawChaosFlags {
  readonly events?: string;
  readonly seed?: string;
  readonly duplicates?: string;
  readonly outOfOrder?: string;
  readonly faultRate?: string;
  readonly faults?: string;
  readonly kill?: boolean;
  readonly concurrency?: string;
  readonly dataDir?: string;
  readonly keep?: boolean;
  readonly json?: boolean;
  readonly drainTimeout?: string;
}

function wholeNumber(value: string, flag: string, min: number, max: number): number {
  const trimmed = value.trim();
  if (!/^-?\d+$/.test(trimmed))
    throw new ChaosFlagError(`${flag} takes a whole number, got "${value}"`);
  const n = Number(trimmed);
  if (n < min)
    throw new ChaosFlagError(
      `${flag} must be at least ${min}, got ${n}${n < 0 ? ' (a count cannot be negative)' : ''}`,
    );
  if (n > max) throw new ChaosFlagError(`${flag} must be at most ${max}, got ${n}`);
  return n;
}

/** "10", "10%" or "12.5" → 0.1, 0.1, 0.125; refused outside 0..100 %. */
function percentage(value: string, flag: string): number {
  const match = /^\s*(-?\d+(?:\.\d+)?)\s*%?\s*$/.exec(value);
  if (!match)
    throw new ChaosFlagError(`${flag} takes a percentage such as 10 or 12.5, got "${value}"`);
  const pct = Number(match[1]);
  if (pct < 0) throw new ChaosFlagError(`${flag} cannot be negative, got ${pct}%`);
  if (pct > 100)
    throw new ChaosFlagError(`${flag} is a share of events: at most 100%, got ${pct}%`);
  return pct / 100;
}

function faultList(value: string): FaultKind[] {
  const text = value.trim().toLowerCase();
  if (text === 'all') return [...FAULT_KINDS];
  if (text === 'none' || text === '') return [];
  const names = text.split(',').map((n) => n.trim());
  const unknown = names.filter((n) => !(FAULT_KINDS as readonly string[]).includes(n));
  if (unknown.length > 0)
    throw new ChaosFlagError(
      `--faults does not know ${unknown.map((n) => `"${n}"`).join(', ')}; give "all", "none" or a comma-separated list of ${FAULT_KINDS.join(', ')}`,
    );
  return [...new Set(names)] as FaultKind[];
}

export function parseChaosOptions(flags: RawChaosFlags): ChaosOptions {
  const events = wholeNumber(flags.events ?? '10000', '--events', 1, 1_000_000);
  const seed = wholeNumber(flags.seed ?? '1', '--seed', 0, 2 ** 32 - 1);
  const concurrency = wholeNumber(flags.concurrency ?? '8', '--concurrency', 1, 256);
  const drainTimeoutSeconds = wholeNumber(
    flags.drainTimeout ?? '900',
    '--drain-timeout',
    1,
    86_400,
  );
  return {
    events,
    seed,
    duplicates: percentage(flags.duplicates ?? '10', '--duplicates'),
    outOfOrder: percentage(flags.outOfOrder ?? '20', '--out-of-order'),
    faultRate: percentage(flags.faultRate ?? '10', '--fault-rate'),
    faults: faultList(flags.faults ?? 'all'),
    kill: flags.kill ?? true,
    concurrency,
    ...(flags.dataDir ? { dataDir: flags.dataDir } : {}),
    keep: Boolean(flags.keep || flags.dataDir),
    json: Boolean(flags.json),
    drainTimeoutSeconds,
  };
}
