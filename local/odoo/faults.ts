/**
 * Fault injection for tests and chaos runs: latency, transport failures (dropped connections,
 * 5xx, 429 with Retry-After), stalls, Odoo's request time limit, lock errors, failing writes,
 * and commit-then-fail (the write is committed but the caller never hears so). Random choices
 * come from a seeded generator, so a run can be repeated.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { seededRandom } from '../seeded-random.ts';

export type InjectedError = 'lock' | 'server' | 'validation' | 'access';

export interface FaultPlan {
  /** Added to every request, in milliseconds. */
  readonly latencyMs?: number;
  /** A share (0..1) of requests fail before reaching the ORM. */
  readonly transport?: {
    readonly rate: number;
    readonly kind: 'drop' | 429 | 500 | 502 | 503 | 504;
    readonly retryAfterSeconds?: number;
  };
  /**
   * A share (0..1) of ORM calls wait `ms` before running, as behind a long transaction or a
   * busy worker. The caller may have given up by then; the call still runs and commits.
   */
  readonly stall?: { readonly rate: number; readonly ms: number };
  /**
   * Odoo's `limit_time_real` (120 s by default in Odoo), in milliseconds: a call whose run,
   * stall included, would last longer is killed with its worker: nothing commits and the
   * connection drops. Overrides the emulator's `requestLimitMs`.
   */
  readonly requestLimitMs?: number;
  /**
   * Shares (0..1) of ORM calls that raise an Odoo exception of a class: lock (LockError,
   * retryable), server (an unexpected server error), validation (ValidationError), access
   * (AccessDenied). In `load` they strike the first row and come back as its message.
   */
  readonly errorRate?: Partial<Record<InjectedError, number>>;
  /** Every write (create, write, unlink, load, action_*) fails: to every model, or to these. */
  readonly failWrites?: boolean | readonly string[];
  /** How a failing write fails: a lock error (retryable, the default) or a validation error. */
  readonly failWritesAs?: 'lock' | 'validation';
  /** A share (0..1) of successful calls whose answer is lost after the commit. */
  readonly commitThenFail?: number;
  /** Seed of the random choices. */
  readonly seed?: number;
}

/** An injected Odoo exception, and whether it strikes every row of a `load` or the first. */
export interface InjectedFault {
  readonly kind: InjectedError;
  readonly everyRow: boolean;
}

/** A fault plan that cannot be carried out, with what is wrong in it. */
export class FaultPlanError extends Error {
  override readonly name = 'FaultPlanError';
}

const PLAN_KEYS = new Set([
  'latencyMs',
  'transport',
  'stall',
  'requestLimitMs',
  'errorRate',
  'failWrites',
  'failWritesAs',
  'commitThenFail',
  'seed',
]);
const TRANSPORT_KINDS = ['drop', 429, 500, 502, 503, 504];
const ERROR_KINDS = ['lock', 'server', 'validation', 'access'];

/** Checks a fault plan received as JSON; throws a FaultPlanError naming each mistake. */
export function parseFaultPlan(value: unknown): FaultPlan {
  const problems: string[] = [];
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  const unknownKeys = (at: string, v: Record<string, unknown>, known: string[]) => {
    for (const key of Object.keys(v))
      if (!known.includes(key))
        problems.push(`${at}${key}: unknown key (expected one of ${known.join(', ')})`);
  };
  const rate = (at: string, v: unknown) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1)
      problems.push(`${at}: expected a rate between 0 and 1, got ${JSON.stringify(v)}`);
  };
  const ms = (at: string, v: unknown) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
      problems.push(`${at}: expected milliseconds ≥ 0, got ${JSON.stringify(v)}`);
  };
  if (!isObject(value)) throw new FaultPlanError('a fault plan is a JSON object');
  unknownKeys('', value, [...PLAN_KEYS]);
  if (value.latencyMs !== undefined) ms('latencyMs', value.latencyMs);
  if (value.requestLimitMs !== undefined) ms('requestLimitMs', value.requestLimitMs);
  if (value.transport !== undefined) {
    const t = value.transport;
    if (!isObject(t)) problems.push('transport: expected {rate, kind, retryAfterSeconds?}');
    else {
      unknownKeys('transport.', t, ['rate', 'kind', 'retryAfterSeconds']);
      rate('transport.rate', t.rate);
      if (!TRANSPORT_KINDS.includes(t.kind as never))
        problems.push(
          `transport.kind: expected one of "drop", 429, 500, 502, 503, 504, got ${JSON.stringify(t.kind)}`,
        );
      if (
        t.retryAfterSeconds !== undefined &&
        (typeof t.retryAfterSeconds !== 'number' || !(t.retryAfterSeconds >= 0))
      )
        problems.push(
          `transport.retryAfterSeconds: expected seconds ≥ 0, got ${JSON.stringify(t.retryAfterSeconds)}`,
        );
    }
  }
  if (value.stall !== undefined) {
    const s = value.stall;
    if (!isObject(s)) problems.push('stall: expected {rate, ms}');
    else {
      unknownKeys('stall.', s, ['rate', 'ms']);
      rate('stall.rate', s.rate);
      ms('stall.ms', s.ms);
    }
  }
  if (value.errorRate !== undefined) {
    const e = value.errorRate;
    if (!isObject(e)) problems.push(`errorRate: expected {${ERROR_KINDS.join(', ')}} rates`);
    else {
      unknownKeys('errorRate.', e, ERROR_KINDS);
      for (const [kind, r] of Object.entries(e)) rate(`errorRate.${kind}`, r);
    }
  }
  const fw = value.failWrites;
  if (
    fw !== undefined &&
    typeof fw !== 'boolean' &&
    !(Array.isArray(fw) && fw.every((m) => typeof m === 'string'))
  )
    problems.push(
      `failWrites: expected true, false or a list of models, got ${JSON.stringify(fw)}`,
    );
  if (
    value.failWritesAs !== undefined &&
    !['lock', 'validation'].includes(value.failWritesAs as never)
  )
    problems.push(
      `failWritesAs: expected "lock" or "validation", got ${JSON.stringify(value.failWritesAs)}`,
    );
  if (value.commitThenFail !== undefined) rate('commitThenFail', value.commitThenFail);
  if (value.seed !== undefined && !Number.isInteger(value.seed))
    problems.push(`seed: expected an integer, got ${JSON.stringify(value.seed)}`);
  if (problems.length > 0)
    throw new FaultPlanError(`impossible fault plan: ${problems.join('; ')}`);
  return value as FaultPlan;
}

