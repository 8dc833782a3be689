/**
 * A Stripe customer with no name and no e-mail (Stripe allows both to be null), then its
 * payment, invoice and refund: every event lands, none is dead-lettered, all on one partner.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OdooClient } from '../../functions/odoo/client.ts';
import {
  type ApplyOutcome,
  applyEnvelopes,
  type SyncDependencies,
} from '../../functions/sync/apply.ts';
import { setUpReferenceData } from '../../local/odoo/reference-setup.ts';
import { type OdooEmulator, startOdooEmulator } from '../../local/odoo/server.ts';
import { MemoryLineageStore } from '../support/memory-lineage.ts';
import { integrationClient } from '../support/odoo.ts';
import { contractNamed, stripeFixtureEnvelope } from '../support/queued-events.ts';
import { syncDependencies } from '../support/sync.ts';

const CUSTOMER = 'cus_RdrHvYMPzaRkCn';

// What Stripe sends for a customer created with nothing but a payment method: no name, no
// e-mail, no phone, no address; the invoice copies the customer's empty name and e-mail.
const customer = () =>
  stripeFixtureEnvelope('stripe/customer.created', (c) => {
    Object.assign(c, { name: null, email: null, phone: null, address: null });
  });
const payment = () =>
  stripeFixtureEnvelope('stripe/payment_intent.succeeded', (p) => {
    p.receipt_email = null;
  });
const invoice = () =>
  stripeFixtureEnvelope('stripe/invoice.paid', (i) => {
    Object.assign(i, { customer_name: null, customer_email: null });
  });
const refund = () =>
  stripeFixtureEnvelope('stripe/charge.refunded', (ch) => {
    ch.receipt_email = null;
    ch.billing_details = { name: null, email: null, phone: null, address: null };
  });

let emulator: OdooEmulator;
let client: OdooClient;
let lineage: MemoryLineageStore;
let deps: SyncDependencies;

beforeEach(async () => {
  emulator = await startOdooEmulator();
  // The journal the refund is posted in, as a finance team sets it up.
  setUpReferenceData(
    emulator.orm,
    emulator.admin.uid,
    contractNamed('stripe.charge-refund').target.references,
  );
  client = await integrationClient(emulator);
  lineage = new MemoryLineageStore();
  deps = syncDependencies(client, lineage);
});
afterEach(() => emulator.stop());

const read = (model: string, fields: string[]) =>
  emulator.orm.call(2, model, 'search_read', [[], fields], {}) as Record<string, unknown>[];

/** The partner every record of the chain refers to, and that there is only one. */
function onePartnerForAll() {
  const partners = read('res.partner', ['name', 'email']).filter((p) =>
    String(p.name).startsWith('Stripe customer'),
  );
  expect(partners).toEqual([
    { id: expect.any(Number), name: `Stripe customer ${CUSTOMER}`, email: false },
  ]);
  const id = partners[0]?.id;
  const refersTo = (records: Record<string, unknown>[]) =>
    records.map((r) => (Array.isArray(r.partner_id) ? r.partner_id[0] : r.partner_id));
  expect(refersTo(read('account.payment', ['partner_id']))).toEqual([id, id]);
  // Posted payments have journal entries of their own (move_type entry): only the invoice here.
  const invoices = read('account.move', ['partner_id', 'move_type']).filter(
    (m) => m.move_type === 'out_invoice',
  );
  expect(refersTo(invoices)).toEqual([id]);
}

describe('a Stripe customer with no name and no e-mail, then its payments', () => {
  it('applies the customer, its payment, its invoice and its refund, one after the other', async () => {
    const outcomes: ApplyOutcome[] = [];
    for (const envelope of [customer(), payment(), invoice(), refund()])
      outcomes.push(...(await applyEnvelopes([envelope], deps)));
    expect(outcomes).toMatchObject([
      { kind: 'applied', model: 'res.partner', status: 'created' },
      { kind: 'applied', model: 'account.payment', status: 'created' },
      { kind: 'applied', model: 'account.move', status: 'created' },
      { kind: 'applied', model: 'account.payment', status: 'created' },
    ]);
    expect(lineage.entries.filter((e) => e.stage === 'failed')).toEqual([]);
    onePartnerForAll();
  });

  it('lands every event when the payments flow runs ahead of the customers flow', async () => {
    // The flows have queues of their own: the payments may be taken before the customer. What
    // fails then must be retried (back to the queue), never dead-lettered, and land afterwards.
    const first = await applyEnvelopes([payment(), invoice(), refund()], deps);
    const permanent = first.filter((o) => o.kind === 'failed' && !o.retryable);
    expect(permanent).toEqual([]);
    expect(await applyEnvelopes([customer()], deps)).toMatchObject([{ kind: 'applied' }]);
    const retried = [payment(), invoice(), refund()].filter((_, i) => first[i]?.kind === 'failed');
    // One by one, as the queue gives them back: a refund waits for its original payment, which
    // a batch applies only after resolving the refund's partner from it.
    const outcomes: ApplyOutcome[] = [];
    for (const envelope of retried) outcomes.push(...(await applyEnvelopes([envelope], deps)));
    expect(outcomes).toEqual(retried.map(() => expect.objectContaining({ kind: 'applied' })));
    expect(
      lineage.entries.filter((e) => e.stage === 'failed' && e.error?.retryable === false),
    ).toEqual([]);
    onePartnerForAll();
  });
});
