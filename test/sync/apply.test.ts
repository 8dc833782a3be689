import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  loadContractRegistry,
  minimise,
  readLocator,
  readLocatorString,
  toEpochMillis,
} from '../../functions/contracts/index.ts';
import { RelationNotFound } from '../../functions/errors/index.ts';
import type { Envelope } from '../../functions/ingest/envelope.ts';
import { parseEventJson } from '../../functions/ingest/event-json.ts';
import type { OdooClient } from '../../functions/odoo/client.ts';
import { applyEnvelopes, type SyncDependencies } from '../../functions/sync/apply.ts';
import { setUpReferenceData } from '../../local/odoo/reference-setup.ts';
import { type OdooEmulator, startOdooEmulator } from '../../local/odoo/server.ts';
import { loadFixture } from '../support/fixtures.ts';
import { MemoryLineageStore } from '../support/memory-lineage.ts';
import { integrationClient } from '../support/odoo.ts';
import { syncDependencies } from '../support/sync.ts';

const registry = loadContractRegistry();
let emulator: OdooEmulator;
let lineage: MemoryLineageStore;
let deps: SyncDependencies;
let client: OdooClient;
const warnings: Record<string, unknown>[] = [];

/** The envelopes the receiver would queue for a fixture. */
function envelopes(name: string, edit: (raw: string) => string = (r) => r): Envelope[] {
  const fixture = loadFixture(name);
  const profile = registry.source(fixture.source);
  const body = parseEventJson(edit(fixture.raw));
  const events = profile?.batch === 'array' ? (body as unknown[]) : [body];
  return events.map((event) => {
    const delivery = { event, headers: fixture.headers };
    const contract = registry.route(
      fixture.source,
      String(readLocator(profile?.eventType as never, delivery)),
    );
    if (!contract) throw new Error(`no contract for ${name}`);
    return {
      specversion: '1.0',
      id: readLocatorString(contract.source.eventId, delivery) as string,
      source: `/webhooks/${fixture.source}`,
      type: String(readLocator(contract.source.eventType, delivery)),
      time: new Date(
        toEpochMillis(readLocator(contract.source.occurredAt, delivery)) as number,
      ).toISOString(),
      subject: readLocatorString(contract.source.entityKey, delivery) as string,
      datacontenttype: 'application/json',
      spinecontract: `${contract.id}@${contract.version}`,
      spineflow: contract.flow,
      spinesource: fixture.source,
      correlationid: 'test',
      spinereceivedat: new Date().toISOString(),
      spinereplaycount: 0,
      data: minimise(contract.shape, event),
    } satisfies Envelope;
  });
}

beforeEach(async () => {
  emulator = await startOdooEmulator({ referenceData: registry.reference });
  lineage = new MemoryLineageStore();
  warnings.length = 0;
  client = await integrationClient(emulator);
  deps = syncDependencies(client, lineage, {
    logger: { info: () => {}, warn: (_, fields = {}) => warnings.push(fields), error: () => {} },
  });
});
afterEach(() => emulator.stop());

/** A refund of the fixture's charge: its own event id, time and cumulative amount refunded. */
function refund(id: string, created: number, amountRefunded: number): Envelope {
  const [envelope] = envelopes('stripe/charge.refunded', (raw) =>
    raw
      .replace('"id": "evt_3QkZKfLkdIwHu7ix1Q9ZbT0A"', `"id": "${id}"`)
      .replace('"created": 1738058890', `"created": ${created}`)
      .replace('"amount_refunded": 4900', `"amount_refunded": ${amountRefunded}`),
  );
  return envelope as Envelope;
}

/** What a refund of the fixture's charge needs in Odoo: its journal, its original payment and payer. */
async function refundable(): Promise<void> {
  const references = registry.contract('stripe.charge-refund')?.target.references ?? {};
  setUpReferenceData(emulator.orm, emulator.admin.uid, references);
  await applyEnvelopes(envelopes('stripe/customer.created'), deps);
  await applyEnvelopes(envelopes('stripe/payment_intent.succeeded'), deps);
}

