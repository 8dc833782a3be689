import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { describeFinanceDifference, financeView } from '../../cli/commands/finance-view.ts';
import { loadContractRegistry } from '../../functions/contracts/index.ts';
import { reconcileFigures } from '../../functions/contracts/mapping.ts';
import type { Envelope } from '../../functions/ingest/envelope.ts';
import { DynamoDbLineageStore } from '../../functions/lineage/dynamodb-store.ts';
import { OdooClient } from '../../functions/odoo/client.ts';
import { financeDataPoints } from '../../functions/reconcile/finance-metrics.ts';
import { fieldFingerprint } from '../../functions/reconcile/fingerprint.ts';
import { InvalidDay } from '../../functions/reconcile/invalid-day.ts';
import { reconcileContractDay } from '../../functions/reconcile/reconcile.ts';
import { applyEnvelopes } from '../../functions/sync/apply.ts';
import { localDynamoDbClient } from '../../local/dynamodb.ts';
import { type OdooEmulator, startOdooEmulator } from '../../local/odoo/server.ts';
import { loadFixture } from '../support/fixtures.ts';
import { sendFixture, startTestRuntime, waitFor } from '../support/local-runtime.ts';
import { MemoryLineageStore } from '../support/memory-lineage.ts';
import { integrationClient } from '../support/odoo.ts';
import {
  contractNamed,
  fixtureEnvelope,
  queuedEnvelope,
  stripeFixtureEnvelope,
} from '../support/queued-events.ts';
import { syncDependencies } from '../support/sync.ts';

type Runtime = Awaited<ReturnType<typeof startTestRuntime>>;
let runtime: Runtime;
let lineage: DynamoDbLineageStore;
let odoo: OdooClient;
let emulator: OdooEmulator;
const registry = loadContractRegistry();
const payments = registry.contract('stripe.payment-intent') as NonNullable<
  ReturnType<typeof registry.contract>
>;
const invoices = registry.contract('stripe.invoice-paid') as NonNullable<
  ReturnType<typeof registry.contract>
>;
const customers = registry.contract('stripe.customer') as NonNullable<
  ReturnType<typeof registry.contract>
>;

beforeAll(async () => {
  runtime = await startTestRuntime();
  emulator = runtime.odooEmulator as OdooEmulator;
  lineage = new DynamoDbLineageStore(
    localDynamoDbClient(runtime.dynamoDbUrl),
    'spine-local-lineage',
  );
  odoo = await OdooClient.connect({
    url: emulator.url,
    database: emulator.database,
    login: emulator.admin.login,
    secret: emulator.admin.password,
  });
  await sendFixture(runtime, loadFixture('stripe/customer.created'));
  await waitFor('the customer', async () =>
    (await lineage.byEvent('stripe', 'evt_1QkZ7sLkdIwHu7ix4n5nGBQX')).some(
      (e) => e.stage === 'applied',
    ),
  );
  for (const name of [
    'stripe/payment_intent.succeeded',
    'stripe/payment_intent.succeeded.invoice',
    'stripe/invoice.paid',
  ])
    await sendFixture(runtime, loadFixture(name));
  await waitFor('the payments and the invoice', async () => {
    const trails = await Promise.all(
      [
        'evt_3QkZCxLkdIwHu7ix0Wm4yJtF',
        'evt_3QkaQ1LkdIwHu7ixP3n8sD5k',
        'evt_1QkaQ2LkdIwHu7ixKp7bT1nE',
      ].map((id) => lineage.byEvent('stripe', id)),
    );
    return trails.every((t) => t.some((e) => e.stage === 'applied'));
  });
}, 60_000);
afterAll(() => runtime.dispose());

