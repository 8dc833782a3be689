import { createServer } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  VendorCredentialRefused,
  VendorDeadlineExceeded,
  VendorThrottled,
  VendorUnavailable,
} from '../../functions/enrich/errors.ts';
import { HubSpotContacts, type HubSpotContactsOptions } from '../../functions/enrich/hubspot.ts';
import type { FetchResult } from '../../functions/enrich/model.ts';
import { close, listen } from '../../local/listen.ts';
import { type HubSpotEmulator, startHubSpotEmulator } from '../../local/vendors/hubspot.ts';

const TOKEN = 'pat-na1-00000000-test';

/** A clock that sleeping advances, shared by the client and the emulator. */
function fakeTime() {
  let now = Date.parse('2025-03-01T09:00:00.000Z');
  const sleeps: number[] = [];
  return {
    now: () => now,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
    sleeps,
  };
}

let emulator: HubSpotEmulator;
let time: ReturnType<typeof fakeTime>;

beforeAll(async () => {
  time = fakeTime();
  emulator = await startHubSpotEmulator({ token: TOKEN, now: () => time.now() });
});
afterAll(() => emulator.stop());
afterEach(() => emulator.setFaults({}));

function client(options: Partial<HubSpotContactsOptions> = {}) {
  return new HubSpotContacts({
    token: TOKEN,
    baseUrl: emulator.url,
    secretName: 'spine/test/sources/hubspot',
    now: () => time.now(),
    sleep: (ms) => time.sleep(ms),
    random: () => 0.5,
    ...options,
  });
}

function found(result: FetchResult | undefined) {
  if (!result || !('found' in result))
    throw new Error(`expected found, got ${JSON.stringify(result)}`);
  return result.found;
}

