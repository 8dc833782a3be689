/**
 * Exactly once under faults, one mechanism a test: one record per natural key (in a batch and
 * across invocations running side by side), no blind repeat of a write that adds order lines,
 * versions that only move forward past a deadline, and denials reported in `load`'s row messages
 * retried like raised ones.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadContractRegistry } from '../../functions/contracts/index.ts';
import type { Envelope } from '../../functions/ingest/envelope.ts';
import { parseEventJson } from '../../functions/ingest/event-json.ts';
import { OdooClient } from '../../functions/odoo/client.ts';
import { OdooAccessDenied, OdooLockError } from '../../functions/odoo/errors/index.ts';
import { upsertByExternalId } from '../../functions/odoo/upsert.ts';
import {
  type ApplyOutcome,
  applyEnvelopes,
  type Deadline,
  type SyncDependencies,
} from '../../functions/sync/apply.ts';
import { applyThroughRotation } from '../../functions/sync/rotation-safe-apply.ts';
import { type OdooEmulator, startOdooEmulator } from '../../local/odoo/server.ts';
import { loadFixture } from '../support/fixtures.ts';
import { MemoryLineageStore } from '../support/memory-lineage.ts';
import { integrationClient } from '../support/odoo.ts';
import { type OdooProxy, startOdooProxy } from '../support/odoo-proxy.ts';
import { contractNamed, queuedEnvelope, stripeCustomerEvent } from '../support/queued-events.ts';
import { syncDependencies } from '../support/sync.ts';

const registry = loadContractRegistry();
let emulator: OdooEmulator;
let proxy: OdooProxy;
let lineage: MemoryLineageStore;

/** A client through the proxy, with quick retries, as one invocation's worker holds it. */
async function proxiedClient(): Promise<OdooClient> {
  return OdooClient.connect({
    url: proxy.url,
    database: emulator.database,
    login: emulator.integration.login,
    secret: emulator.integration.password,
    guard: { ratePerSecond: 10_000, baseDelayMs: 1, maxDelayMs: 5, maxConcurrency: 8 },
  });
}

/** A deadline `ms` from now, as the worker sets one from Lambda's remaining time. */
function deadlineIn(ms: number): Deadline {
  return { at: new Date(Date.now() + ms), signal: AbortSignal.timeout(ms) };
}

let directClient: OdooClient;
const integrationClientFor = () => directClient;

function depsWith(client: OdooClient, extra: Partial<SyncDependencies> = {}): SyncDependencies {
  return syncDependencies(client, lineage, extra);
}

function stripeCustomer(
  id: string,
  email: string,
  at: string,
  name = 'Ada Lovelace',
  customer = `cus_${id}`,
): Envelope {
  return stripeCustomerEvent(id, at, { id: customer, email, name });
}

function shopifyCustomer(id: string, email: string): Envelope {
  const event = parseEventJson(loadFixture('shopify/customers-create').raw) as Record<
    string,
    unknown
  >;
  event.id = id;
  event.email = email;
  return queuedEnvelope(contractNamed('shopify.customer'), event, {
    id: `shopify-${id}`,
    subject: id,
    type: 'customers/create',
    time: '2025-01-27T15:15:02.000Z',
  });
}

function shopifyGuestOrder(id: string, email: string): Envelope {
  const event = parseEventJson(loadFixture('shopify/orders-create').raw) as Record<string, unknown>;
  event.id = id;
  event.email = email;
  event.contact_email = email;
  event.customer = null;
  return queuedEnvelope(contractNamed('shopify.order'), event, {
    id: `order-${id}`,
    subject: id,
    type: 'orders/create',
    time: '2025-01-27T15:20:00.000Z',
  });
}

/** Reads as the admin (uid 2), outside HTTP and faults. */
const read = (model: string, domain: unknown[], fields: string[]) =>
  emulator.orm.call(2, model, 'search_read', [domain, fields], {
    context: { active_test: false },
  }) as Record<string, unknown>[];

const partnersWithEmail = async (email: string) =>
  read('res.partner', [], ['email', 'name']).filter(
    (r) => typeof r.email === 'string' && r.email.trim().toLowerCase() === email,
  );

beforeEach(async () => {
  emulator = await startOdooEmulator({ referenceData: registry.reference });
  proxy = await startOdooProxy(emulator.url);
  lineage = new MemoryLineageStore();
  directClient = await integrationClient(emulator);
});
afterEach(async () => {
  await proxy.stop();
  await emulator.stop();
});