describe('reconciliation: lineage against Odoo', () => {
  it('reports everything matched, with counts and sums on both sides', async () => {
    const report = await reconcileContractDay(payments, '2025-01-27', { lineage, odoo });
    expect(report).toMatchObject({
      contract: `stripe.payment-intent@${payments.version}`,
      applied: { count: 1, sum: 149 },
      odoo: { count: 1, sum: 149 },
      matched: 1,
      ok: true,
    });
    const invoice = await reconcileContractDay(invoices, '2025-01-29', { lineage, odoo });
    expect(invoice).toMatchObject({
      applied: { count: 1, sum: 238 },
      odoo: { sum: 238 },
      ok: true,
    });
  });

  it('compares values too: the worker fingerprints what it wrote, the scheduled run what Odoo holds', async () => {
    const { handler } = await import('../../functions/handlers/reconcile.ts');
    const reports = await handler({
      days: ['2025-01-27'],
      contracts: ['stripe.customer', 'stripe.payment-intent'],
    });
    expect(reports.map((r) => [r.contract.split('@')[0], r.ok, r.values])).toEqual([
      ['stripe.customer', true, { checked: 1, unchecked: 0 }],
      ['stripe.payment-intent', true, { checked: 1, unchecked: 0 }],
    ]);
  });

  it('reports the difference, with its event id, after a record is changed in Odoo directly', async () => {
    const [payment] = emulator.orm.call(
      2,
      'account.payment',
      'search',
      [[['payment_reference', '=', 'pi_3QkZCxLkdIwHu7ix0a8GzK1P']]],
      {},
    ) as number[];
    emulator.orm.call(2, 'account.payment', 'write', [[payment], { amount: 150 }], {});
    const report = await reconcileContractDay(payments, '2025-01-27', { lineage, odoo });
    expect(report.ok).toBe(false);
    expect(report.differences).toEqual([
      {
        externalId: 'spine.stripe_payment_pi_3QkZCxLkdIwHu7ix0a8GzK1P',
        recordId: payment,
        eventIds: ['evt_3QkZCxLkdIwHu7ix0Wm4yJtF'],
        field: 'amount',
        expected: 149,
        actual: 150,
      },
    ]);
  });

  it('reports a record that disappeared from Odoo as missing, and one lineage never saw as unexpected', async () => {
    const [reference] = emulator.orm.call(
      2,
      'ir.model.data',
      'search',
      [[['name', '=', 'stripe_payment_pi_3QkZCxLkdIwHu7ix0a8GzK1P']]],
      {},
    ) as number[];
    emulator.orm.call(2, 'ir.model.data', 'unlink', [[reference]], {});
    const stray = emulator.orm.call(
      2,
      'account.payment',
      'create',
      [{ amount: 5, date: '2025-01-27', payment_type: 'inbound', partner_type: 'customer' }],
      {},
    ) as number;
    emulator.orm.call(
      2,
      'ir.model.data',
      'create',
      [
        {
          module: 'spine',
          name: 'stripe_payment_pi_unknown',
          model: 'account.payment',
          res_id: stray,
        },
      ],
      {},
    );
    const report = await reconcileContractDay(payments, '2025-01-27', { lineage, odoo });
    expect(report.missing).toEqual([
      {
        externalId: 'spine.stripe_payment_pi_3QkZCxLkdIwHu7ix0a8GzK1P',
        eventIds: ['evt_3QkZCxLkdIwHu7ix0Wm4yJtF'],
      },
    ]);
    expect(report.unexpected).toEqual([
      { externalId: 'spine.stripe_payment_pi_unknown', recordId: stray },
    ]);
  });

  it('reports a record deleted in Odoo as missing, with its event id, and Odoo drops its external id', async () => {
    const [invoice] = emulator.orm.call(
      2,
      'account.move',
      'search',
      [[['payment_reference', '=', 'in_1QkaPzLkdIwHu7ixW3hJ8sRq']]],
      {},
    ) as number[];
    expect(invoice).toBeTypeOf('number');
    emulator.orm.call(2, 'account.move', 'unlink', [[invoice]], {});
    const report = await reconcileContractDay(invoices, '2025-01-29', { lineage, odoo });
    expect(report).toMatchObject({ ok: false, matched: 0, odoo: { count: 0 } });
    expect(report.missing).toEqual([
      {
        externalId: 'spine.stripe_invoice_in_1QkaPzLkdIwHu7ixW3hJ8sRq',
        eventIds: ['evt_1QkaQ2LkdIwHu7ixKp7bT1nE'],
      },
    ]);
    expect(
      emulator.orm.call(
        2,
        'ir.model.data',
        'search',
        [[['name', '=', 'stripe_invoice_in_1QkaPzLkdIwHu7ixW3hJ8sRq']]],
        {},
      ),
    ).toEqual([]);
  });

  it('reports a record whose external id outlived it as missing, and ignores such strays', async () => {
    const applied = (await lineage.byEvent('stripe', 'evt_1QkZ7sLkdIwHu7ix4n5nGBQX')).find(
      (e) => e.stage === 'applied',
    );
    // Deleted behind the ORM (SQL, a module's own cleanup): the ir.model.data row stays.
    emulator.orm.db.delete('res.partner', Number(applied?.recordId));
    const report = await reconcileContractDay(customers, '2025-01-27', { lineage, odoo });
    expect(report.missing).toEqual([
      { externalId: applied?.externalId, eventIds: ['evt_1QkZ7sLkdIwHu7ix4n5nGBQX'] },
    ]);
    emulator.orm.call(
      2,
      'ir.model.data',
      'create',
      [
        {
          module: 'spine',
          name: 'stripe_payment_pi_gone',
          model: 'account.payment',
          res_id: 987_654,
        },
      ],
      {},
    );
    const payments2 = await reconcileContractDay(payments, '2025-01-27', { lineage, odoo });
    expect(payments2.unexpected.map((u) => u.externalId)).not.toContain(
      'spine.stripe_payment_pi_gone',
    );
  });

  it('names the days lineage holds applied events on, for a reconcile without --day', async () => {
    expect(await lineage.appliedDays({ contracts: ['stripe.payment-intent'] })).toEqual({
      days: { '2025-01-27': 1, '2025-01-29': 1 },
      complete: true,
    });
    const all = await lineage.appliedDays();
    expect(all.days).toMatchObject({ '2025-01-27': 2, '2025-01-29': 2 });
    // A cap reads no further than it says, and says so.
    expect(await lineage.appliedDays({ maxItems: 1 })).toMatchObject({ complete: false });
  });

  it('refuses a day that is not a calendar date instead of reporting it clean', async () => {
    for (const day of ['2026-13-45', '2025-02-29', '2025-1-27', 'yesterday'])
      await expect(reconcileContractDay(payments, day, { lineage, odoo })).rejects.toThrow(
        InvalidDay,
      );
    const { handler } = await import('../../functions/handlers/reconcile.ts');
    await expect(handler({ days: ['2026-13-45'] })).rejects.toThrow(
      /calendar date written YYYY-MM-DD, got "2026-13-45"/,
    );
  });
});

