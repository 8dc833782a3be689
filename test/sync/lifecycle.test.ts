/**
 * The document lifecycle against the Odoo emulator: a Stripe invoice and its payment, in either
 * order or in one batch, end as a posted invoice that is paid, reconciled once; a replay changes
 * nothing; an invoice whose Odoo total is not Stripe's stays a draft and fails for good.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadContractRegistry } from '../../functions/contracts/index.ts';
import { TotalsDiffer } from '../../functions/errors/index.ts';
import type { Envelope } from '../../functions/ingest/envelope.ts';
import {
  type ApplyOutcome,
  applyEnvelopes,
  type SyncDependencies,
} from '../../functions/sync/apply.ts';
import { type OdooEmulator, startOdooEmulator } from '../../local/odoo/server.ts';
import { MemoryLineageStore } from '../support/memory-lineage.ts';
import { integrationClient } from '../support/odoo.ts';
import { stripeFixtureEnvelope } from '../support/queued-events.ts';
import { syncDependencies } from '../support/sync.ts';

const registry = loadContractRegistry();
const INVOICE = 'in_1QkaPzLkdIwHu7ixW3hJ8sRq';
const PAYMENT = 'pi_3QkZCxLkdIwHu7ix0a8GzK1P';

const customer = () => stripeFixtureEnvelope('stripe/customer.created', () => {});
/** The fixture invoice (238.00 EUR, two untaxed lines), paid by the PaymentIntent below. */
const invoice = (edit: (object: Record<string, unknown>) => void = () => {}) =>
  stripeFixtureEnvelope('stripe/invoice.paid', (object) => {
    object.payment_intent = PAYMENT;
    edit(object);
  });
const payment = () =>
  stripeFixtureEnvelope('stripe/payment_intent.succeeded', (object) => {
    Object.assign(object, { amount: 23_800, amount_received: 23_800, invoice: INVOICE });
  });

let emulator: OdooEmulator;
let lineage: MemoryLineageStore;
let deps: SyncDependencies;

async function start(version?: 16 | 17 | 18 | 19) {
  emulator = await startOdooEmulator({
    ...(version ? { version } : {}),
    referenceData: registry.reference,
  });
  lineage = new MemoryLineageStore();
  const client = await integrationClient(emulator);
  deps = syncDependencies(client, lineage);
  expect(await apply(customer())).toMatchObject([{ kind: 'applied' }]);
}
beforeEach(() => start());
afterEach(() => emulator.stop());

const apply = (...envelopes: Envelope[]): Promise<ApplyOutcome[]> =>
  applyEnvelopes(envelopes, deps);

const odoo = (model: string, domain: unknown[], fields: string[]) =>
  emulator.orm.call(2, model, 'search_read', [domain, fields], {}) as Record<string, unknown>[];

const theInvoice = () =>
  odoo(
    'account.move',
    [['payment_reference', '=', INVOICE]],
    ['state', 'amount_total', 'amount_tax', 'amount_residual', 'payment_state'],
  );
const thePayment = () =>
  odoo('account.payment', [['payment_reference', '=', PAYMENT]], ['state', 'is_reconciled']);
const partials = () => odoo('account.partial.reconcile', [], ['amount']);

const stages = (stage: 'posted' | 'reconciled') =>
  lineage.entries
    .filter((e) => e.stage === stage)
    .map((e) => ({ eventId: e.eventId, model: e.model }));

/** An invoice paid in full by one payment, matched once. */
function expectPaid() {
  expect(theInvoice()).toEqual([
    expect.objectContaining({
      state: 'posted',
      amount_total: 238,
      amount_residual: 0,
      payment_state: expect.stringMatching(/^(paid|in_payment)$/),
    }),
  ]);
  expect(thePayment()).toEqual([
    expect.objectContaining({
      state: expect.stringMatching(/^(paid|posted)$/),
      is_reconciled: true,
    }),
  ]);
  expect(partials()).toEqual([expect.objectContaining({ amount: 238 })]);
}