export class Faults {
  private current: FaultPlan = {};
  private random: () => number = Math.random;
  /** How many faults of each kind were injected since the plan was set. */
  readonly injected: Record<string, number> = {};

  constructor(
    plan: FaultPlan = {},
    /** The emulator's own request limit, when the plan sets none. */
    private readonly defaultRequestLimitMs?: number,
  ) {
    this.set(plan);
  }

  get plan(): FaultPlan {
    return this.current;
  }

  /** The request time limit in force, if any. */
  get requestLimitMs(): number | undefined {
    return this.current.requestLimitMs ?? this.defaultRequestLimitMs;
  }

  /** Replaces the plan (and restarts its random sequence); an impossible plan is refused. */
  set(plan: FaultPlan): void {
    this.current = parseFaultPlan(plan);
    for (const key of Object.keys(this.injected)) delete this.injected[key];
    this.random = seededRandom(plan.seed ?? 1);
  }

  clear(): void {
    this.set({});
  }

  /** Counts a fault the server carried out itself (a killed request). */
  count(kind: string): void {
    this.injected[kind] = (this.injected[kind] ?? 0) + 1;
  }

  /** Latency, then maybe a transport fault to answer instead of the request. */
  async transport(): Promise<
    { kind: 'drop' } | { kind: 'status'; status: number; retryAfter?: number } | undefined
  > {
    if (this.current.latencyMs) await sleep(this.current.latencyMs);
    const t = this.current.transport;
    if (!t || this.random() >= t.rate) return undefined;
    this.count(`transport-${t.kind}`);
    if (t.kind === 'drop') return { kind: 'drop' };
    return {
      kind: 'status',
      status: t.kind,
      retryAfter: t.kind === 429 ? (t.retryAfterSeconds ?? 1) : t.retryAfterSeconds,
    };
  }

  /** How long an ORM call waits before it runs (0: it runs at once). */
  stall(): number {
    const s = this.current.stall;
    // No draw without a stall in the plan, so plans without one repeat their old sequences.
    if (!s || s.rate <= 0 || this.random() >= s.rate) return 0;
    this.count('stall');
    return s.ms;
  }

  /** A fault to raise instead of running an ORM call, if any. */
  before(model: string, _method: string, write: boolean): InjectedFault | undefined {
    const failing = this.current.failWrites;
    if (write && failing && (failing === true || failing.includes(model))) {
      this.count('failed-write');
      return { kind: this.current.failWritesAs ?? 'lock', everyRow: true };
    }
    for (const [kind, rate] of Object.entries(this.current.errorRate ?? {}) as [
      InjectedError,
      number,
    ][]) {
      if (rate > 0 && this.random() < rate) {
        this.count(kind);
        return { kind, everyRow: false };
      }
    }
    return undefined;
  }

  /** Whether to lose the answer of a call that has just committed. */
  afterCommit(): boolean {
    if (!this.current.commitThenFail || this.random() >= this.current.commitThenFail) return false;
    this.count('commit-then-fail');
    return true;
  }
}
