/**
 * Fault injection for the vendor emulators: latency, and a share of requests answered with a
 * rate limit (429), a server error (5xx) or a dropped connection instead. `next` scripts the
 * faults of the next requests exactly, for tests that need "a 429, then success". Random
 * choices come from a seeded generator, so a run can be repeated.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { seededRandom } from '../seeded-random.ts';

export type VendorFault = 'throttle' | 'server-error' | 'drop';

export interface VendorFaultPlan {
  /** Added to every request, in milliseconds. */
  readonly latencyMs?: number;
  /** Shares (0..1) of requests answered with each fault; together at most 1. */
  readonly throttle?: number;
  readonly serverError?: number;
  readonly drop?: number;
  /** The status of an injected server error. @default 503 */
  readonly serverErrorStatus?: 500 | 502 | 503 | 504;
  /** `Retry-After` of an injected 429, in seconds; 0 sends none. @default 1 */
  readonly retryAfterSeconds?: number;
  /** The faults of the next requests, in order, before the shares apply. */
  readonly next?: readonly VendorFault[];
  /** Seed of the random choices. */
  readonly seed?: number;
}

const FAULTS: readonly VendorFault[] = ['throttle', 'server-error', 'drop'];

/** Checks a plan; throws a RangeError naming each mistake. */
export function parseVendorFaultPlan(plan: VendorFaultPlan): VendorFaultPlan {
  const problems: string[] = [];
  const share = (key: 'throttle' | 'serverError' | 'drop') => {
    const v = plan[key];
    if (v !== undefined && !(typeof v === 'number' && v >= 0 && v <= 1))
      problems.push(`${key}: expected a share between 0 and 1, got ${JSON.stringify(v)}`);
  };
  share('throttle');
  share('serverError');
  share('drop');
  if ((plan.throttle ?? 0) + (plan.serverError ?? 0) + (plan.drop ?? 0) > 1)
    problems.push('throttle + serverError + drop: the shares add up to more than 1');
  for (const key of ['latencyMs', 'retryAfterSeconds'] as const) {
    const v = plan[key];
    if (v !== undefined && !(typeof v === 'number' && v >= 0))
      problems.push(`${key}: expected a number ≥ 0, got ${JSON.stringify(v)}`);
  }
  if (
    plan.serverErrorStatus !== undefined &&
    ![500, 502, 503, 504].includes(plan.serverErrorStatus)
  )
    problems.push(
      `serverErrorStatus: expected 500, 502, 503 or 504, got ${JSON.stringify(plan.serverErrorStatus)}`,
    );
  for (const fault of plan.next ?? [])
    if (!FAULTS.includes(fault))
      problems.push(`next: unknown fault ${JSON.stringify(fault)} (expected ${FAULTS.join(', ')})`);
  if (plan.seed !== undefined && !Number.isInteger(plan.seed))
    problems.push(`seed: expected an integer, got ${JSON.stringify(plan.seed)}`);
  if (problems.length > 0) throw new RangeError(`impossible fault plan: ${problems.join('; ')}`);
  return plan;
}

export class VendorFaults {
  private current: VendorFaultPlan = {};
  private scripted: VendorFault[] = [];
  private random: () => number = Math.random;
  /** How many faults of each kind were injected since the plan was set. */
  readonly injected: Record<VendorFault, number> = { throttle: 0, 'server-error': 0, drop: 0 };

  constructor(plan: VendorFaultPlan = {}) {
    this.set(plan);
  }

  get plan(): VendorFaultPlan {
    return this.current;
  }

  /** Replaces the plan (and restarts its random sequence); an impossible plan is refused. */
  set(plan: VendorFaultPlan): void {
    this.current = parseVendorFaultPlan(plan);
    this.scripted = [...(plan.next ?? [])];
    for (const fault of FAULTS) this.injected[fault] = 0;
    this.random = seededRandom(plan.seed ?? 1);
  }

  clear(): void {
    this.set({});
  }

  /** Waits the latency, then answers the fault to inject instead of this request, if any. */
  async draw(): Promise<VendorFault | undefined> {
    if (this.current.latencyMs) await sleep(this.current.latencyMs);
    let fault = this.scripted.shift();
    if (fault === undefined) {
      const { drop = 0, serverError = 0, throttle = 0 } = this.current;
      // No draw without shares, so a plan of latency alone keeps no random sequence.
      if (drop + serverError + throttle === 0) return undefined;
      const r = this.random();
      fault =
        r < drop
          ? 'drop'
          : r < drop + serverError
            ? 'server-error'
            : r < drop + serverError + throttle
              ? 'throttle'
              : undefined;
    }
    if (fault) this.injected[fault]++;
    return fault;
  }
}

/** Calls counted over a rolling window, as vendors count a burst limit. */
export class RollingWindow {
  private readonly times: number[] = [];

  constructor(
    readonly max: number,
    readonly intervalMs: number,
  ) {}

  private trim(now: number): void {
    while (this.times.length > 0 && (this.times[0] ?? 0) <= now - this.intervalMs)
      this.times.shift();
  }

  /** Counts a call at `now`, or answers false when the window is full (the call is not counted). */
  take(now: number): boolean {
    this.trim(now);
    if (this.times.length >= this.max) return false;
    this.times.push(now);
    return true;
  }

  remaining(now: number): number {
    this.trim(now);
    return Math.max(0, this.max - this.times.length);
  }

  /** Milliseconds until a call would be counted again (0 when there is room). */
  freeInMs(now: number): number {
    this.trim(now);
    if (this.times.length < this.max) return 0;
    return (this.times[0] ?? now) + this.intervalMs - now;
  }
}
