/**
 * Protects a vendor's API from Spine, and the invocation from a slow vendor: a cap on calls in
 * flight, a rate limit, retries of retryable failures with exponential backoff and full jitter,
 * the vendor's own pauses (`Retry-After`, HubSpot's rate-limit headers), a timeout per request,
 * and the invocation's deadline, past which nothing is started or waited for. One guard a
 * client; reads only, so every retryable failure may be retried.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  VendorDeadlineExceeded,
  VendorError,
  type VendorName,
  VendorRequestRefused,
  VendorThrottled,
  VendorUnavailable,
} from './errors.ts';

export interface VendorRateLimit {
  /** Calls allowed to start in any window of `intervalMs`. */
  readonly max: number;
  readonly intervalMs: number;
}

export interface VendorGuardOptions {
  /** Spine's share of the vendor's limit, per client (one Lambda container). */
  readonly rateLimit: VendorRateLimit;
  /** Requests in flight at once. @default 4 */
  readonly maxConcurrency?: number;
  /** Further attempts after the first, for retryable failures. @default 3 */
  readonly retries?: number;
  /** @default 200 */
  readonly baseDelayMs?: number;
  /** @default 5000 */
  readonly maxDelayMs?: number;
  /** How long one request may take, answer included. @default 10000 */
  readonly timeoutMs?: number;
  /**
   * How long to hold every further call after this answer, in milliseconds (HubSpot says its
   * window is spent in headers on any answer, not only on a 429).
   */
  readonly pauseAfter?: (answer: VendorAnswer) => number | undefined;
  /** Whether a retryable failure is worth retrying within the invocation. @default always */
  readonly mayRetry?: (error: VendorError) => boolean;
  /** For tests: the clock, the sleep and the dice. */
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

export interface VendorRequest {
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Sent as JSON. */
  readonly body?: unknown;
}

export interface VendorAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

export interface VendorCall {
  /** No attempt starts, and no pause is waited out, once it is aborted. */
  readonly deadline?: AbortSignal;
  /** When that deadline comes (epoch ms): a retry that could not finish before it is not made. */
  readonly endsAt?: number;
}

/** The least time worth giving a retried attempt: below it, the queue's retry does better. */
const LEAST_USEFUL_ATTEMPT_MS = 1000;

export class VendorGuard {
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];
  /** When each call in the current window started, oldest first. */
  private readonly started: number[] = [];
  private pausedUntil = 0;
  readonly stats = { calls: 0, throttled: 0, retries: 0 };