describe('one record per natural key', () => {
  it('creates one partner for one e-mail arriving twice in one batch, from two vendors', async () => {
    const client = await integrationClient(emulator);
    const outcomes = await applyEnvelopes(
      [
        stripeCustomer('evt_nk_batch', 'Grace@Example.com', '2025-02-01T10:00:00.000Z'),
        shopifyCustomer('7001', ' grace@example.com'),
      ],
      depsWith(client),
    );
    expect(outcomes.map((o) => o.kind)).toEqual(['applied', 'applied']);
    const partners = await partnersWithEmail('grace@example.com');
    expect(partners).toHaveLength(1);
    const ids = outcomes.map((o) => (o as Extract<ApplyOutcome, { kind: 'applied' }>).recordId);
    expect(new Set(ids).size).toBe(1);
  });

  it('creates one partner when two invocations create the same person side by side', async () => {
    // Both searches run before either creation commits: only a lock on the e-mail keeps them apart.
    proxy.rule({ method: 'load', delayMs: 150 });
    const [a, b] = [await proxiedClient(), await proxiedClient()];
    const first = await Promise.all([
      applyEnvelopes(
        [stripeCustomer('evt_nk_side_a', 'hopper@example.com', '2025-02-01T10:00:00.000Z')],
        depsWith(a),
      ),
      applyEnvelopes([shopifyCustomer('7002', 'Hopper@example.com ')], depsWith(b)),
    ]);
    proxy.rule(undefined);
    // The one that lost the race is retried (a batch item failure) and links to the winner's.
    const retried = await Promise.all(
      first.map(async ([outcome], i) =>
        outcome?.kind === 'failed' && outcome.retryable
          ? (
              await applyEnvelopes(
                [
                  i === 0
                    ? stripeCustomer(
                        'evt_nk_side_a',
                        'hopper@example.com',
                        '2025-02-01T10:00:00.000Z',
                      )
                    : shopifyCustomer('7002', 'Hopper@example.com '),
                ],
                depsWith(await integrationClient(emulator)),
              )
            )[0]
          : outcome,
      ),
    );
    expect(retried.map((o) => o?.kind)).toEqual(['applied', 'applied']);
    expect(await partnersWithEmail('hopper@example.com')).toHaveLength(1);
  });

  it('creates one buyer for two guest orders by one new buyer in two invocations', async () => {
    proxy.rule({ method: 'load', delayMs: 150 });
    const [a, b] = [await proxiedClient(), await proxiedClient()];
    const orders = [
      shopifyGuestOrder('9001', 'guest@example.com'),
      shopifyGuestOrder('9002', 'Guest@Example.com'),
    ];
    const first = await Promise.all(
      orders.map((o, i) => applyEnvelopes([o], depsWith([a, b][i] as OdooClient))),
    );
    proxy.rule(undefined);
    for (const [i, [outcome]] of first.entries())
      if (outcome?.kind === 'failed')
        await applyEnvelopes([orders[i] as Envelope], depsWith(await integrationClient(emulator)));
    expect(await partnersWithEmail('guest@example.com')).toHaveLength(1);
  });
});

describe('no blind repeat of a write that adds lines', () => {
  it('never sends an order again after its answer was lost, so its lines stay as sent', async () => {
    const client = await proxiedClient();
    const order = shopifyGuestOrder('9100', 'lines@example.com');
    // Odoo commits the order with its lines; the answer never arrives.
    proxy.rule({ method: 'load', model: 'sale.order', dropAnswer: true, times: 1 });
    const limits = { odooRequestLimitMs: 100 };
    const [lost] = await applyEnvelopes([order], depsWith(client, limits), {
      deadline: deadlineIn(5_000),
    });
    proxy.rule(undefined);
    expect(lost).toMatchObject({ kind: 'failed', retryable: true });
    const [committed] = read('sale.order', [], ['order_line']) as { order_line: number[] }[];
    const sent = committed?.order_line.length ?? 0;
    expect(sent).toBeGreaterThanOrEqual(
      (order.data as { line_items: unknown[] }).line_items.length,
    );
    // Its claim stays until Odoo has surely finished that write, so the retry waits for it.
    const retry = () =>
      applyEnvelopes([order], depsWith(integrationClientFor(), limits), {
        deadline: deadlineIn(5_000),
      });
    expect((await retry())[0]).toMatchObject({ kind: 'failed', error: { code: 'entity-busy' } });
    await sleep(5_200);
    // Then the event is retried from its queue: the order is found, and no line is added.
    const [again] = await retry();
    expect(again).toMatchObject({ kind: 'applied' });
    const orders = read('sale.order', [], ['order_line']) as { order_line: number[] }[];
    expect(orders).toHaveLength(1);
    expect(orders[0]?.order_line).toHaveLength(sent);
  });
});

