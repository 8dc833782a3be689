/**
 * Reconciliation of values, not only counts: each field the newest applied event of an entity
 * wrote, against what Odoo holds, through the fingerprints lineage keeps instead of the values.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadContractRegistry } from '../../functions/contracts/index.ts';
import type { Envelope } from '../../functions/ingest/envelope.ts';
import type { OdooClient } from '../../functions/odoo/client.ts';
import { fieldFingerprint } from '../../functions/reconcile/fingerprint.ts';
import { reconcileContractDay } from '../../functions/reconcile/reconcile.ts';
import { applyEnvelopes, type SyncDependencies } from '../../functions/sync/apply.ts';
import { type OdooEmulator, startOdooEmulator } from '../../local/odoo/server.ts';
import { loadFixture } from '../support/fixtures.ts';
import { MemoryLineageStore } from '../support/memory-lineage.ts';
import { integrationClient } from '../support/odoo.ts';
import { contractNamed, queuedEnvelope, stripeCustomerEvent } from '../support/queued-events.ts';
import { syncDependencies } from '../support/sync.ts';

const registry = loadContractRegistry();
const customers = contractNamed('stripe.customer');
const fingerprint = fieldFingerprint({ secret: Buffer.from('a redaction key for the tests') });
const CUSTOMER = 'cus_values';
const EXTERNAL_ID = `spine.stripe_customer_${CUSTOMER}`;

let emulator: OdooEmulator;
let client: OdooClient;
let lineage: MemoryLineageStore;

function deps(store = lineage): SyncDependencies {
  return syncDependencies(client, store, { fingerprint });
}

/** A Stripe customer event for one customer, as the receiver queues it. */
function customerEvent(
  id: string,
  at: string,
  address: { city: string; email: string; phone?: string },
): Envelope {
  return stripeCustomerEvent(id, at, {
    id: CUSTOMER,
    email: address.email,
    ...(address.phone ? { phone: address.phone } : {}),
    address: { city: address.city },
  });
}

const older = customerEvent('evt_values_older', '2025-02-03T09:00:00Z', {
  city: 'Lyon',
  email: 'camille.old@example.com',
});
const newer = customerEvent('evt_values_newer', '2025-02-03T10:00:00Z', {
  city: 'Grenoble',
  email: 'camille.new@example.com',
});

async function apply(envelopes: Envelope[], store = lineage) {
  const outcomes = await applyEnvelopes(envelopes, deps(store));
  expect(outcomes.map((o) => o.kind)).toEqual(envelopes.map(() => 'applied'));
  return outcomes;
}

const partnerId = async () => {
  const [record] = await client.searchRead(
    'res.partner',
    [['email', 'in', ['camille.old@example.com', 'camille.new@example.com']]],
    { fields: ['id'] },
  );
  return Number(record?.id);
};

/** A write in Odoo that Spine did not make (a person, or a late write of an older event). */
const writeInOdoo = async (values: Record<string, unknown>) =>
  emulator.orm.call(2, 'res.partner', 'write', [[await partnerId()], values], {});

const reconcile = (day = '2025-02-03') =>
  reconcileContractDay(customers, day, { lineage, odoo: client, fingerprint });

beforeEach(async () => {
  emulator = await startOdooEmulator({ referenceData: registry.reference });
  client = await integrationClient(emulator);
  lineage = new MemoryLineageStore();
});
afterEach(() => emulator.stop());

