import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VendorThrottled, VendorUnavailable } from '../../functions/enrich/errors.ts';
import {
  errorFromStatus,
  retryAfterSeconds,
  type VendorAnswer,
  VendorGuard,
  type VendorGuardOptions,
} from '../../functions/enrich/vendor-guard.ts';
import { close, listen } from '../../local/listen.ts';

/** Answers each request with the next scripted status (200 once the script is done). */
let server: Server;
let url: string;
const script: { status: number; headers?: Record<string, string> }[] = [];
const hits: number[] = [];
let clock = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    hits.push(clock);
    const next = script.shift() ?? { status: 200 };
    res.writeHead(next.status, { 'Content-Type': 'application/json', ...next.headers });
    res.end('{}');
  });
  url = `http://127.0.0.1:${await listen(server, 0, '127.0.0.1')}`;
});
afterAll(() => close(server));

function guard(options: Partial<VendorGuardOptions> = {}) {
  clock = 1_000_000;
  hits.length = 0;
  script.length = 0;
  const sleeps: number[] = [];
  const g = new VendorGuard('HubSpot', {
    rateLimit: { max: 100, intervalMs: 10_000 },
    now: () => clock,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
    random: () => 0.5,
    ...options,
  });
  return { guard: g, sleeps };
}

/** Any status but 200 is turned into the error every vendor means by it. */
const read = (answer: VendorAnswer) => {
  if (answer.status !== 200) throw errorFromStatus('HubSpot', answer);
  return answer.status;
};
const request = () => ({ method: 'GET' as const, url, headers: {} });

describe('VendorGuard', () => {
  it('lets no more than `max` calls start in any rolling interval', async () => {
    const { guard: g, sleeps } = guard({ rateLimit: { max: 3, intervalMs: 1000 } });
    for (let i = 0; i < 7; i++) await g.send(request(), {}, read);
    const t0 = 1_000_000;
    expect(hits).toEqual([t0, t0, t0, t0 + 1000, t0 + 1000, t0 + 1000, t0 + 2000]);
    expect(sleeps).toEqual([1000, 1000]);
  });

  it('caps the backoff at maxDelayMs', async () => {
    const { guard: g, sleeps } = guard({ retries: 6, maxDelayMs: 1000, random: () => 1 });
    script.push(...Array.from({ length: 7 }, () => ({ status: 503 })));
    await expect(g.send(request(), {}, read)).rejects.toBeInstanceOf(VendorUnavailable);
    expect(sleeps).toEqual([200, 400, 800, 1000, 1000, 1000]);
  });

  it('waits out a Retry-After, then backs off as usual', async () => {
    const { guard: g, sleeps } = guard();
    script.push({ status: 429, headers: { 'Retry-After': '4' } }, { status: 429 });
    await g.send(request(), {}, read);
    expect(sleeps).toEqual([4000, 200]);
    expect(g.stats).toEqual({ calls: 3, throttled: 2, retries: 2 });
  });

  it('holds the next call too, not only the refused one, for a Retry-After', async () => {
    const { guard: g, sleeps } = guard({ retries: 0 });
    script.push({ status: 429, headers: { 'Retry-After': '4' } });
    await expect(g.send(request(), {}, read)).rejects.toBeInstanceOf(VendorThrottled);
    await g.send(request(), {}, read);
    expect(sleeps).toEqual([4000]);
    expect(hits).toEqual([1_000_000, 1_004_000]);
  });

  it('does not wait for its own rate limit past endsAt: throttled, no call made', async () => {
    const { guard: g } = guard({ rateLimit: { max: 1, intervalMs: 10_000 } });
    await g.send(request(), {}, read);
    const error = await g.send(request(), { endsAt: clock + 5000 }, read).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VendorThrottled);
    expect(error).toMatchObject({ retryAfterSeconds: 10 });
    expect(hits).toHaveLength(1);
  });

  it('refuses a rate limit that allows nothing', () => {
    expect(() => new VendorGuard('Stripe', { rateLimit: { max: 0, intervalMs: 1000 } })).toThrow(
      /at least 1 call/,
    );
  });
});

describe('retryAfterSeconds', () => {
  it('reads seconds and HTTP dates, and nothing else', () => {
    const now = Date.parse('2025-03-01T09:00:00Z');
    const headers = (value: string) => new Headers({ 'Retry-After': value });
    expect(retryAfterSeconds(headers('7'), now)).toBe(7);
    expect(retryAfterSeconds(headers('Sat, 01 Mar 2025 09:00:30 GMT'), now)).toBe(30);
    expect(retryAfterSeconds(headers('soon'), now)).toBeUndefined();
    expect(retryAfterSeconds(new Headers(), now)).toBeUndefined();
  });
});
