/**
 * Refunds close against their original, against the Odoo emulator: a Shopify refund lands as a
 * posted outbound payment with its order's partner, in its gateway's journal; a Stripe refund of
 * an invoiced charge ends with the invoice paid, its credit note paid by the refund, and the
 * refund payment reconciled. A refund before its original fails retryably, naming it, with
 * nothing posted, and lands once the original has; a replay changes nothing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { loadContractRegistry } from '../../functions/contracts/index.ts';
import {
  OriginalNotPosted,
  RefundOutgrown,
  RelationNotFound,
} from '../../functions/errors/index.ts';
import type { Envelope } from '../../functions/ingest/envelope.ts';
import {
  type ApplyOutcome,
  applyEnvelopes,
  type SyncDependencies,
} from '../../functions/sync/apply.ts';
import { type OdooEmulator, startOdooEmulator } from '../../local/odoo/server.ts';
import { MemoryLineageStore } from '../support/memory-lineage.ts';
import { integrationClient } from '../support/odoo.ts';
import { fixtureEnvelope, stripeFixtureEnvelope } from '../support/queued-events.ts';
import { syncDependencies } from '../support/sync.ts';

const registry = loadContractRegistry();
const ORDER_ID = '820982911946154508';
const CHARGE = 'ch_3QkZCxLkdIwHu7ix0sYQ4m2d';
const INVOICE = 'in_1QkaPzLkdIwHu7ixW3hJ8sRq';
const PAYMENT = 'pi_3QkZCxLkdIwHu7ix0a8GzK1P';

type Version = 16 | 17 | 18 | 19;
let emulator: OdooEmulator | undefined;
let lineage: MemoryLineageStore;
let deps: SyncDependencies;

/** An emulated Odoo set up as a finance team would (journals, taxes, pricelists, products). */
async function start(version: Version) {
  emulator = await startOdooEmulator({ version, referenceData: registry.reference });
  lineage = new MemoryLineageStore();
  const client = await integrationClient(emulator);
  deps = syncDependencies(client, lineage);
}
afterEach(async () => {
  await emulator?.stop();
  emulator = undefined;
});

const apply = (...envelopes: Envelope[]): Promise<ApplyOutcome[]> =>
  applyEnvelopes(envelopes, deps);

const odoo = (model: string, domain: unknown[], fields: string[]) =>
  emulator?.orm.call(2, model, 'search_read', [domain, fields], {}) as Record<string, unknown>[];

/** The record under a Spine external id, or undefined. */
function bySpineId(model: string, name: string, fields: string[]) {
  const [data] = odoo(
    'ir.model.data',
    [
      ['module', '=', 'spine'],
      ['name', '=', name],
    ],
    ['res_id'],
  );
  return data ? odoo(model, [['id', '=', data.res_id]], fields)[0] : undefined;
}

const id = (value: unknown) => (Array.isArray(value) ? value[0] : value);

const stages = (stage: 'posted' | 'reconciled', eventId?: string) =>
  lineage.entries
    .filter((e) => e.stage === stage && (eventId === undefined || e.eventId === eventId))
    .map((e) => ({ eventId: e.eventId, model: e.model, recordId: e.recordId }));

const order = () => fixtureEnvelope('shopify/orders-create');
const shopifyRefund = () => fixtureEnvelope('shopify/refunds-create');
const theShopifyRefund = () =>
  bySpineId('account.payment', 'shopify_refund_929361464', [
    'state',
    'payment_type',
    'amount',
    'partner_id',
    'journal_id',
    'is_reconciled',
  ]);

/** Posted, matched with nothing: 16/17 `posted`, 18/19 `in_process` (no bank statement yet). */
const postedUnmatched = (version: Version) => (version >= 18 ? 'in_process' : 'posted');

