import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadContractRegistry } from '../../functions/contracts/index.ts';
import { DynamoDbLineageStore } from '../../functions/lineage/dynamodb-store.ts';
import { OdooClient } from '../../functions/odoo/client.ts';
import { InvalidDay } from '../../functions/reconcile/invalid-day.ts';
import { reconcileContractDay } from '../../functions/reconcile/reconcile.ts';
import { localDynamoDbClient } from '../../local/dynamodb.ts';
import type { OdooEmulator } from '../../local/odoo/server.ts';
import { loadFixture } from '../support/fixtures.ts';
import { sendFixture, startTestRuntime, waitFor } from '../support/local-runtime.ts';

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
  for (const name of ['stripe/payment_intent.succeeded', 'stripe/invoice.paid'])
    await sendFixture(runtime, loadFixture(name));
  await waitFor('the payment and the invoice', async () => {
    const trails = await Promise.all(
      ['evt_3QkZCxLkdIwHu7ix0Wm4yJtF', 'evt_1QkaQ2LkdIwHu7ixKp7bT1nE'].map((id) =>
        lineage.byEvent('stripe', id),
      ),
    );
    return trails.every((t) => t.some((e) => e.stage === 'applied'));
  });
}, 60_000);
afterAll(() => runtime.dispose());

describe('reconciliation: lineage against Odoo', () => {
  it('reports everything matched, with counts and sums on both sides', async () => {
    const report = await reconcileContractDay(payments, '2025-01-27', { lineage, odoo });
    expect(report).toMatchObject({
      contract: 'stripe.payment-intent@1.1.0',
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