  constructor(
    readonly vendor: VendorName,
    private readonly options: VendorGuardOptions,
  ) {
    const { max, intervalMs } = options.rateLimit;
    if (!(max >= 1) || !(intervalMs > 0))
      throw new RangeError(
        `${vendor} rate limit must allow at least 1 call in an interval above 0 ms, got ${max} per ${intervalMs} ms`,
      );
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  private wait(ms: number, deadline: AbortSignal | undefined, atHand?: VendorError): Promise<void> {
    if (this.options.sleep) return this.options.sleep(ms);
    return sleep(ms, undefined, deadline ? { signal: deadline } : undefined).catch(() => {
      throw atHand ?? new VendorDeadlineExceeded(this.vendor, false);
    });
  }

  /**
   * Sends the request until it is answered with something `read` accepts, retrying retryable
   * failures; throws the last failure (a VendorError) when out of retries or time.
   */
  async send<T>(
    request: VendorRequest,
    call: VendorCall,
    read: (answer: VendorAnswer) => T,
  ): Promise<T> {
    const retries = this.options.retries ?? 3;
    let atHand: VendorError | undefined;
    for (let attempt = 0; ; attempt++) {
      // Running out of time before a call starts ends the read here, with the failure at hand.
      await this.enter(call, atHand);
      try {
        await this.admit(call, atHand);
      } catch (error) {
        this.leave();
        throw error;
      }
      let outcome: { ok: true; value: T } | { ok: false; error: unknown };
      try {
        this.stats.calls++;
        const answer = await this.fetch(request, call.deadline);
        const pause = this.options.pauseAfter?.(answer);
        if (pause !== undefined && pause > 0)
          this.pausedUntil = Math.max(this.pausedUntil, this.now() + pause);
        outcome = { ok: true, value: read(answer) };
      } catch (error) {
        outcome = { ok: false, error };
      } finally {
        this.leave();
      }
      if (outcome.ok) return outcome.value;
      const { error } = outcome;
      if (error instanceof VendorThrottled) {
        if (error.status === 429) this.stats.throttled++;
        if (error.retryAfterSeconds !== undefined)
          this.pausedUntil = Math.max(
            this.pausedUntil,
            this.now() + error.retryAfterSeconds * 1000,
          );
      }
      if (
        !(error instanceof VendorError) ||
        !error.retryable ||
        error instanceof VendorDeadlineExceeded ||
        !(this.options.mayRetry?.(error) ?? true) ||
        attempt >= retries
      )
        throw error;
      atHand = error;
      const delay = Math.max(this.backoff(attempt), this.pausedUntil - this.now());
      if (call.endsAt !== undefined && this.now() + delay + LEAST_USEFUL_ATTEMPT_MS > call.endsAt)
        throw error;
      this.stats.retries++;
      await this.wait(delay, call.deadline, error);
    }
  }

  private backoff(attempt: number): number {
    const base = this.options.baseDelayMs ?? 200;
    const cap = this.options.maxDelayMs ?? 5000;
    return (this.options.random ?? Math.random)() * Math.min(cap, base * 2 ** attempt);
  }

  private async enter(call: VendorCall, atHand: VendorError | undefined): Promise<void> {
    const max = this.options.maxConcurrency ?? 4;
    while (this.inFlight >= max) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.inFlight++;
    if (call.deadline?.aborted || (call.endsAt !== undefined && this.now() >= call.endsAt)) {
      this.leave();
      throw atHand ?? new VendorDeadlineExceeded(this.vendor, false);
    }
  }

  private leave(): void {
    this.inFlight--;
    this.waiting.shift()?.();
  }

  /** Waits for the vendor's pause to end and for room in the rate window, then takes a place. */
  private async admit(call: VendorCall, atHand: VendorError | undefined): Promise<void> {
    const { max, intervalMs } = this.options.rateLimit;
    for (;;) {
      const now = this.now();
      // A sliding window, not a refilling bucket: HubSpot counts any rolling 10 s, and a bucket
      // of 100 refilling over 10 s lets nearly 200 calls into one such window.
      while (this.started.length > 0 && (this.started[0] ?? 0) <= now - intervalMs)
        this.started.shift();
      const full = this.started.length >= max ? (this.started[0] ?? now) + intervalMs - now : 0;
      const wait = Math.max(full, this.pausedUntil - now);
      if (wait <= 0) {
        this.started.push(now);
        return;
      }
      if (call.deadline?.aborted) throw atHand ?? new VendorDeadlineExceeded(this.vendor, false);
      if (call.endsAt !== undefined && now + wait + LEAST_USEFUL_ATTEMPT_MS > call.endsAt)
        throw (
          atHand ??
          new VendorThrottled(
            this.vendor,
            `${this.vendor}'s rate limit holds further calls for ${Math.ceil(wait / 1000)} s, past the invocation's deadline`,
            { retryAfterSeconds: Math.ceil(wait / 1000) },
          )
        );
      await this.wait(wait, call.deadline, atHand);
    }
  }

  private async fetch(request: VendorRequest, deadline?: AbortSignal): Promise<VendorAnswer> {
    const timeoutMs = this.options.timeoutMs ?? 10_000;
    const timeout = AbortSignal.timeout(timeoutMs);
    try {
      const response = await fetch(request.url, {
        method: request.method,
        headers: {
          Accept: 'application/json',
          ...(request.body === undefined ? {} : { 'Content-Type': 'application/json' }),
          ...request.headers,
        },
        ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
        signal: deadline ? AbortSignal.any([timeout, deadline]) : timeout,
      });
      return { status: response.status, headers: response.headers, text: await response.text() };
    } catch (error) {
      if (deadline?.aborted && !timeout.aborted)
        throw new VendorDeadlineExceeded(this.vendor, true, { cause: error });
      const e = error as { name?: string; cause?: { code?: string } };
      throw new VendorUnavailable(
        this.vendor,
        timeout.aborted
          ? `no answer from ${this.vendor} within ${timeoutMs} ms`
          : `cannot reach ${this.vendor} at ${new URL(request.url).origin}: ${e.cause?.code ?? e.name ?? 'network error'}`,
        { cause: error },
      );
    }
  }
}

/** `Retry-After` in seconds (a number of seconds, or an HTTP date), when the vendor sent one. */
export function retryAfterSeconds(headers: Headers, now = Date.now()): number | undefined {
  const value = headers.get('retry-after');
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000));
}

/** The answer's JSON body, or undefined when it is not JSON. */
export function jsonOf(answer: VendorAnswer): unknown {
  try {
    return JSON.parse(answer.text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * The failure a status says, for the statuses every vendor means alike: 429 throttled, 5xx
 * unavailable; any other refused as malformed. Clients handle their own statuses first.
 */
export function errorFromStatus(
  vendor: VendorName,
  answer: VendorAnswer,
  details: { readonly vendorMessage?: string; readonly policy?: string } = {},
): VendorError {
  const said = details.vendorMessage ? `: ${details.vendorMessage}` : '';
  if (answer.status === 429)
    return new VendorThrottled(vendor, `${vendor} answered HTTP 429${said}`, {
      status: 429,
      ...details,
      retryAfterSeconds: retryAfterSeconds(answer.headers),
    });
  if (answer.status >= 500)
    return new VendorUnavailable(vendor, `${vendor} answered HTTP ${answer.status}${said}`, {
      status: answer.status,
      ...details,
    });
  return new VendorRequestRefused(
    vendor,
    `${vendor} refused the request: HTTP ${answer.status}${said}`,
    {
      status: answer.status,
      ...details,
    },
  );
}

/**
 * Runs `work` for each item, at most `limit` at once; after the first failure no further item
 * starts (a refused token would be refused for every one), and that failure is thrown.
 */
export async function forEachConcurrently<I>(
  items: readonly I[],
  limit: number,
  work: (item: I) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const item = items[next++] as I;
      try {
        await work(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
}