/**
 * What the vendor said against what Odoo books: the worker records each event's currency and
 * amounts in lineage, and reconciliation adds them up per currency, never across.
 */
describe("reconciliation against the vendor's own figures, per currency", () => {
  const fingerprint = fieldFingerprint({ secret: Buffer.from('a redaction key for the tests') });
  let books: OdooEmulator;
  let client: OdooClient;
  let memory: MemoryLineageStore;

  /** A Stripe payment of `cents` in `currency` on 2025-01-27, for the invoice named, if any. */
  function payment(
    eventId: string,
    intent: string,
    cents: number,
    currency: string,
    invoice?: string,
  ) {
    const event = JSON.parse(loadFixture('stripe/payment_intent.succeeded').raw) as {
      id: string;
      type: string;
      created: number;
      data: { object: Record<string, unknown> };
    };
    event.id = eventId;
    Object.assign(event.data.object, {
      id: intent,
      amount: cents,
      amount_received: cents,
      currency,
      invoice: invoice ?? null,
    });
    return queuedEnvelope(payments, event, {
      id: eventId,
      subject: intent,
      type: event.type,
      time: new Date(event.created * 1000).toISOString(),
    });
  }

  const eur = () => payment('evt_eur_1', 'pi_eur_1', 14900, 'eur');
  const usd = () => payment('evt_usd_1', 'pi_usd_1', 21139, 'usd');
  const usdToo = () => payment('evt_usd_2', 'pi_usd_2', 5000, 'usd');

  async function apply(envelopes: Envelope[]) {
    const outcomes = await applyEnvelopes(
      envelopes,
      syncDependencies(client, memory, { fingerprint }),
    );
    expect(outcomes.map((o) => (o.kind === 'failed' ? o.error.message : o.kind))).toEqual(
      envelopes.map(() => 'applied'),
    );
  }

  const recordOf = async (model: string, reference: string) => {
    const [id] = books.orm.call(
      2,
      model,
      'search',
      [[['payment_reference', '=', reference]]],
      {},
    ) as number[];
    expect(id).toBeTypeOf('number');
    return id as number;
  };
  const paymentsOn = (day = '2025-01-27') =>
    reconcileContractDay(payments, day, { lineage: memory, odoo: client, fingerprint });

  beforeEach(async () => {
    books = await startOdooEmulator({ referenceData: registry.reference });
    client = await integrationClient(books);
    memory = new MemoryLineageStore();
    await apply([stripeFixtureEnvelope('stripe/customer.created')]);
  });
  afterEach(() => books.stop());

  it('adds EUR and USD up apart on a clean day, the vendor against Odoo in each', async () => {
    await apply([eur(), usd(), usdToo()]);
    const applied = memory.entries.find((e) => e.stage === 'applied' && e.eventId === 'evt_usd_1');
    // What the worker kept: amounts and the currency code, nothing personal.
    expect(applied?.vendor).toEqual({
      currency: 'USD',
      amounts: { amount: 211.39 },
      stateExpected: false,
    });
    const report = await paymentsOn();
    const clean = { unpostedInvoices: 0, unmatchedPayments: 0, unconfirmedPaidOrders: 0 };
    expect(report.currencies).toEqual([
      {
        currency: 'EUR',
        vendor: { count: 1, amounts: { amount: 149 } },
        odoo: { count: 1, amounts: { amount: 149 } },
        difference: 0,
        ...clean,
      },
      {
        currency: 'USD',
        vendor: { count: 2, amounts: { amount: 261.39 } },
        odoo: { count: 2, amounts: { amount: 261.39 } },
        difference: 0,
        ...clean,
      },
    ]);
    expect(report).toMatchObject({
      ok: true,
      matched: 3,
      financeDifferences: [],
      figures: { checked: 3, unchecked: 0 },
    });
    // The metrics finance watches: per contract and currency, and over all of them.
    const points = financeDataPoints([{ flow: 'payments', report }]);
    expect(points).toContainEqual({
      name: 'reconciliation-amount-difference',
      dimensions: { contract: 'stripe.payment-intent', flow: 'payments', currency: 'USD' },
      value: 0,
    });
    expect(points.filter((p) => Object.keys(p.dimensions).length === 0)).toHaveLength(4);
  });

  it('reports a record whose amount was changed in Odoo, with its event and both figures', async () => {
    await apply([eur(), usd(), usdToo()]);
    const changed = await recordOf('account.payment', 'pi_usd_1');
    books.orm.call(2, 'account.payment', 'write', [[changed], { amount: 210 }], {});
    const report = await paymentsOn();
    expect(report.ok).toBe(false);
    expect(report.financeDifferences).toEqual([
      {
        externalId: 'spine.stripe_payment_pi_usd_1',
        recordId: changed,
        eventIds: ['evt_usd_1'],
        currency: 'USD',
        kind: 'amount',
        field: 'amount',
        expected: 211.39,
        actual: 210,
      },
    ]);
    expect(
      report.currencies.map((c) => [c.currency, c.vendor.amounts, c.odoo.amounts, c.difference]),
    ).toEqual([
      ['EUR', { amount: 149 }, { amount: 149 }, 0],
      ['USD', { amount: 261.39 }, { amount: 260 }, 1.39],
    ]);
    expect(report.matched).toBe(2);
    const [difference] = report.financeDifferences;
    expect(
      describeFinanceDifference(report, difference as (typeof report.financeDifferences)[0]),
    ).toBe(
      `account.payment ${changed} amount is 210.00 in Odoo, Stripe said 211.39 USD (event evt_usd_1)`,
    );
    expect(financeView([report]).join('\n')).toMatch(
      /stripe\.payment-intent@\S+\s+USD\s+2 \/ 2\s+amount 261\.39 \/ 260\.00\s+1\.39/,
    );
    const largest = financeDataPoints([{ flow: 'payments', report }]).find(
      (p) => p.name === 'reconciliation-amount-difference' && !p.dimensions.currency,
    );
    expect(largest?.value).toBe(1.39);
  });

  it('reports an invoice set back to draft in Odoo as unposted, and a payment its invoice never matched', async () => {
    // Paid otherwise than by a PaymentIntent (a credit balance): posted is all it must be.
    await apply([
      stripeFixtureEnvelope('stripe/invoice.paid', (invoice) => {
        invoice.payment_intent = null;
      }),
    ]);
    const invoice = await recordOf('account.move', 'in_1QkaPzLkdIwHu7ixW3hJ8sRq');
    expect(
      (await reconcileContractDay(invoices, '2025-01-29', { lineage: memory, odoo: client })).ok,
    ).toBe(true);
    books.orm.call(2, 'account.move', 'button_draft', [[invoice]], {});
    const report = await reconcileContractDay(invoices, '2025-01-29', {
      lineage: memory,
      odoo: client,
    });
    expect(report.ok).toBe(false);
    expect(report.financeDifferences).toEqual([
      {
        externalId: 'spine.stripe_invoice_in_1QkaPzLkdIwHu7ixW3hJ8sRq',
        recordId: invoice,
        eventIds: ['evt_1QkaQ2LkdIwHu7ixKp7bT1nE'],
        currency: 'EUR',
        kind: 'state',
        field: 'state',
        expected: ['posted'],
        actual: 'draft',
      },
    ]);
    expect(report.currencies).toMatchObject([{ currency: 'EUR', unpostedInvoices: 1 }]);

    // Paid for an invoice Odoo does not hold: posted, and matched with nothing.
    await apply([payment('evt_for_invoice', 'pi_for_invoice', 9900, 'eur', 'in_nowhere')]);
    const unmatched = await paymentsOn();
    expect(unmatched.financeDifferences).toMatchObject([
      {
        kind: 'state',
        field: 'is_reconciled',
        expected: [true],
        actual: false,
        eventIds: ['evt_for_invoice'],
      },
    ]);
    expect(unmatched.currencies).toMatchObject([{ currency: 'EUR', unmatchedPayments: 1 }]);
    expect(describeFinanceDifference(unmatched, unmatched.financeDifferences[0] as never)).toMatch(
      /is_reconciled is false, expected true \(event evt_for_invoice\)$/,
    );
  });

  it('finds a payment and the invoice it paid both in their expected state once matched', async () => {
    await apply([
      payment(
        'evt_pays_invoice',
        'pi_3QkZCxLkdIwHu7ix0a8GzK1P',
        23800,
        'eur',
        'in_1QkaPzLkdIwHu7ixW3hJ8sRq',
      ),
    ]);
    expect((await paymentsOn()).financeDifferences).toMatchObject([
      { field: 'is_reconciled', actual: false },
    ]);
    await apply([
      stripeFixtureEnvelope('stripe/invoice.paid', (invoice) => {
        invoice.payment_intent = 'pi_3QkZCxLkdIwHu7ix0a8GzK1P';
      }),
    ]);
    const invoice = memory.entries.find(
      (e) => e.stage === 'applied' && e.eventId === 'evt_1QkaQ2LkdIwHu7ixKp7bT1nE',
    );
    expect(invoice?.vendor).toEqual({
      currency: 'EUR',
      amounts: { amount_total: 238, amount_tax: 0 },
      stateExpected: true,
    });
    expect(await paymentsOn()).toMatchObject({ ok: true, financeDifferences: [] });
    const invoiceDay = await reconcileContractDay(invoices, '2025-01-29', {
      lineage: memory,
      odoo: client,
    });
    expect(invoiceDay).toMatchObject({ ok: true, financeDifferences: [] });
    expect(invoiceDay.currencies).toEqual([
      {
        currency: 'EUR',
        vendor: { count: 1, amounts: { amount_total: 238, amount_tax: 0 } },
        odoo: { count: 1, amounts: { amount_total: 238, amount_tax: 0 } },
        difference: 0,
        unpostedInvoices: 0,
        unmatchedPayments: 0,
        unconfirmedPaidOrders: 0,
      },
    ]);
  });

  it('reports a record booked in another currency than the vendor charged, in both currencies', async () => {
    await apply([eur(), usd(), usdToo()]);
    const changed = await recordOf('account.payment', 'pi_usd_1');
    const [euro] = books.orm.call(
      2,
      'res.currency',
      'search',
      [[['name', '=', 'EUR']]],
      {},
    ) as number[];
    books.orm.call(2, 'account.payment', 'write', [[changed], { currency_id: euro }], {});
    const report = await paymentsOn();
    expect(report.ok).toBe(false);
    expect(report.financeDifferences).toEqual([
      {
        externalId: 'spine.stripe_payment_pi_usd_1',
        recordId: changed,
        eventIds: ['evt_usd_1'],
        currency: 'USD',
        kind: 'currency',
        field: 'currency_id',
        expected: 'USD',
        actual: 'EUR',
      },
    ]);
    // Odoo's 211.39 counts as euros, where Odoo books it: never dollars and euros added up.
    expect(report.currencies.map((c) => [c.currency, c.vendor, c.odoo, c.difference])).toEqual([
      [
        'EUR',
        { count: 1, amounts: { amount: 149 } },
        { count: 2, amounts: { amount: 360.39 } },
        211.39,
      ],
      [
        'USD',
        { count: 2, amounts: { amount: 261.39 } },
        { count: 1, amounts: { amount: 50 } },
        211.39,
      ],
    ]);
    // Told once, with the currencies, not again as a field changed since the event wrote it.
    expect(report.valueDifferences).toEqual([]);
    expect(describeFinanceDifference(report, report.financeDifferences[0] as never)).toBe(
      `account.payment ${changed} currency is EUR in Odoo, Stripe said USD (event evt_usd_1)`,
    );
  });

  it("reconciles entries recorded before the vendor's figures by count and sum, as before", async () => {
    await apply([eur(), usd(), usdToo()]);
    // What an older worker recorded: the measure alone.
    const older = memory.entries.map(({ vendor: _vendor, ...entry }) => entry);
    memory.entries.splice(0, memory.entries.length, ...older);
    expect(await paymentsOn()).toMatchObject({
      ok: true,
      applied: { count: 3, sum: 410.39 },
      odoo: { count: 3, sum: 410.39 },
      currencies: [],
      figures: { checked: 0, unchecked: 3 },
    });
    const changed = await recordOf('account.payment', 'pi_usd_1');
    books.orm.call(2, 'account.payment', 'write', [[changed], { amount: 210 }], {});
    const report = await paymentsOn();
    expect(report).toMatchObject({ ok: false, financeDifferences: [], matched: 2 });
    expect(report.differences).toEqual([
      {
        externalId: 'spine.stripe_payment_pi_usd_1',
        recordId: changed,
        eventIds: ['evt_usd_1'],
        field: 'amount',
        expected: 211.39,
        actual: 210,
      },
    ]);
    expect(financeView([report]).join('\n')).toContain(
      "3 records applied before the vendor's figures were recorded: count and sum only",
    );
  });
});