describe('HubSpotContacts against the emulator', () => {
  it('reads 250 ids in 3 batch requests, each id answered with its record and updatedAt as version', async () => {
    const ids = Array.from(
      { length: 250 },
      (_, i) =>
        emulator.contacts.create({ email: `batch${i}@example.com`, firstname: `Batch ${i}` }).id,
    );
    const before = { ...emulator.stats };
    const reader = client();

    const results = await reader.read(ids, { properties: ['email', 'firstname'] });

    expect(emulator.stats.batchReads - before.batchReads).toBe(3);
    expect(emulator.stats.batchInputs - before.batchInputs).toBe(250);
    expect(reader.stats).toEqual({ calls: 3, throttled: 0, retries: 0 });
    expect(results.size).toBe(250);
    const first = found(results.get(ids[0] as string));
    expect(first.id).toBe(ids[0]);
    expect(first.object).toMatchObject({
      id: ids[0],
      archived: false,
      properties: {
        email: 'batch0@example.com',
        firstname: 'Batch 0',
        hs_object_id: ids[0],
        hs_merged_object_ids: null,
      },
    });
    expect(first.version).toBe(first.object.updatedAt);
    expect(new Date(first.version as string).toISOString()).toBe(first.version);
    expect(found(results.get(ids[249] as string)).object).toMatchObject({
      properties: { email: 'batch249@example.com' },
    });
  });

  it('answers a merged-away id with its survivor, and deleted or unknown ids as missing', async () => {
    const primary = emulator.contacts.create({ email: 'ada@example.com', firstname: 'Ada' });
    const absorbed = emulator.contacts.create({ email: 'ada.l@example.com', lastname: 'Lovelace' });
    const archived = emulator.contacts.create({ email: 'gone@example.com' });
    emulator.contacts.merge(primary.id, absorbed.id);
    emulator.contacts.archive(archived.id);

    const results = await client().read([primary.id, absorbed.id, archived.id, '99999999'], {
      properties: ['email', 'lastname'],
    });

    const survivor = found(results.get(primary.id));
    expect(found(results.get(absorbed.id))).toEqual(survivor);
    expect(survivor.id).toBe(primary.id);
    expect(survivor.object).toMatchObject({
      properties: {
        email: 'ada@example.com',
        lastname: 'Lovelace',
        hs_merged_object_ids: absorbed.id,
      },
    });
    expect(results.get(archived.id)).toEqual({
      missing: true,
      reason: expect.stringContaining('OBJECT_NOT_FOUND'),
    });
    expect(results.get('99999999')).toMatchObject({ missing: true });
  });

  it('waits as long as a 429 says in Retry-After, then reads', async () => {
    const { id } = emulator.contacts.create({ email: 'throttled@example.com' });
    emulator.setFaults({ next: ['throttle'], retryAfterSeconds: 3 });
    const reader = client();
    const slept = time.sleeps.length;

    const results = await reader.read([id]);

    expect(found(results.get(id)).id).toBe(id);
    expect(time.sleeps.slice(slept)).toEqual([3000]);
    expect(reader.stats).toEqual({ calls: 2, throttled: 1, retries: 1 });
  });

  it('holds the next call for the whole interval once HubSpot says the window is spent', async () => {
    const clock = fakeTime();
    const tight = await startHubSpotEmulator({
      token: TOKEN,
      now: clock.now,
      rateLimit: { max: 2, intervalMs: 10_000 },
    });
    try {
      const ids = Array.from({ length: 300 }, () => tight.contacts.create({}).id);
      const reader = new HubSpotContacts({
        token: TOKEN,
        baseUrl: tight.url,
        now: clock.now,
        sleep: clock.sleep,
        maxConcurrency: 1,
      });

      const results = await reader.read(ids);

      expect(results.size).toBe(300);
      // The second answer says 0 remaining: the third call waits the interval and is not refused.
      expect(clock.sleeps).toEqual([10_000]);
      expect(tight.stats.throttled).toBe(0);
      expect(reader.stats).toEqual({ calls: 3, throttled: 0, retries: 0 });
    } finally {
      await tight.stop();
    }
  });

  it('does not retry the spent daily quota within the invocation', async () => {
    const spent = await startHubSpotEmulator({ token: TOKEN, dailyLimit: 0 });
    try {
      const reader = new HubSpotContacts({ token: TOKEN, baseUrl: spent.url, sleep: time.sleep });
      const error = await reader.read(['1']).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(VendorThrottled);
      expect(error).toMatchObject({ policy: 'DAILY', retryable: true, code: 'vendor-throttled' });
      expect(reader.stats.calls).toBe(1);
    } finally {
      await spent.stop();
    }
  });

  it('refuses a wrong token for good, naming the secret to fix', async () => {
    const reader = client({ token: 'pat-na1-wrong' });
    const error = await reader.read(['1']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VendorCredentialRefused);
    expect(error).toMatchObject({
      retryable: false,
      status: 401,
      code: 'vendor-credential-refused',
    });
    expect((error as Error).message).toMatch(
      /^HubSpot refused the token in spine\/test\/sources\/hubspot: store a private app token with the crm\.objects\.contacts\.read scope/,
    );
    expect(reader.stats.calls).toBe(1);
  });

  it('reads the token from a function on each read, so a rotated secret is picked up', async () => {
    let token = 'pat-na1-old';
    const reader = client({ token: () => token });
    await expect(reader.read(['1'])).rejects.toBeInstanceOf(VendorCredentialRefused);
    token = TOKEN;
    await expect(reader.read(['1'])).resolves.toBeInstanceOf(Map);
  });

  it('retries 5xx answers with backoff, then gives up with VendorUnavailable', async () => {
    emulator.setFaults({ serverError: 1, serverErrorStatus: 502 });
    const reader = client();
    const slept = time.sleeps.length;

    const error = await reader.read(['1']).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(VendorUnavailable);
    expect(error).toMatchObject({ retryable: true, status: 502 });
    // Full jitter at 0.5 of 200 ms × 2^n: 100, 200, 400.
    expect(time.sleeps.slice(slept)).toEqual([100, 200, 400]);
    expect(reader.stats).toEqual({ calls: 4, throttled: 0, retries: 3 });
  });

  it('retries a dropped connection, then reads', async () => {
    const { id } = emulator.contacts.create({ email: 'dropped@example.com' });
    emulator.setFaults({ next: ['drop'] });
    const reader = client();
    expect(found((await reader.read([id])).get(id)).id).toBe(id);
    expect(reader.stats.retries).toBe(1);
  });

  it('makes no retry that could not finish before endsAt, and throws the failure at hand', async () => {
    emulator.setFaults({ serverError: 1, serverErrorStatus: 503 });
    const reader = client();

    const error = await reader.read(['1'], { endsAt: time.now() + 500 }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(VendorUnavailable);
    expect(reader.stats).toEqual({ calls: 1, throttled: 0, retries: 0 });
  });

  it('does not wait out a Retry-After that passes endsAt', async () => {
    emulator.setFaults({ next: ['throttle'], retryAfterSeconds: 30 });
    const reader = client();
    const error = await reader
      .read(['1'], { endsAt: time.now() + 20_000 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VendorThrottled);
    expect(error).toMatchObject({ retryAfterSeconds: 30, status: 429 });
    expect(reader.stats).toEqual({ calls: 1, throttled: 1, retries: 0 });
  });

  it('abandons a read in flight when the deadline aborts, and starts none after it', async () => {
    emulator.setFaults({ latencyMs: 2000 });
    const deadline = new AbortController();
    const started = performance.now();
    setTimeout(() => deadline.abort(), 100);

    const error = await client()
      .read(['1'], { deadline: deadline.signal })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(VendorDeadlineExceeded);
    expect((error as Error).message).toMatch(/while HubSpot was answering/);
    expect(performance.now() - started).toBeLessThan(1500);

    const requests = emulator.stats.requests;
    const again = await client()
      .read(['1'], { deadline: deadline.signal })
      .catch((e: unknown) => e);
    expect(again).toBeInstanceOf(VendorDeadlineExceeded);
    expect(emulator.stats.requests).toBe(requests);
  });
});

describe('HubSpotContacts against answers the emulator does not give', () => {
  it('answers an id HubSpot neither returned nor refused as missing', async () => {
    const server = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ status: 'COMPLETE', results: [], startedAt: '', completedAt: '' }));
    });
    const port = await listen(server, 0, '127.0.0.1');
    try {
      const reader = new HubSpotContacts({ token: TOKEN, baseUrl: `http://127.0.0.1:${port}` });
      expect((await reader.read(['7'])).get('7')).toEqual({
        missing: true,
        reason: 'HubSpot did not answer for it',
      });
    } finally {
      await close(server);
    }
  });

  it('refuses for good an answer that is not HubSpot JSON', async () => {
    const server = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<html>captive portal</html>');
    });
    const port = await listen(server, 0, '127.0.0.1');
    try {
      const reader = new HubSpotContacts({ token: TOKEN, baseUrl: `http://127.0.0.1:${port}` });
      await expect(reader.read(['7'])).rejects.toMatchObject({
        code: 'vendor-answer-unreadable',
        retryable: false,
      });
      expect(reader.stats.calls).toBe(1);
    } finally {
      await close(server);
    }
  });
});