describe('no blind repeat of a creation', () => {
  it('never sends a creation again after its answer was lost, so a later writer keeps its value', async () => {
    const client = await proxiedClient();
    proxy.rule({ method: 'load', model: 'res.partner', dropAnswer: true, times: 1 });
    await expect(
      upsertByExternalId(client, 'res.partner', [
        {
          externalId: 'created_once',
          values: { name: 'As Created', city: 'Lyon' },
          createOnly: ['name'],
        },
      ]),
    ).rejects.toMatchObject({ retryable: true });
    proxy.rule(undefined);
    // Sent again, the load would have updated the partner it had just created, name included:
    // the event is retried from its queue instead, and finds the partner.
    expect(proxy.forwarded.get('load')).toBe(1);
    expect(read('res.partner', [['city', '=', 'Lyon']], ['name'])).toEqual([
      expect.objectContaining({ name: 'As Created' }),
    ]);
  });
});

describe('versions only move forward', () => {
  it('lets no retry or newer event in while a write sent before the deadline may still land', async () => {
    const older = stripeCustomer(
      'evt_v1',
      'turing@example.com',
      '2025-02-01T10:00:00.000Z',
      'A. Turing',
      'cus_turing',
    );
    const newer = stripeCustomer(
      'evt_v2',
      'turing@example.com',
      '2025-02-01T10:05:00.000Z',
      'Alan Turing',
      'cus_turing',
    );
    const create = await applyEnvelopes([older], depsWith(directClient));
    expect(create[0]).toMatchObject({ kind: 'applied' });
    // An update sent to a stalled Odoo: the invocation gives up at its deadline, Odoo commits later.
    const limits = { odooRequestLimitMs: 1_500 };
    const zombie = { ...older, data: withCity(older, 'Nantes') };
    proxy.rule({ method: 'load', model: 'res.partner', delayMs: 700, times: 1 });
    const [timedOut] = await applyEnvelopes([zombie], depsWith(await proxiedClient(), limits), {
      deadline: deadlineIn(300),
    });
    expect(timedOut).toMatchObject({
      kind: 'failed',
      retryable: true,
      error: { code: 'deadline' },
    });
    // Its retry and a newer event wait: the late write may still commit.
    const update = { ...newer, data: withCity(newer, 'Grenoble') };
    const waiting = await applyEnvelopes([zombie, update], depsWith(directClient, limits));
    expect(waiting.map((o) => o.kind)).toEqual(['skipped-stale', 'failed']);
    expect(waiting[1]).toMatchObject({ error: { code: 'entity-busy' } });
    await sleep(2_000);
    expect(proxy.forwarded.get('load')).toBe(1);
    const [applied] = await applyEnvelopes([update], depsWith(directClient, limits));
    expect(applied).toMatchObject({ kind: 'applied' });
    expect(read('res.partner', [['email', '=', 'turing@example.com']], ['city'])).toEqual([
      expect.objectContaining({ city: 'Grenoble' }),
    ]);
    expect(await lineage.entityState('stripe.customer', 'cus_turing')).toEqual({
      occurredAt: '2025-02-01T10:05:00.000Z',
      eventId: 'evt_v2',
    });
  });

  /** The event's customer with another city. */
  function withCity(envelope: Envelope, city: string) {
    const data = structuredClone(envelope.data) as {
      data: { object: { address?: Record<string, unknown> } };
    };
    data.data.object.address = { ...data.data.object.address, city };
    return data;
  }
});

describe('a denial reported in a row of load', () => {
  it('is an access denial, retried through a credential rotation, and never dead-lettered', async () => {
    const client = await proxiedClient();
    proxy.rule({
      method: 'load',
      skip: true,
      times: 1,
      answer: {
        ids: false,
        messages: [
          { type: 'error', message: 'Access Denied', record: 0, rows: { from: 0, to: 0 } },
        ],
      },
    });
    let refreshed = 0;
    const outcomes = await applyThroughRotation(
      [stripeCustomer('evt_denied', 'denied@example.com', '2025-02-01T10:00:00.000Z')],
      depsWith(client),
      {
        refresh: async () => {
          refreshed++;
          return true;
        },
        rotating: async () => false,
        usePending: async () => false,
      },
    );
    expect(refreshed).toBe(1);
    expect(outcomes).toEqual([expect.objectContaining({ kind: 'applied', status: 'created' })]);
    expect(lineage.entries.filter((e) => e.stage === 'failed')).toEqual([]);
  });

  it('classifies row messages by what they say: denial, lock, access, validation', async () => {
    const client = await proxiedClient();
    const cases: [string, unknown][] = [
      ['Access Denied', OdooAccessDenied],
      ['could not serialize access due to concurrent update', OdooLockError],
    ];
    for (const [message, kind] of cases) {
      proxy.rule({
        method: 'load',
        skip: true,
        answer: { ids: false, messages: [{ type: 'error', message, record: 0 }] },
      });
      const [result] = await upsertByExternalId(client, 'res.partner', [
        { externalId: `row_${message.length}`, values: { name: 'Row' } },
      ]);
      expect(result?.error).toBeInstanceOf(kind as typeof OdooLockError);
    }
  });
});