describe.each([16, 17, 18, 19] as const)('Shopify refunds/create on Odoo %i', (version) => {
  it("lands as a posted outbound payment with its order's partner, in its gateway's journal", async () => {
    await start(version);
    await apply(order());
    const theOrder = bySpineId('sale.order', `shopify_order_${ORDER_ID}`, ['partner_id']);
    expect(id(theOrder?.partner_id)).toEqual(expect.any(Number));

    const refund = shopifyRefund();
    expect(await apply(refund)).toMatchObject([{ kind: 'applied', model: 'account.payment' }]);

    const [journal] = odoo('account.journal', [['code', '=', 'SHUSD']], ['id']);
    expect(theShopifyRefund()).toMatchObject({
      state: postedUnmatched(version),
      payment_type: 'outbound',
      amount: 3.98,
      is_reconciled: false,
    });
    expect(id(theShopifyRefund()?.partner_id)).toBe(id(theOrder?.partner_id));
    expect(id(theShopifyRefund()?.journal_id)).toBe(journal?.id);
    expect(stages('posted', refund.id)).toEqual([
      { eventId: refund.id, model: 'account.payment', recordId: theShopifyRefund()?.id },
    ]);
  });

  it('before its order: fails retryably naming the order, writes nothing, then lands once the order has', async () => {
    await start(version);
    const refund = shopifyRefund();
    const [early] = await apply(refund);

    expect(early).toMatchObject({ kind: 'failed', retryable: true });
    const error = (early as { error: Error }).error;
    expect(error).toBeInstanceOf(RelationNotFound);
    expect(error.message).toContain(`spine.shopify_order_${ORDER_ID}`);
    expect(error.message).toContain('spine.shopify_refund_929361464');
    expect(theShopifyRefund()).toBeUndefined();
    expect(lineage.entries.filter((e) => e.eventId === refund.id)).toEqual([
      expect.objectContaining({
        stage: 'failed',
        error: expect.objectContaining({ code: 'relation-not-found', retryable: true }),
      }),
    ]);

    await apply(order());
    expect(await apply(refund)).toMatchObject([{ kind: 'applied', status: 'created' }]);
    expect(theShopifyRefund()).toMatchObject({ state: postedUnmatched(version), amount: 3.98 });
  });

  it('a replay changes nothing: no second payment, no second posting', async () => {
    await start(version);
    await apply(order());
    const refund = shopifyRefund();
    await apply(refund);
    const before = theShopifyRefund();

    expect(await apply(shopifyRefund())).toMatchObject([{ kind: 'applied', status: 'unchanged' }]);
    expect(await apply(shopifyRefund())).toMatchObject([{ kind: 'applied', status: 'unchanged' }]);

    expect(theShopifyRefund()).toEqual(before);
    expect(odoo('account.payment', [['payment_type', '=', 'outbound']], ['id'])).toHaveLength(1);
    expect(stages('posted', refund.id)).toHaveLength(1);
    expect(lineage.entries.filter((e) => e.eventId === refund.id && e.stage === 'failed')).toEqual(
      [],
    );
  });
});

// ---- Stripe ---------------------------------------------------------------------------------

const customer = () => stripeFixtureEnvelope('stripe/customer.created');
/** The fixture invoice (238.00 EUR), paid by the PaymentIntent below. */
const invoice = (edit: (object: Record<string, unknown>) => void = () => {}) =>
  stripeFixtureEnvelope('stripe/invoice.paid', (object) => {
    object.payment_intent = PAYMENT;
    edit(object);
  });
const payment = () =>
  stripeFixtureEnvelope('stripe/payment_intent.succeeded', (object) => {
    Object.assign(object, { amount: 23_800, amount_received: 23_800, invoice: INVOICE });
  });
/** 49.00 of the 238.00 charge refunded (cumulative), on the invoice it paid. */
const stripeRefund = (
  refunded = 4_900,
  edit: (object: Record<string, unknown>) => void = () => {},
) =>
  stripeFixtureEnvelope('stripe/charge.refunded', (object) => {
    Object.assign(object, {
      amount: 23_800,
      amount_captured: 23_800,
      amount_refunded: refunded,
      invoice: INVOICE,
    });
    edit(object);
  });

const theRefund = () =>
  bySpineId('account.payment', `stripe_charge_refund_${CHARGE}`, [
    'state',
    'payment_type',
    'amount',
    'partner_id',
    'journal_id',
    'is_reconciled',
  ]);
const theCreditNote = () =>
  bySpineId('account.move', `stripe_charge_refund_${CHARGE}_credit_note`, [
    'move_type',
    'state',
    'partner_id',
    'reversed_entry_id',
    'amount_total',
    'amount_residual',
    'payment_state',
  ]);
const theInvoice = () =>
  bySpineId('account.move', `stripe_invoice_${INVOICE}`, [
    'state',
    'partner_id',
    'amount_residual',
    'payment_state',
  ]);
const theOriginal = () =>
  bySpineId('account.payment', `stripe_payment_${PAYMENT}`, ['state', 'partner_id']);
const partials = () => odoo('account.partial.reconcile', [], ['amount']);

/** The refund, its credit note and the invoice, as Odoo shows the money returned. */
function expectClosedAgainstTheInvoice(version: Version) {
  const [journal] = odoo('account.journal', [['code', '=', 'STEUR']], ['id']);
  expect(theInvoice()).toMatchObject({
    state: 'posted',
    amount_residual: 0,
    payment_state: 'paid',
  });
  expect(theCreditNote()).toMatchObject({
    move_type: 'out_refund',
    state: 'posted',
    amount_total: 49,
    amount_residual: 0,
    payment_state: 'paid',
  });
  expect(id(theCreditNote()?.reversed_entry_id)).toBe(theInvoice()?.id);
  expect(id(theCreditNote()?.partner_id)).toBe(id(theInvoice()?.partner_id));
  expect(theRefund()).toMatchObject({
    payment_type: 'outbound',
    amount: 49,
    // 18/19: paid once everything it is reconciled with (the credit note) is paid.
    state: version >= 18 ? 'paid' : 'posted',
    is_reconciled: true,
  });
  expect(id(theRefund()?.partner_id)).toBe(id(theOriginal()?.partner_id));
  expect(id(theRefund()?.journal_id)).toBe(journal?.id);
  // The invoice with its payment (238), the credit note with the refund (49).
  expect(partials().map((p) => p.amount)).toEqual([238, 49]);
}