const refundedAmounts = () =>
  (
    emulator.orm.call(
      2,
      'account.payment',
      'search_read',
      [[['payment_reference', '=', 'ch_3QkZCxLkdIwHu7ix0sYQ4m2d']], ['amount']],
      {},
    ) as { amount: number }[]
  ).map((p) => p.amount);

/** Resolves once the Odoo emulator has started answering a call made after `before`. */
async function odooCalled(before: number): Promise<void> {
  while (client.stats.attempts <= before) await sleep(5);
}

const partner = (email: string) =>
  emulator.orm.call(
    2,
    'res.partner',
    'search_read',
    [[['email', '=ilike', email]], ['name', 'city', 'phone']],
    {},
  ) as Record<string, unknown>[];

describe('applyEnvelopes', () => {
  it('never writes an older event over a newer one for the same entity (stale guard)', async () => {
    const [updated] = envelopes('stripe/customer.updated');
    const [created] = envelopes('stripe/customer.created');
    expect(await applyEnvelopes([updated as Envelope], deps)).toMatchObject([
      { kind: 'applied', status: 'created' },
    ]);
    expect(await applyEnvelopes([created as Envelope], deps)).toEqual([
      { kind: 'skipped-stale', newer: 'evt_1QkZAqLkdIwHu7ixmFBuZ3rY' },
    ]);
    expect(partner('camille.durand@example.com')).toMatchObject([{ city: 'Villeurbanne' }]);
    expect(lineage.entries.map((e) => e.stage)).toEqual(['applied', 'skipped-stale']);
  });

  it('keeps fields another system owns when updating, and sets them on create', async () => {
    await applyEnvelopes(envelopes('stripe/customer.created'), deps);
    await applyEnvelopes(envelopes('stripe/customer.updated'), deps);
    // Stripe may set the name only on create: the CRM owns it afterwards.
    expect(partner('camille.durand@example.com')).toMatchObject([
      { name: 'Camille Durand', city: 'Villeurbanne' },
    ]);
  });

  it('retries a payment whose customer has not arrived yet, and applies it once it has', async () => {
    const [payment] = envelopes('stripe/payment_intent.succeeded');
    const [first] = await applyEnvelopes([payment as Envelope], deps);
    expect(first).toMatchObject({ kind: 'failed', retryable: true });
    expect((first as { error: Error }).error).toBeInstanceOf(RelationNotFound);
    await applyEnvelopes(envelopes('stripe/customer.created'), deps);
    expect(await applyEnvelopes([payment as Envelope], deps)).toMatchObject([
      { kind: 'applied', model: 'account.payment', status: 'created' },
    ]);
  });

  it('fails permanently on reference data Odoo does not have, naming it', async () => {
    const [event] = envelopes('shopify/customers-create', (raw) =>
      raw.replaceAll('"country_code":"US"', '"country_code":"XX"'),
    );
    const [outcome] = await applyEnvelopes([event as Envelope], deps);
    expect(outcome).toMatchObject({ kind: 'failed', retryable: false });
    // The key, never its value: values are often personal, and messages reach lineage and logs.
    expect((outcome as { error: Error }).error.message).toBe(
      'no res.country record for the given code',
    );
    expect(lineage.entries.at(-1)).toMatchObject({
      stage: 'failed',
      error: { code: 'relation-not-found', retryable: false },
    });
  });

  it('applies a batch of many events with one upsert per model', async () => {
    const batch = [
      ...envelopes('stripe/customer.created'),
      ...envelopes('shopify/customers-create'),
      ...envelopes('clerk/user.created'),
    ];
    const outcomes = await applyEnvelopes(batch, deps);
    expect(outcomes.map((o) => o.kind)).toEqual(['applied', 'applied', 'applied']);
    expect(new Set(outcomes.map((o) => (o as { recordId: number }).recordId)).size).toBe(3);
  });

  it('applies only the newest of two changes to one entity in a batch, whatever their order', async () => {
    await refundable();
    const newer = refund('evt_refund_newer', 1738059000, 1500);
    const older = refund('evt_refund_older', 1738058900, 500);
    expect(await applyEnvelopes([newer, older], deps)).toMatchObject([
      { kind: 'applied', model: 'account.payment' },
      { kind: 'skipped-stale', newer: 'evt_refund_newer' },
    ]);
    expect(refundedAmounts()).toEqual([15]);
  });

  it('skips an older change that arrives while a newer one is still being written to Odoo', async () => {
    await refundable();
    emulator.faults.set({ latencyMs: 40 });
    const before = client.stats.attempts;
    const writingNewer = applyEnvelopes([refund('evt_refund_newer', 1738059000, 1500)], deps);
    await odooCalled(before);
    const older = await applyEnvelopes([refund('evt_refund_older', 1738058900, 500)], deps);
    expect(await writingNewer).toMatchObject([{ kind: 'applied' }]);
    expect(older).toEqual([{ kind: 'skipped-stale', newer: 'evt_refund_newer' }]);
    expect(refundedAmounts()).toEqual([15]);
  });

  it('holds back a newer change while an older one is being written, then applies it over it', async () => {
    await refundable();
    emulator.faults.set({ latencyMs: 40 });
    const before = client.stats.attempts;
    const newer = refund('evt_refund_newer', 1738059000, 1500);
    const writingOlder = applyEnvelopes([refund('evt_refund_older', 1738058900, 500)], deps);
    await odooCalled(before);
    const [held] = await applyEnvelopes([newer], deps);
    expect(held).toMatchObject({ kind: 'failed', retryable: true });
    expect(await writingOlder).toMatchObject([{ kind: 'applied' }]);
    // The retry, once the older write is over.
    expect(await applyEnvelopes([newer], deps)).toMatchObject([{ kind: 'applied' }]);
    expect(refundedAmounts()).toEqual([15]);
  });

  it('lets an event whose Odoo write failed claim its entity again when it is retried', async () => {
    await refundable();
    const newer = refund('evt_refund_newer', 1738059000, 1500);
    emulator.faults.set({ failWrites: ['account.payment'], failWritesAs: 'validation' });
    expect(await applyEnvelopes([newer], deps)).toMatchObject([{ kind: 'failed' }]);
    emulator.faults.set({});
    expect(await applyEnvelopes([newer], deps)).toMatchObject([{ kind: 'applied' }]);
    // The failed attempt still counts as the newest change: an older one does not slip in.
    expect(await applyEnvelopes([refund('evt_refund_older', 1738058900, 500)], deps)).toEqual([
      { kind: 'skipped-stale', newer: 'evt_refund_newer' },
    ]);
    expect(refundedAmounts()).toEqual([15]);
  });

  it('applies HubSpot changes as the contact fetched, a late one skipped once a newer one wrote it', async () => {
    await applyEnvelopes(envelopes('shopify/customers-create'), deps);
    const [email, jobtitle, phone] = envelopes('hubspot/contact-propertyChange');
    expect(await applyEnvelopes([email as Envelope], deps)).toMatchObject([{ kind: 'applied' }]);
    expect(await applyEnvelopes([phone as Envelope], deps)).toMatchObject([{ kind: 'applied' }]);
    // Each wrote the whole contact as fetched, at one version: the job title's change is older.
    expect(await applyEnvelopes([jobtitle as Envelope], deps)).toEqual([
      { kind: 'skipped-stale', newer: '2871246-3876125543-51-1738082712001' },
    ]);
    expect(
      emulator.orm.call(
        2,
        'res.partner',
        'search_read',
        [[['email', '=ilike', 'bob.norman@example.com']], ['function', 'phone']],
        {},
      ),
    ).toMatchObject([{ function: 'Head of Purchasing', phone: '+1 613 555 0177' }]);
  });

  it('creates the partner of a Shopify guest checkout, found by e-mail on the next order', async () => {
    const guest = (raw: string, id: string) =>
      raw
        .replace(
          /"customer":\{.*?"admin_graphql_api_id":"gid:\/\/shopify\/Customer\/\d+"\}/,
          '"customer":null',
        )
        .replaceAll('bob.norman@example.com', 'gina.guest@example.com')
        .replaceAll('"first_name":"Robert"', '"first_name":"Gina"')
        .replaceAll('"last_name":"Norman"', '"last_name":"Guest"')
        .replace('"id":820982911946154508', `"id":${id}`);
    const [first] = envelopes('shopify/orders-create', (raw) => guest(raw, '820982911946154601'));
    const [second] = envelopes('shopify/orders-create', (raw) => guest(raw, '820982911946154602'));
    expect((first as Envelope).data).toMatchObject({ customer: null });
    expect(await applyEnvelopes([first as Envelope], deps)).toMatchObject([
      { kind: 'applied', model: 'sale.order', status: 'created' },
    ]);
    expect(await applyEnvelopes([second as Envelope], deps)).toMatchObject([
      { kind: 'applied', model: 'sale.order', status: 'created' },
    ]);
    const partners = emulator.orm.call(
      2,
      'res.partner',
      'search_read',
      [[['email', '=ilike', 'gina.guest@example.com']], ['name']],
      {},
    ) as { id: number; name: string }[];
    expect(partners).toEqual([{ id: expect.any(Number), name: 'Gina Guest' }]);
    const orders = emulator.orm.call(
      2,
      'sale.order',
      'search_read',
      [[['partner_id', '=', partners[0]?.id]], ['client_order_ref']],
      {},
    ) as unknown[];
    expect(orders).toHaveLength(2);
  });

  it('shows the records an event created or refers to in their timelines', async () => {
    await applyEnvelopes(envelopes('shopify/customers-create'), deps);
    const [order] = await applyEnvelopes(envelopes('shopify/orders-create'), deps);
    expect(order).toMatchObject({ kind: 'applied', model: 'sale.order' });
    const [bob] = partner('bob.norman@example.com') as { id: number }[];
    const partnerTimeline = await lineage.byRecord('res.partner', bob?.id as number);
    expect(partnerTimeline.map((e) => [e.eventType, e.stage])).toEqual([
      ['customers/create', 'applied'],
      ['orders/create', 'related'],
    ]);
    const [product] = emulator.orm.call(
      2,
      'product.product',
      'search_read',
      [[['default_code', '=', 'IPOD2008GREEN']], ['id']],
      {},
    ) as { id: number }[];
    expect(await lineage.byRecord('product.product', product?.id as number)).toMatchObject([
      { eventType: 'orders/create', stage: 'related', outcome: 'created' },
    ]);
  });

  it('logs each failed event with its own correlation id, in a batch of several deliveries', async () => {
    const [payment] = envelopes('stripe/payment_intent.succeeded');
    const [other] = envelopes('stripe/payment_intent.succeeded', (raw) =>
      raw
        .replace('"id": "evt_3QkZCxLkdIwHu7ix0Wm4yJtF"', '"id": "evt_3QkZCxLkdIwHu7ix0Wm4yJtG"')
        .replace('"id": "pi_3QkZCxLkdIwHu7ix0a8GzK1P"', '"id": "pi_3QkZCxLkdIwHu7ix0a8GzK1Q"'),
    );
    await applyEnvelopes(
      [
        { ...(payment as Envelope), correlationid: 'corr-F-2' },
        { ...(other as Envelope), correlationid: 'corr-F-3' },
      ],
      deps,
    );
    expect(warnings.map((w) => [w.eventId, w.correlationId])).toEqual([
      ['evt_3QkZCxLkdIwHu7ix0Wm4yJtF', 'corr-F-2'],
      ['evt_3QkZCxLkdIwHu7ix0Wm4yJtG', 'corr-F-3'],
    ]);
  });
});