describe('document lifecycle: a Stripe invoice and its payment', () => {
  it('invoice then payment: the invoice is posted, then paid by the payment that follows', async () => {
    const paid = invoice();
    expect(await apply(paid)).toMatchObject([{ kind: 'applied', model: 'account.move' }]);
    expect(theInvoice()).toEqual([
      expect.objectContaining({ state: 'posted', amount_residual: 238, payment_state: 'not_paid' }),
    ]);
    const money = payment();
    expect(await apply(money)).toMatchObject([{ kind: 'applied', model: 'account.payment' }]);

    expectPaid();
    expect(stages('posted')).toEqual([
      { eventId: paid.id, model: 'account.move' },
      { eventId: money.id, model: 'account.payment' },
    ]);
    expect(stages('reconciled')).toEqual([{ eventId: money.id, model: 'account.payment' }]);
    const reconciled = lineage.entries.find((e) => e.stage === 'reconciled');
    expect(reconciled?.detail).toMatch(/payment_state paid, amount_residual 0/);
  });

  it('posts a card payment in EUR in the journal the crosswalk names for it, not the first bank journal', async () => {
    await apply(payment());
    const [booked] = odoo('account.payment', [['payment_reference', '=', PAYMENT]], ['journal_id']);
    const [journal] = odoo(
      'account.journal',
      [['id', '=', (booked as { journal_id: [number] }).journal_id[0]]],
      ['code', 'currency_id'],
    );
    expect(journal).toMatchObject({ code: 'STEUR', currency_id: [expect.any(Number), 'EUR'] });
  });

  it('fails a payment by a method the journals crosswalk does not name, naming the entry', async () => {
    const [outcome] = await apply(
      stripeFixtureEnvelope('stripe/payment_intent.succeeded', (object) => {
        object.payment_method_types = ['sepa_debit'];
      }),
    );
    expect(outcome).toMatchObject({ kind: 'failed', retryable: false });
    expect((outcome as { error: Error }).error.message).toMatch(/journals.*stripe:sepa_debit:EUR/);
  });

  it('payment then invoice: the payment waits, posted, and the invoice reconciles with it', async () => {
    const money = payment();
    expect(await apply(money)).toMatchObject([{ kind: 'applied' }]);
    expect(thePayment()).toEqual([expect.objectContaining({ is_reconciled: false })]);
    expect(stages('reconciled')).toEqual([]);
    const paid = invoice();
    expect(await apply(paid)).toMatchObject([{ kind: 'applied' }]);

    expectPaid();
    expect(stages('reconciled')).toEqual([{ eventId: paid.id, model: 'account.move' }]);
  });

  it.each([
    ['payment first', () => [payment(), invoice()]],
    ['invoice first', () => [invoice(), payment()]],
  ])('both in one batch, %s: reconciled once', async (_, batch) => {
    expect(await apply(...batch())).toMatchObject([{ kind: 'applied' }, { kind: 'applied' }]);
    expectPaid();
    expect(stages('posted')).toHaveLength(2);
    expect(stages('reconciled')).toHaveLength(1);
  });

  it('both delivered at once to two invocations: paid, matched once, neither fails', async () => {
    const outcomes = await Promise.all([apply(invoice()), apply(payment())]);
    expect(outcomes.flat()).toMatchObject([{ kind: 'applied' }, { kind: 'applied' }]);
    expectPaid();
    expect(stages('reconciled')).toHaveLength(1);
  });

  it.each([16, 17, 19] as const)(
    'ends paid on Odoo %i too, where payments post and settle differently',
    async (version) => {
      await emulator.stop();
      await start(version);
      await apply(payment());
      await apply(invoice());
      expectPaid();
    },
  );

  it('a replay of both changes nothing and records no second posting or reconciliation', async () => {
    await apply(invoice());
    await apply(payment());
    const before = { posted: stages('posted'), reconciled: stages('reconciled') };

    expect(await apply(invoice(), payment())).toMatchObject([
      { kind: 'applied', status: 'unchanged' },
      { kind: 'applied', status: 'unchanged' },
    ]);
    expect(await apply(payment())).toMatchObject([{ kind: 'applied', status: 'unchanged' }]);

    expectPaid();
    expect(stages('posted')).toEqual(before.posted);
    expect(stages('reconciled')).toEqual(before.reconciled);
    expect(lineage.entries.filter((e) => e.stage === 'failed')).toEqual([]);
  });

  it("leaves an invoice whose Odoo total is not Stripe's in draft, failing for good with both amounts", async () => {
    // Stripe charged 240.00 but the lines it sent add up to 238.00 in Odoo.
    const paid = invoice((object) => {
      object.total = 24_000;
    });
    const [outcome] = await apply(paid);

    expect(outcome).toMatchObject({ kind: 'failed', retryable: false });
    const error = (outcome as { error: Error }).error;
    expect(error).toBeInstanceOf(TotalsDiffer);
    expect(error).toMatchObject({ expected: 240, actual: 238 });
    expect(error.message).toMatch(/238 EUR.*240 EUR/);
    expect(theInvoice()).toEqual([expect.objectContaining({ state: 'draft' })]);
    expect(stages('posted')).toEqual([]);
    expect(lineage.entries.filter((e) => e.eventId === paid.id && e.stage === 'failed')).toEqual([
      expect.objectContaining({ error: expect.objectContaining({ code: 'totals-differ' }) }),
    ]);

    // The payment that follows is posted, but has no posted invoice to settle.
    expect(await apply(payment())).toMatchObject([{ kind: 'applied' }]);
    expect(thePayment()).toEqual([expect.objectContaining({ is_reconciled: false })]);
    expect(stages('reconciled')).toEqual([]);
  });

  it("books a line's Stripe tax rate with the tax the crosswalk names, so the totals agree", async () => {
    // The emulated company holds the crosswalk's taxes (FR VAT 20%), as a configured one does.
    // 238.00 plus 20 % VAT on the first line (198.00): 277.60.
    const paid = invoice((object) => {
      const [first] = (object.lines as { data: Record<string, unknown>[] }).data;
      (first as Record<string, unknown>).tax_rates = [
        { id: 'txr_1', display_name: 'VAT', percentage: 20, inclusive: false, country: 'FR' },
      ];
      object.total = 27_760;
    });
    expect(await apply(paid)).toMatchObject([{ kind: 'applied' }]);
    expect(theInvoice()).toEqual([
      expect.objectContaining({ state: 'posted', amount_tax: 39.6, amount_total: 277.6 }),
    ]);
  });

  it('books Stripe Tax (automatic tax) from the line tax amounts, by the expanded rate', async () => {
    const paid = invoice((object) => {
      const [first] = (object.lines as { data: Record<string, unknown>[] }).data;
      (first as Record<string, unknown>).tax_amounts = [
        {
          amount: 3960,
          inclusive: false,
          tax_rate: {
            id: 'txr_auto',
            display_name: 'VAT',
            percentage: 20,
            inclusive: false,
            country: 'FR',
          },
        },
      ];
      object.total = 27_760;
    });
    expect(await apply(paid)).toMatchObject([{ kind: 'applied' }]);
    expect(theInvoice()).toEqual([
      expect.objectContaining({ state: 'posted', amount_tax: 39.6, amount_total: 277.6 }),
    ]);
  });

  it('fails an automatic tax whose rate id the taxes crosswalk does not name, naming the key', async () => {
    const paid = invoice((object) => {
      const [first] = (object.lines as { data: Record<string, unknown>[] }).data;
      (first as Record<string, unknown>).tax_amounts = [
        { amount: 3960, inclusive: false, tax_rate: 'txr_1QkZunknown' },
      ];
      object.total = 27_760;
    });
    const [outcome] = await apply(paid);
    expect(outcome).toMatchObject({ kind: 'failed', retryable: false });
    expect((outcome as { error: Error }).error.message).toMatch(/taxes.*"stripe:txr_1QkZunknown"/);
    expect(theInvoice()).toEqual([]);
  });
});