describe("the vendor's figures each contract keeps from its event", () => {
  const figuresOf = async (envelope: Envelope) => {
    const contract = contractNamed(envelope.spinecontract.split('@')[0] as string);
    const context = {
      entityKey: envelope.subject,
      eventId: envelope.id,
      source: envelope.spinesource,
    };
    return (await reconcileFigures(contract, envelope.data, {}, context)).vendor;
  };

  it('Stripe: an invoice total and its tax, from tax or else from its tax amounts', async () => {
    const withTax = stripeFixtureEnvelope('stripe/invoice.paid', (invoice) => {
      Object.assign(invoice, { total: 25990, tax: 2190, payment_intent: null });
    });
    expect(await figuresOf(withTax)).toEqual({
      currency: 'EUR',
      amounts: { amount_total: 259.9, amount_tax: 21.9 },
      stateExpected: false,
    });
    const withTaxAmounts = stripeFixtureEnvelope('stripe/invoice.paid', (invoice) => {
      Object.assign(invoice, {
        tax: null,
        total_tax_amounts: [{ amount: 1000 }, { amount: 239, inclusive: false }],
        payment_intent: 'pi_3QkZCxLkdIwHu7ix0a8GzK1P',
      });
    });
    expect(await figuresOf(withTaxAmounts)).toMatchObject({
      amounts: { amount_tax: 12.39 },
      stateExpected: true,
    });
  });

  it('Stripe: a refund is what was refunded so far, in its currency', async () => {
    expect(await figuresOf(stripeFixtureEnvelope('stripe/charge.refunded'))).toEqual({
      currency: 'EUR',
      amounts: { amount: 49 },
    });
  });

  it('Shopify: an order total and tax, expected confirmed when paid; a refund the money returned', async () => {
    expect(await figuresOf(fixtureEnvelope('shopify/orders-create'))).toEqual({
      currency: 'USD',
      amounts: { amount_total: 211.39, amount_tax: 11.74 },
      stateExpected: true,
    });
    const pending = fixtureEnvelope('shopify/orders-create', (order) => {
      order.financial_status = 'pending';
    });
    expect(await figuresOf(pending)).toMatchObject({ stateExpected: false });
    expect(await figuresOf(fixtureEnvelope('shopify/refunds-create'))).toEqual({
      currency: 'USD',
      amounts: { amount: 3.98 },
    });
  });
});
