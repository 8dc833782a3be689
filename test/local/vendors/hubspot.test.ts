import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HubSpotEmulator, startHubSpotEmulator } from '../../../local/vendors/hubspot.ts';

const TOKEN = 'pat-na1-22222222-emulator';

const clock = Date.parse('2025-03-01T09:00:00.000Z');
let emulator: HubSpotEmulator;

beforeAll(async () => {
  emulator = await startHubSpotEmulator({
    token: TOKEN,
    now: () => clock,
    seed: [{ id: '51', properties: { email: 'seeded@example.com', favourite_colour: 'teal' } }],
  });
});
afterAll(() => emulator.stop());

async function call(
  path: string,
  init: {
    method?: string;
    body?: unknown;
    token?: string | null;
    headers?: Record<string, string>;
  } = {},
) {
  const response = await fetch(`${emulator.url}${path}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: {
      ...(init.token === null ? {} : { Authorization: `Bearer ${init.token ?? TOKEN}` }),
      ...(init.body === undefined ? {} : { 'Content-Type': 'application/json' }),
      ...init.headers,
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    // A gateway's 5xx is a page, not JSON.
    body: (response.headers.get('content-type')?.startsWith('application/json')
      ? JSON.parse(text)
      : undefined) as Record<string, unknown> & {
      results: Record<string, unknown>[];
      errors?: Record<string, unknown>[];
    },
  };
}

const batchRead = (ids: string[], properties: string[] = ['email'], query = '') =>
  call(`/crm/v3/objects/contacts/batch/read${query}`, {
    body: { inputs: ids.map((id) => ({ id })), properties, propertiesWithHistory: [] },
  });

describe('HubSpot emulator', () => {
  it('answers a batch read 200 with the asked properties and those HubSpot always adds', async () => {
    const answer = await batchRead(['51'], ['email', 'favourite_colour', 'no_such_property']);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ status: 'COMPLETE', startedAt: expect.any(String) });
    expect(answer.body.results).toEqual([
      {
        id: '51',
        properties: {
          createdate: '2025-03-01T09:00:00.000Z',
          email: 'seeded@example.com',
          favourite_colour: 'teal',
          hs_object_id: '51',
          lastmodifieddate: '2025-03-01T09:00:00.000Z',
        },
        createdAt: '2025-03-01T09:00:00.000Z',
        updatedAt: '2025-03-01T09:00:00.000Z',
        archived: false,
      },
    ]);
    const defaults = await batchRead(['51'], []);
    expect(Object.keys(defaults.body.results[0]?.properties as object)).toEqual([
      'createdate',
      'email',
      'firstname',
      'hs_object_id',
      'lastmodifieddate',
      'lastname',
    ]);
  });

  it('advances updatedAt on every change, even within one millisecond', () => {
    const created = emulator.contacts.create({ email: 'tick@example.com' });
    const first = emulator.contacts.update(created.id, { firstname: 'Tick' });
    const second = emulator.contacts.update(created.id, { firstname: 'Tock' });
    expect(Date.parse(created.updatedAt)).toBeLessThan(Date.parse(first.updatedAt));
    expect(Date.parse(first.updatedAt)).toBeLessThan(Date.parse(second.updatedAt));
    expect(second.properties.lastmodifieddate).toBe(second.updatedAt);
    expect(second.createdAt).toBe(created.createdAt);
  });

  it('answers 207 with OBJECT_NOT_FOUND for archived and unknown ids; archived=true reads only archived ones', async () => {
    const kept = emulator.contacts.create({ email: 'kept@example.com' });
    const gone = emulator.contacts.create({ email: 'gone@example.com' });
    emulator.contacts.archive(gone.id);

    const answer = await batchRead([kept.id, gone.id, '9999999']);
    expect(answer.status).toBe(207);
    expect(answer.body.results.map((r) => r.id)).toEqual([kept.id]);
    expect(answer.body).toMatchObject({
      numErrors: 1,
      errors: [
        {
          status: 'error',
          category: 'OBJECT_NOT_FOUND',
          context: { ids: [gone.id, '9999999'] },
        },
      ],
    });

    const archived = await batchRead([kept.id, gone.id], ['email'], '?archived=true');
    expect(archived.body.results).toEqual([
      expect.objectContaining({ id: gone.id, archived: true, archivedAt: expect.any(String) }),
    ]);
    expect((await call(`/crm/v3/objects/contacts/${gone.id}`)).status).toBe(404);

    emulator.contacts.restore(gone.id);
    expect((await batchRead([gone.id])).status).toBe(200);
  });

  it('answers a merged-away id with its survivor, in batch and single reads', async () => {
    const primary = emulator.contacts.create({ email: 'primary@example.com' });
    const first = emulator.contacts.create({ email: 'first@example.com', phone: '+32 2 555 01' });
    const second = emulator.contacts.create({ email: 'second@example.com' });
    emulator.contacts.merge(first.id, second.id);
    const merged = await call('/crm/v3/objects/contacts/merge', {
      body: { primaryObjectId: primary.id, objectIdToMerge: first.id },
    });
    expect(merged.status).toBe(200);

    const answer = await batchRead(
      [second.id, first.id],
      ['email', 'phone', 'hs_merged_object_ids'],
    );
    expect(answer.status).toBe(200);
    expect(answer.body.results).toEqual([
      expect.objectContaining({
        id: primary.id,
        properties: expect.objectContaining({
          email: 'primary@example.com',
          phone: '+32 2 555 01',
          hs_merged_object_ids: `${first.id};${second.id}`,
        }),
      }),
    ]);
    expect((await call(`/crm/v3/objects/contacts/${second.id}`)).body.id).toBe(primary.id);
  });

  it('refuses what HubSpot refuses: over 100 inputs, a body without its required lists, unknown properties, a taken e-mail', async () => {
    const many = await batchRead(Array.from({ length: 101 }, (_, i) => String(i)));
    expect(many.status).toBe(400);
    expect(many.body).toMatchObject({ category: 'VALIDATION_ERROR' });
    const partial = await call('/crm/v3/objects/contacts/batch/read', { body: { inputs: [] } });
    expect(partial.status).toBe(400);
    const unknown = await call('/crm/v3/objects/contacts', {
      body: { properties: { email: 'new@example.com', shoe_size: '44' } },
    });
    expect(unknown.status).toBe(400);
    expect(String(unknown.body.message)).toContain('PROPERTY_DOESNT_EXIST');
    const taken = await call('/crm/v3/objects/contacts', {
      body: { properties: { email: 'SEEDED@example.com' } },
    });
    expect(taken).toMatchObject({ status: 409, body: { category: 'CONFLICT' } });
    const untyped = await call('/crm/v3/objects/contacts', {
      method: 'POST',
      headers: {},
    });
    expect(untyped.body.message).toBe('Cannot parse content. No Content-Type defined.');
  });

  it("answers 401 with HubSpot's body for a wrong or missing token", async () => {
    for (const token of ['pat-na1-wrong', null]) {
      const answer = await call('/crm/v3/objects/contacts/51', { token });
      expect(answer.status).toBe(401);
      expect(answer.body).toMatchObject({
        status: 'error',
        category: 'INVALID_AUTHENTICATION',
        correlationId: expect.any(String),
      });
    }
  });
});

describe('HubSpot emulator rate limit', () => {
  it('counts a rolling 10 s window, says so in headers, and answers 429 TEN_SECONDLY_ROLLING when spent', async () => {
    let now = Date.parse('2025-03-01T10:00:00.000Z');
    const limited = await startHubSpotEmulator({
      token: TOKEN,
      now: () => now,
      rateLimit: { max: 3, intervalMs: 10_000 },
    });
    try {
      const get = () =>
        fetch(`${limited.url}/crm/v3/objects/contacts/1`, {
          headers: { Authorization: `Bearer ${TOKEN}` },
        });
      const remaining: (string | null)[] = [];
      for (let i = 0; i < 3; i++) {
        const answer = await get();
        remaining.push(answer.headers.get('x-hubspot-ratelimit-remaining'));
        expect(answer.headers.get('x-hubspot-ratelimit-interval-milliseconds')).toBe('10000');
        expect(answer.headers.get('x-hubspot-ratelimit-max')).toBe('3');
        now += 1000;
      }
      expect(remaining).toEqual(['2', '1', '0']);

      const refused = await get();
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('7');
      expect(await refused.json()).toMatchObject({
        status: 'error',
        errorType: 'RATE_LIMIT',
        policyName: 'TEN_SECONDLY_ROLLING',
        message: 'You have reached your ten_secondly_rolling limit.',
      });
      expect(limited.stats.throttled).toBe(1);

      now += 7000;
      expect((await get()).status).toBe(404);
    } finally {
      await limited.stop();
    }
  });
});

describe('HubSpot emulator faults', () => {
  it('injects the scripted faults first, then a seeded share that repeats with its seed', async () => {
    const statuses = async () => {
      const seen: number[] = [];
      for (let i = 0; i < 20; i++) seen.push((await batchRead(['51'])).status);
      return seen;
    };
    emulator.setFaults({ throttle: 0.3, serverErrorStatus: 500, seed: 7 });
    const first = await statuses();
    emulator.setFaults({ throttle: 0.3, serverErrorStatus: 500, seed: 7 });
    expect(await statuses()).toEqual(first);
    expect(first.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect(first.filter((s) => s === 200).length).toBeGreaterThan(10);

    emulator.setFaults({ next: ['server-error', 'throttle', 'drop'], serverErrorStatus: 503 });
    expect((await batchRead(['51'])).status).toBe(503);
    const throttled = await batchRead(['51']);
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('1');
    await expect(batchRead(['51'])).rejects.toThrow();
    expect((await batchRead(['51'])).status).toBe(200);
    expect(emulator.faults.injected).toEqual({ throttle: 1, 'server-error': 1, drop: 1 });
    emulator.setFaults({});
  });

  it('refuses an impossible plan', () => {
    expect(() => emulator.setFaults({ throttle: 0.7, drop: 0.5 })).toThrow(/add up to more than 1/);
  });
});
