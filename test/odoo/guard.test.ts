import { describe, expect, it } from 'vitest';
import {
  OdooCircuitOpen,
  OdooLockError,
  OdooTransportError,
  OdooValidationError,
} from '../../functions/odoo/errors/index.ts';
import { OdooGuard } from '../../functions/odoo/guard.ts';

/** A guard on a fake clock: sleeping advances time instead of waiting. */
function fakeGuard(options: ConstructorParameters<typeof OdooGuard>[1] = {}) {
  let now = 0;
  const sleeps: number[] = [];
  const guard = new OdooGuard('http://odoo.test', {
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
    random: () => 0.5,
    ...options,
  });
  return { guard, sleeps, advance: (ms: number) => (now += ms), time: () => now };
}

const lock = () => new OdooLockError('lock', {});

describe('OdooGuard', () => {
  it('retries retryable errors with exponential backoff and full jitter', async () => {
    const { guard, sleeps } = fakeGuard({ baseDelayMs: 100, maxDelayMs: 1000, retries: 5 });
    let attempts = 0;
    const result = await guard.run({ idempotent: true }, async () => {
      if (++attempts < 6) throw lock();
      return 'done';
    });
    expect(result).toBe('done');
    // random() = 0.5 of min(cap, base × 2^attempt): 50, 100, 200, 400, 500 (capped at 1000).
    expect(sleeps).toEqual([50, 100, 200, 400, 500]);
  });

  it('never retries a permanent error', async () => {
    const { guard } = fakeGuard();
    let attempts = 0;
    await expect(
      guard.run({ idempotent: true }, async () => {
        attempts++;
        throw new OdooValidationError('bad', {});
      }),
    ).rejects.toBeInstanceOf(OdooValidationError);
    expect(attempts).toBe(1);
  });

  it('waits at least as long as Retry-After asks', async () => {
    const { guard, sleeps } = fakeGuard({ retries: 1 });
    await expect(
      guard.run({ idempotent: true }, async () => {
        throw new OdooTransportError('429', {
          status: 429,
          retryAfterMs: 7000,
          notProcessed: true,
        });
      }),
    ).rejects.toBeInstanceOf(OdooTransportError);
    expect(sleeps).toEqual([7000]);
  });

  it('retries a non-idempotent call only when Odoo surely did not run it', async () => {
    const { guard } = fakeGuard();
    let attempts = 0;
    const lost = () =>
      guard.run({ idempotent: false }, async () => {
        attempts++;
        throw new OdooTransportError('no answer', { notProcessed: false });
      });
    await expect(lost()).rejects.toBeInstanceOf(OdooTransportError);
    expect(attempts).toBe(1);
    attempts = 0;
    await expect(
      guard.run({ idempotent: false }, async () => {
        if (++attempts < 2)
          throw new OdooTransportError('503', { status: 503, notProcessed: true });
        return 'ok';
      }),
    ).resolves.toBe('ok');
  });

  it('keeps at most maxConcurrency calls in flight', async () => {
    const { guard } = fakeGuard({ maxConcurrency: 2, ratePerSecond: 1000 });
    let inFlight = 0;
    let peak = 0;
    const release: (() => void)[] = [];
    const calls = Array.from({ length: 5 }, () =>
      guard.run({ idempotent: true }, async () => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise<void>((resolve) => release.push(resolve));
        inFlight--;
      }),
    );
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setImmediate(r));
      release.shift()?.();
    }
    await Promise.all(calls);
    expect(peak).toBe(2);
  });

  it('spaces calls by the token-bucket rate once the burst is spent', async () => {
    const { guard, sleeps } = fakeGuard({ ratePerSecond: 10, burst: 2 });
    for (let i = 0; i < 4; i++) await guard.run({ idempotent: true }, async () => i);
    expect(sleeps).toEqual([100, 100]);
  });

  it('opens after sustained failures, refuses calls while open, and lets one trial through after the pause', async () => {
    const { guard, advance } = fakeGuard({ retries: 0, breakerThreshold: 3, breakerOpenMs: 5000 });
    for (let i = 0; i < 3; i++)
      await expect(
        guard.run({ idempotent: true }, async () => Promise.reject(lock())),
      ).rejects.toBeInstanceOf(OdooLockError);
    const refused = await guard.run({ idempotent: true }, async () => 'x').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OdooCircuitOpen);
    expect(refused).toMatchObject({ retryable: true, failures: 3, retryAfterMs: 5000 });
    advance(5000);
    // A failed trial opens the circuit again at once.
    await expect(
      guard.run({ idempotent: true }, async () => Promise.reject(lock())),
    ).rejects.toBeInstanceOf(OdooLockError);
    await expect(guard.run({ idempotent: true }, async () => 'x')).rejects.toBeInstanceOf(
      OdooCircuitOpen,
    );
    advance(5000);
    await expect(guard.run({ idempotent: true }, async () => 'back')).resolves.toBe('back');
    await expect(guard.run({ idempotent: true }, async () => 'still')).resolves.toBe('still');
  });

  it('makes no retry that the invocation could not finish: the queue retries it later', async () => {
    const { guard, sleeps, time } = fakeGuard({ baseDelayMs: 1000, maxDelayMs: 8000, retries: 4 });
    let attempts = 0;
    // 3.5 s left: retries after 0.5 s and 1 s fit; a third, after 2 s, would leave under a second.
    await expect(
      guard.run({ idempotent: true, endsAt: 3500 }, async () => {
        attempts++;
        throw lock();
      }),
    ).rejects.toBeInstanceOf(OdooLockError);
    expect(sleeps).toEqual([500, 1000]);
    expect(attempts).toBe(3);
    expect(time()).toBe(1500);
  });

  it('tells how long its open circuit still refuses calls', async () => {
    const { guard, advance } = fakeGuard({
      breakerThreshold: 1,
      breakerOpenMs: 30_000,
      retries: 0,
    });
    expect(guard.pausedForMs()).toBe(0);
    await expect(
      guard.run({ idempotent: true }, async () => Promise.reject(lock())),
    ).rejects.toBeInstanceOf(OdooLockError);
    expect(guard.pausedForMs()).toBe(30_000);
    advance(29_000);
    expect(guard.pausedForMs()).toBe(1000);
    advance(1000);
    expect(guard.pausedForMs()).toBe(0);
  });
});