describe.each([16, 17, 18, 19] as const)('Stripe charge.refunded on Odoo %i', (version) => {
  it('closes against the invoice: a credit note reversing it, paid by the posted refund', async () => {
    await start(version);
    await apply(customer());
    await apply(invoice(), payment());
    const refund = stripeRefund();

    expect(await apply(refund)).toMatchObject([{ kind: 'applied', model: 'account.payment' }]);

    expectClosedAgainstTheInvoice(version);
    expect(stages('posted', refund.id)).toEqual([
      { eventId: refund.id, model: 'account.move', recordId: theCreditNote()?.id },
      { eventId: refund.id, model: 'account.payment', recordId: theRefund()?.id },
    ]);
    expect(stages('reconciled', refund.id)).toEqual([
      { eventId: refund.id, model: 'account.payment', recordId: theRefund()?.id },
    ]);
  });

  it('a replay changes nothing: no second credit note, posting or reconciliation', async () => {
    await start(version);
    await apply(customer());
    await apply(invoice(), payment());
    await apply(stripeRefund());
    const before = { posted: stages('posted'), reconciled: stages('reconciled') };

    expect(await apply(stripeRefund())).toMatchObject([{ kind: 'applied', status: 'unchanged' }]);
    expect(await apply(stripeRefund())).toMatchObject([{ kind: 'applied', status: 'unchanged' }]);

    expectClosedAgainstTheInvoice(version);
    expect(odoo('account.move', [['move_type', '=', 'out_refund']], ['id'])).toHaveLength(1);
    expect(stages('posted')).toEqual(before.posted);
    expect(stages('reconciled')).toEqual(before.reconciled);
    expect(lineage.entries.filter((e) => e.stage === 'failed')).toEqual([]);
  });
});

describe.each([17, 18] as const)('a refund of a taxed invoice on Odoo %i', (version) => {
  // 198.00 at 20 % French VAT and 40.00 untaxed: 277.60, of which 39.60 tax.
  const taxedInvoice = () =>
    invoice((object) => {
      const [first] = (object.lines as { data: Record<string, unknown>[] }).data;
      (first as Record<string, unknown>).tax_rates = [
        { id: 'txr_1', display_name: 'VAT', percentage: 20, inclusive: false, country: 'FR' },
      ];
      object.total = 27_760;
    });
  const taxedPayment = () =>
    stripeFixtureEnvelope('stripe/payment_intent.succeeded', (object) => {
      Object.assign(object, { amount: 27_760, amount_received: 27_760, invoice: INVOICE });
    });
  const refundOf = (refunded: number) =>
    stripeFixtureEnvelope('stripe/charge.refunded', (object) => {
      Object.assign(object, {
        amount: 27_760,
        amount_captured: 27_760,
        amount_refunded: refunded,
        invoice: INVOICE,
      });
    });
  const taxOf = () =>
    bySpineId('account.move', `stripe_charge_refund_${CHARGE}_credit_note`, [
      'amount_total',
      'amount_tax',
      'state',
      'payment_state',
    ]);

  it('a full refund gives the tax back line by line: the credit note reverses the invoice', async () => {
    await start(version);
    await apply(customer());
    await apply(taxedInvoice(), taxedPayment());
    expect(await apply(refundOf(27_760))).toMatchObject([{ kind: 'applied' }]);
    expect(taxOf()).toMatchObject({
      amount_total: 277.6,
      amount_tax: 39.6,
      state: 'posted',
      payment_state: 'paid',
    });
  });

  it('a partial refund gives back the tax in proportion, its total the money returned', async () => {
    await start(version);
    await apply(customer());
    await apply(taxedInvoice(), taxedPayment());
    expect(await apply(refundOf(4_900))).toMatchObject([{ kind: 'applied' }]);
    // 49.00 of 277.60: 34.95 of the taxed 198.00 with its 6.99 VAT, and 7.06 of the untaxed 40.00.
    expect(taxOf()).toMatchObject({ amount_total: 49, amount_tax: 6.99, state: 'posted' });
  });
});

