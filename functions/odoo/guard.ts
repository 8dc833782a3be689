/**
 * Protects one Odoo from Spine, and Spine from a failing Odoo: a concurrency cap and a token
 * bucket per Odoo URL, retries with exponential backoff and full jitter for retryable errors,
 * and a circuit breaker that stops calling after sustained failures.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { mayHaveRun } from './classify.ts';
import {
  OdooCircuitOpen,
  OdooDeadlineExceeded,
  OdooError,
  OdooTransportError,
} from './errors/index.ts';

export interface GuardOptions {
  /** Calls in flight at once to this Odoo (per process). @default 4 */
  readonly maxConcurrency?: number;
  /** Sustained calls per second. @default 20 */
  readonly ratePerSecond?: number;
  /** Calls allowed at once above the rate. @default ratePerSecond */
  readonly burst?: number;
  /** Further attempts after the first, for retryable errors. @default 4 */
  readonly retries?: number;
  /** @default 200 */
  readonly baseDelayMs?: number;
  /** @default 5000 */
  readonly maxDelayMs?: number;
  /** Consecutive failed calls (after their retries) that open the circuit. @default 5 */
  readonly breakerThreshold?: number;
  /** How long the circuit stays open before one trial call. @default 30000 */
  readonly breakerOpenMs?: number;
  /** For tests: the clock, the sleep and the dice. */
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

export interface GuardedCall {
  /** False for calls that must not run twice (a plain create): retried only when Odoo surely did not run them. */
  readonly idempotent: boolean;
  /** The invocation's deadline: no attempt starts, and no backoff is waited out, past it. */
  readonly deadline?: AbortSignal;
  /**
   * When that deadline comes (epoch ms): a retry that could not get a useful attempt in before
   * it is not made, and the failure goes back to the queue, which retries it later.
   */
  readonly endsAt?: number;
  /** Told of each attempt that failed without knowing whether Odoo ran it (a lost answer). */
  readonly unsettled?: () => void;
}

/** The least time worth giving a retried attempt: below it, the queue's retry does better. */
const LEAST_USEFUL_ATTEMPT_MS = 1000;

export class OdooGuard {
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];
  private tokens: number;
  private refilledAt: number;
  private failures = 0;
  private openUntil = 0;
  private trialRunning = false;
  readonly stats = { calls: 0, attempts: 0, retries: 0, rejected: 0 };

  constructor(
    readonly url: string,
    private readonly options: GuardOptions = {},
  ) {
    this.tokens = this.burst;
    this.refilledAt = this.now();
  }

  private get burst(): number {
    return this.options.burst ?? this.options.ratePerSecond ?? 20;
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  private wait(ms: number, deadline?: AbortSignal): Promise<void> {
    if (this.options.sleep) return this.options.sleep(ms);
    return sleep(ms, undefined, deadline ? { signal: deadline } : undefined).catch(() => {
      throw new OdooDeadlineExceeded({ sent: false });
    });
  }

  private async acquire(): Promise<void> {
    const max = this.options.maxConcurrency ?? 4;
    while (this.inFlight >= max) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.inFlight++;
    // Token bucket: refill by elapsed time, wait for the next token when empty.
    for (;;) {
      const rate = this.options.ratePerSecond ?? 20;
      const now = this.now();
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.refilledAt) / 1000) * rate);
      this.refilledAt = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await this.wait(Math.ceil(((1 - this.tokens) / rate) * 1000));
    }
  }

  private release(): void {
    this.inFlight--;
    this.waiting.shift()?.();
  }

  private checkCircuit(): void {
    const now = this.now();
    if (this.openUntil > now || (this.openUntil > 0 && this.trialRunning)) {
      this.stats.rejected++;
      throw new OdooCircuitOpen(this.url, this.failures, Math.max(0, this.openUntil - now));
    }
    // Half-open: the first call after the pause is the trial; the others wait for its verdict.
    if (this.openUntil > 0) this.trialRunning = true;
  }

  private backoff(attempt: number, error: OdooError): number {
    const base = this.options.baseDelayMs ?? 200;
    const cap = this.options.maxDelayMs ?? 5000;
    const jittered = (this.options.random ?? Math.random)() * Math.min(cap, base * 2 ** attempt);
    const asked = error instanceof OdooTransportError ? (error.retryAfterMs ?? 0) : 0;
    return Math.max(jittered, asked);
  }

  private mayRetry(error: unknown, call: GuardedCall): error is OdooError {
    if (
      !(error instanceof OdooError) ||
      !error.retryable ||
      error instanceof OdooCircuitOpen ||
      error instanceof OdooDeadlineExceeded
    )
      return false;
    // A create whose answer was lost may have run: running it again could duplicate the record.
    if (!call.idempotent && error instanceof OdooTransportError && !error.notProcessed)
      return false;
    return true;
  }

  async run<T>(call: GuardedCall, work: () => Promise<T>): Promise<T> {
    this.checkCircuit();
    this.stats.calls++;
    const retries = this.options.retries ?? 4;
    for (let attempt = 0; ; attempt++) {
      if (call.deadline?.aborted) throw new OdooDeadlineExceeded({ sent: false });
      await this.acquire();
      this.stats.attempts++;
      let outcome: { ok: true; value: T } | { ok: false; error: unknown };
      try {
        outcome = { ok: true, value: await work() };
      } catch (error) {
        outcome = { ok: false, error };
      } finally {
        this.release();
      }
      if (outcome.ok) {
        this.recordOutcome(undefined);
        return outcome.value;
      }
      const { error } = outcome;
      if (mayHaveRun(error)) call.unsettled?.();
      if (!this.mayRetry(error, call) || attempt >= retries) {
        this.recordOutcome(error);
        throw error;
      }
      const delay = this.backoff(attempt, error);
      if (call.endsAt !== undefined && this.now() + delay + LEAST_USEFUL_ATTEMPT_MS > call.endsAt) {
        this.recordOutcome(error);
        throw error;
      }
      this.stats.retries++;
      await this.wait(delay, call.deadline);
    }
  }

  /** How long calls are still refused because the circuit is open (0 once a trial may run). */
  pausedForMs(): number {
    return Math.max(0, this.openUntil - this.now());
  }

  private recordOutcome(error: unknown): void {
    // A deadline says nothing about Odoo's health: the trial, if this was one, is not settled.
    if (error instanceof OdooDeadlineExceeded) {
      this.trialRunning = false;
      return;
    }
    // Only failures that say Odoo is unwell count; a validation error is Odoo working fine.
    if (error instanceof OdooError && error.retryable && !(error instanceof OdooCircuitOpen)) {
      this.failures++;
      const threshold = this.options.breakerThreshold ?? 5;
      if (this.failures >= threshold || this.trialRunning) {
        this.openUntil = this.now() + (this.options.breakerOpenMs ?? 30_000);
      }
    } else {
      this.failures = 0;
      this.openUntil = 0;
    }
    this.trialRunning = false;
  }
}

const guards = new Map<string, OdooGuard>();

/**
 * How long this process is not to call Odoo: the longest any open circuit still refuses calls
 * (a Lambda container talks to one Odoo).
 */
export function odooPausedForMs(): number {
  let paused = 0;
  for (const guard of guards.values()) paused = Math.max(paused, guard.pausedForMs());
  return paused;
}

/** The guard of an Odoo URL, shared by every client in the process (one Lambda container). */
export function guardFor(url: string, options?: GuardOptions): OdooGuard {
  let guard = guards.get(url);
  if (!guard) {
    guard = new OdooGuard(url, options);
    guards.set(url, guard);
  }
  return guard;
}