describe('reconciliation of values', () => {
  it('finds a clean run ok, every field compared with the newest event', async () => {
    await apply([older]);
    await apply([newer]);
    const applied = lineage.entries.find(
      (e) => e.stage === 'applied' && e.eventId === 'evt_values_newer',
    );
    // Create-only fields (name, phone, customer_rank) belong to someone else after creation.
    expect(Object.keys(applied?.written ?? {}).sort()).toEqual([
      'city',
      'country_id',
      'email',
      'street',
      'street2',
      'zip',
    ]);
    const report = await reconcile();
    expect(report).toMatchObject({
      ok: true,
      values: { checked: 1, unchecked: 0 },
      valueDifferences: [],
    });
  });

  it("reports a stale overwrite with the newest event's id and the field, never the values", async () => {
    await apply([older]);
    await apply([newer]);
    await writeInOdoo({ city: 'Lyon', email: 'camille.old@example.com' });
    const report = await reconcile();
    expect(report.ok).toBe(false);
    expect(report.valueDifferences).toEqual(
      ['city', 'email'].map((field) => ({
        externalId: EXTERNAL_ID,
        recordId: expect.any(Number),
        eventId: 'evt_values_newer',
        field,
        kind: 'value',
      })),
    );
    const text = JSON.stringify(report);
    for (const value of ['camille.old@example.com', 'camille.new@example.com', 'Lyon', 'Grenoble'])
      expect(text).not.toContain(value);
  });

  it('takes the newest event by when it happened, not by when it was applied', async () => {
    await apply([newer]);
    // A worker past its timeout whose write of the older event lands after the newer one: it
    // no longer holds the entity, its write reaches Odoo and its entry reaches lineage.
    const zombie = new MemoryLineageStore();
    await apply([older], zombie);
    lineage.entries.push(...zombie.entries.filter((e) => e.stage === 'applied'));
    const report = await reconcile();
    expect(report.ok).toBe(false);
    expect(report.valueDifferences.map((d) => [d.eventId, d.field])).toEqual([
      ['evt_values_newer', 'city'],
      ['evt_values_newer', 'email'],
    ]);
  });

  it('does not report a create-only field changed in Odoo', async () => {
    await apply([older]);
    await apply([newer]);
    await writeInOdoo({ name: 'Camille D.', phone: '+33 4 00 00 00 00' });
    expect(await reconcile()).toMatchObject({
      ok: true,
      values: { checked: 1, unchecked: 0 },
      valueDifferences: [],
    });
  });

  it('checks an entity whose newest event is on another day on that day, not twice', async () => {
    const nextDay = customerEvent('evt_values_next_day', '2025-02-04T08:00:00Z', {
      city: 'Annecy',
      email: 'camille.new@example.com',
    });
    await apply([newer]);
    await apply([nextDay]);
    expect((await reconcile('2025-02-03')).ok).toBe(true);
    expect((await reconcile('2025-02-04')).ok).toBe(true);
    await writeInOdoo({ city: 'Grenoble' });
    expect((await reconcile('2025-02-03')).valueDifferences).toEqual([]);
    expect((await reconcile('2025-02-04')).valueDifferences).toEqual([
      expect.objectContaining({ eventId: 'evt_values_next_day', field: 'city' }),
    ]);
  });

  it('finds a payment and an invoice clean: amounts, dates, selections and relations compared', async () => {
    const fixture = (name: string, contract: string) => {
      const event = JSON.parse(loadFixture(name).raw) as {
        id: string;
        type: string;
        created: number;
        data: { object: { id: string } };
      };
      return queuedEnvelope(contractNamed(contract), event, {
        id: event.id,
        subject: event.data.object.id,
        type: event.type,
        time: new Date(event.created * 1000).toISOString(),
      });
    };
    await apply([fixture('stripe/customer.created', 'stripe.customer')]);
    await apply([
      fixture('stripe/payment_intent.succeeded', 'stripe.payment-intent'),
      fixture('stripe/payment_intent.succeeded.invoice', 'stripe.payment-intent'),
      fixture('stripe/invoice.paid', 'stripe.invoice-paid'),
    ]);
    for (const [contract, day] of [
      ['stripe.payment-intent', '2025-01-27'],
      ['stripe.invoice-paid', '2025-01-29'],
    ] as const) {
      const report = await reconcileContractDay(contractNamed(contract), day, {
        lineage,
        odoo: client,
        fingerprint,
      });
      expect(report, contract).toMatchObject({
        ok: true,
        values: { checked: 1, unchecked: 0 },
        valueDifferences: [],
      });
    }
  });

  it('counts a record applied without fingerprints as unchecked, rather than comparing it', async () => {
    await applyEnvelopes([older], { ...deps(), fingerprint: undefined });
    await writeInOdoo({ city: 'Grenoble' });
    expect(await reconcile()).toMatchObject({
      ok: true,
      values: { checked: 0, unchecked: 1 },
      valueDifferences: [],
    });
  });

  it("takes a later write by another contract to the same record as that contract's value, not drift", async () => {
    await apply([older]);
    // The same person from Shopify, linked by e-mail: it writes the partner's city after Stripe.
    const shopify = JSON.parse(
      loadFixture('shopify/customers-create').raw.replace(/:(\d{16,})/g, ':"$1"'),
    ) as Record<string, unknown> & { default_address: Record<string, unknown> };
    shopify.email = 'camille.old@example.com';
    shopify.default_address = { ...shopify.default_address, city: 'Annecy' };
    shopify.addresses = [shopify.default_address];
    const linked = queuedEnvelope(contractNamed('shopify.customer'), shopify, {
      id: 'shopify-values-linked',
      subject: String(shopify.id),
      type: 'customers/update',
      time: '2025-02-03T11:00:00.000Z',
    });
    await apply([linked]);
    expect(await reconcile()).toMatchObject({ ok: true, valueDifferences: [] });
    // A person's change afterwards is still drift, against the contract that wrote the field.
    await writeInOdoo({ street2: 'changed by hand' });
    expect((await reconcile()).valueDifferences).toEqual([
      expect.objectContaining({ field: 'street2', eventId: 'evt_values_older' }),
    ]);
  });
});