describe('Stripe charge.refunded delivered twice at once', () => {
  it('to two invocations: one closes it, the other waits (retryable), and its retry changes nothing', async () => {
    await start(18);
    await apply(customer());
    await apply(invoice(), payment());
    const refund = stripeRefund();

    const outcomes = (await Promise.all([apply(refund), apply(refund)])).flat();

    expect(outcomes.filter((o) => o.kind === 'applied')).toHaveLength(1);
    const other = outcomes.find((o) => o.kind !== 'applied');
    if (other?.kind === 'failed') expect(other.retryable).toBe(true);
    expect(await apply(refund)).toMatchObject([{ kind: 'applied', status: 'unchanged' }]);
    expectClosedAgainstTheInvoice(18);
    expect(odoo('account.move', [['move_type', '=', 'out_refund']], ['id'])).toHaveLength(1);
    expect(stages('posted', refund.id)).toHaveLength(2);
    expect(stages('reconciled', refund.id)).toHaveLength(1);
  });
});

describe('Stripe charge.refunded before its originals', () => {
  it('before its payment: fails retryably naming the payment, writing nothing', async () => {
    await start(18);
    await apply(customer());
    const refund = stripeRefund();
    const [early] = await apply(refund);

    expect(early).toMatchObject({ kind: 'failed', retryable: true });
    expect((early as { error: Error }).error).toBeInstanceOf(RelationNotFound);
    expect((early as { error: Error }).error.message).toContain(`spine.stripe_payment_${PAYMENT}`);
    expect(theRefund()).toBeUndefined();
    expect(theCreditNote()).toBeUndefined();
  });

  it.each([17, 18] as const)(
    'on Odoo %i, before its invoice: waits as a draft, nothing posted, then closes once the invoice is in',
    async (version) => {
      await start(version);
      await apply(customer());
      await apply(payment());
      const refund = stripeRefund();
      const [early] = await apply(refund);

      expect(early).toMatchObject({ kind: 'failed', retryable: true });
      const error = (early as { error: Error }).error;
      expect(error).toBeInstanceOf(RelationNotFound);
      expect(error.message).toContain(`spine.stripe_invoice_${INVOICE}`);
      expect(error.message).toContain(`spine.stripe_charge_refund_${CHARGE}`);
      expect(theRefund()).toMatchObject({ state: 'draft' });
      expect(theCreditNote()).toBeUndefined();
      expect(stages('posted', refund.id)).toEqual([]);

      await apply(invoice());
      expect(await apply(refund)).toMatchObject([{ kind: 'applied' }]);
      expectClosedAgainstTheInvoice(version);
      expect(stages('posted', refund.id).map((s) => s.model)).toEqual([
        'account.move',
        'account.payment',
      ]);
    },
  );

  it('an invoice left a draft holds the refund back, retryably, with nothing posted', async () => {
    await start(18);
    await apply(customer());
    // Stripe's total is not Odoo's: the invoice stays a draft (totals-differ).
    await apply(
      invoice((object) => {
        object.total = 24_000;
      }),
      payment(),
    );
    const [outcome] = await apply(stripeRefund());

    expect(outcome).toMatchObject({ kind: 'failed', retryable: true });
    const error = (outcome as { error: Error }).error;
    expect(error).toBeInstanceOf(OriginalNotPosted);
    expect(error.message).toContain(`spine.stripe_invoice_${INVOICE}`);
    expect(theRefund()).toMatchObject({ state: 'draft' });
    expect(theCreditNote()).toBeUndefined();
  });
});

describe('Stripe charge.refunded without an invoice', () => {
  it('is posted in its journal with the payment’s partner, and matched with nothing', async () => {
    await start(18);
    await apply(customer());
    await apply(payment());
    expect(
      await apply(
        stripeRefund(4_900, (object) => {
          object.invoice = null;
        }),
      ),
    ).toMatchObject([{ kind: 'applied' }]);

    expect(theRefund()).toMatchObject({ state: 'in_process', amount: 49, is_reconciled: false });
    expect(id(theRefund()?.partner_id)).toBe(id(theOriginal()?.partner_id));
    expect(theCreditNote()).toBeUndefined();
  });
});

describe('a second partial refund of one charge', () => {
  it('fails for good rather than rewrite the posted credit note', async () => {
    await start(18);
    await apply(customer());
    await apply(invoice(), payment());
    await apply(stripeRefund(4_900));
    const later = stripeFixtureEnvelope('stripe/charge.refunded', (object) => {
      Object.assign(object, { amount: 23_800, amount_refunded: 7_900, invoice: INVOICE });
    });
    const [outcome] = await apply({
      ...later,
      id: 'evt_second_refund',
      time: new Date().toISOString(),
    });

    expect(outcome).toMatchObject({ kind: 'failed', retryable: false });
    expect((outcome as { error: Error }).error).toBeInstanceOf(RefundOutgrown);
    expect(theCreditNote()).toMatchObject({ state: 'posted', amount_total: 49 });
  });
});
