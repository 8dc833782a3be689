/**
 * Shopify orders to the cent, against the Odoo emulator of every version: the order's currency
 * through its pricelist, each line's taxes from the taxes crosswalk, discounts and shipping as
 * lines with their taxes, price-included stores; Odoo's amount_total and amount_tax equal
 * Shopify's total_price and total_tax. A cent of per-line rounding is booked on rounding lines,
 * more fails the event; a paid order is confirmed and a cancelled one cancelled, each once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { loadContractRegistry } from '../../functions/contracts/index.ts';
import { ReferenceNotDeclared, TotalsDiffer } from '../../functions/errors/index.ts';
import type { Envelope } from '../../functions/ingest/envelope.ts';
import {
  type ApplyOutcome,
  applyEnvelopes,
  type SyncDependencies,
} from '../../functions/sync/apply.ts';
import { type OdooEmulator, startOdooEmulator } from '../../local/odoo/server.ts';
import { MemoryLineageStore } from '../support/memory-lineage.ts';
import { integrationClient } from '../support/odoo.ts';
import { fixtureEnvelope } from '../support/queued-events.ts';
import { syncDependencies } from '../support/sync.ts';

const registry = loadContractRegistry();
const VERSIONS = [16, 17, 18, 19] as const;

let emulator: OdooEmulator | undefined;
let lineage: MemoryLineageStore;
let deps: SyncDependencies;

async function start(version: (typeof VERSIONS)[number], options: { bare?: boolean } = {}) {
  emulator = await startOdooEmulator({
    version,
    ...(options.bare ? {} : { referenceData: registry.reference }),
  });
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

const admin = (model: string, method: string, args: unknown[]) =>
  (emulator as OdooEmulator).orm.call(2, model, method, args, {});

function order(name: string) {
  const [found] = admin('sale.order', 'search_read', [
    [['client_order_ref', '=', name]],
    ['state', 'amount_untaxed', 'amount_tax', 'amount_total', 'currency_id', 'order_line'],
  ]) as Record<string, unknown>[];
  if (!found) throw new Error(`no order ${name} in Odoo`);
  const state = String(found.state);
  const [currency] = admin('res.currency', 'read', [
    [(found.currency_id as [number])[0]],
    ['name'],
  ]) as {
    name: string;
  }[];
  const lines = admin('sale.order.line', 'read', [
    found.order_line as number[],
    ['name', 'price_unit', 'product_uom_qty', 'price_subtotal'],
  ]) as Record<string, unknown>[];
  return { ...found, state, currency: currency?.name, lines };
}

const stages = (stage: string) => lineage.entries.filter((e) => e.stage === stage);

/** A Shopify order with one taxed line, a discount, and the totals Shopify states. */
function roundingOrder(edit: (event: Record<string, unknown>) => void = () => {}) {
  return fixtureEnvelope(
    'shopify/orders-create',
    (event) => {
      const [line] = event.line_items as Record<string, unknown>[];
      Object.assign(line as object, {
        price: '10.05',
        quantity: 1,
        tax_lines: [{ price: '0.60', rate: 0.06, title: 'State Tax' }],
        discount_allocations: [{ amount: '0.10', discount_application_index: 0 }],
      });
      Object.assign(event, {
        id: '820982911946154799',
        name: '#1099',
        line_items: [line],
        total_line_items_price: '10.05',
        total_discounts: '0.10',
        subtotal_price: '9.95',
        total_tax: '0.60',
        total_price: '10.55',
        financial_status: 'paid',
      });
      edit(event);
    },
    { 'x-shopify-webhook-id': `rounding-${Math.random()}` },
  );
}

describe.each(VERSIONS)('Shopify orders to the cent on Odoo %i', (version) => {
  it("books the sample order in USD with its tax and discount, at Shopify's totals, and confirms it as paid", async () => {
    await start(version);
    expect(await apply(fixtureEnvelope('shopify/orders-create'))).toMatchObject([
      { kind: 'applied', model: 'sale.order' },
    ]);
    const booked = order('#1001');
    expect(booked).toMatchObject({
      currency: 'USD',
      amount_untaxed: 199.65,
      amount_tax: 11.74,
      amount_total: 211.39,
      state: 'sale',
    });
    expect(booked.lines.map((l) => [l.name, l.price_subtotal])).toEqual([
      ['IPod Nano - 8gb - green', 199],
      ['Discount TENOFF on IPod Nano - 8gb - green', -3.33],
      ['Screen protector - clear', 3.98],
    ]);
    expect(stages('confirmed')).toHaveLength(1);
    expect(stages('rounded')).toHaveLength(0);
  });

  it('books a price-included EUR order with taxed shipping through the EUR pricelist, and confirms it once paid', async () => {
    await start(version);
    expect(await apply(fixtureEnvelope('shopify/orders-create-eur'))).toMatchObject([
      { kind: 'applied' },
    ]);
    expect(order('#1002')).toMatchObject({
      currency: 'EUR',
      amount_tax: 9.56,
      amount_total: 59.87,
      state: 'draft',
    });
    expect(await apply(fixtureEnvelope('shopify/orders-updated'))).toMatchObject([
      { kind: 'applied' },
    ]);
    expect(order('#1002')).toMatchObject({ amount_total: 59.87, state: 'sale' });
    // Delivered again (a replay, a Shopify retry): nothing more happens.
    const again = fixtureEnvelope('shopify/orders-updated', () => {}, {
      'x-shopify-webhook-id': 'a-later-retry',
    });
    await apply(again);
    expect(order('#1002').state).toBe('sale');
    expect(stages('confirmed')).toHaveLength(1);
  });

  it('cancels a cancelled order, and a later update never reopens or confirms it', async () => {
    await start(version);
    expect(await apply(fixtureEnvelope('shopify/orders-cancelled'))).toMatchObject([
      { kind: 'applied' },
    ]);
    expect(order('#1003')).toMatchObject({ state: 'cancel', amount_total: 4.22 });
    const paidLater = fixtureEnvelope(
      'shopify/orders-cancelled',
      (event) => {
        event.financial_status = 'paid';
        event.updated_at = '2025-01-30T18:00:00-05:00';
      },
      { 'x-shopify-topic': 'orders/updated', 'x-shopify-webhook-id': 'later-update' },
    );
    expect(await apply(paidLater)).toMatchObject([{ kind: 'applied' }]);
    expect(order('#1003').state).toBe('cancel');
    expect(stages('cancelled')).toHaveLength(1);
    expect(stages('confirmed')).toHaveLength(0);
  });

  it('books a cent of per-line rounding on rounding lines, in the open, and adds none on replay', async () => {
    await start(version);
    const event = roundingOrder();
    expect(await apply(event)).toMatchObject([{ kind: 'applied' }]);
    const booked = order('#1099');
    expect(booked).toMatchObject({ amount_tax: 0.6, amount_total: 10.55, state: 'sale' });
    const rounding = booked.lines.filter((l) => String(l.name).includes('ounding'));
    // Odoo 19 rounds globally (0.597 → 0.60, as Shopify); per-line rounding gives 0.59.
    if (version === 19) expect(rounding).toEqual([]);
    else {
      expect(rounding.length).toBeGreaterThan(0);
      expect(stages('rounded')).toHaveLength(1);
    }
    await apply({ ...event, id: `${event.id}-replayed` });
    expect(order('#1099').lines).toHaveLength(booked.lines.length);
  });

  it('fails an order whose totals Odoo cannot reproduce, naming both, and confirms nothing', async () => {
    await start(version);
    const [outcome] = await apply(roundingOrder((event) => (event.total_price = '12.55')));
    expect(outcome).toMatchObject({ kind: 'failed', retryable: false });
    const error = (outcome as { error: Error }).error;
    expect(error).toBeInstanceOf(TotalsDiffer);
    expect(error.message).toMatch(/the event's is 12\.55 USD/);
    expect(order('#1099').state).toBe('draft');
  });

  it('fails an order in a currency with no pricelist entry, naming the crosswalk', async () => {
    await start(version);
    const [outcome] = await apply(
      fixtureEnvelope('shopify/orders-create', (event) => {
        event.currency = 'JPY';
      }),
    );
    expect(outcome).toMatchObject({ kind: 'failed', retryable: false });
    expect((outcome as { error: Error }).error).toBeInstanceOf(ReferenceNotDeclared);
    expect((outcome as { error: Error }).error.message).toMatch(/pricelists.*shopify:JPY/);
  });
});

describe("the store's company", () => {
  it('books an order in the company the companies crosswalk names for its store', async () => {
    await start(18);
    await apply(fixtureEnvelope('shopify/orders-create'));
    const [booked] = admin('sale.order', 'search_read', [
      [['client_order_ref', '=', '#1001']],
      ['company_id'],
    ]) as { company_id: [number, string] }[];
    expect(booked?.company_id[1]).toBe('My Company');
  });

  it('fails an order from a store the crosswalk does not name, naming the store', async () => {
    await start(18);
    const [outcome] = await apply(
      fixtureEnvelope('shopify/orders-create', () => {}, {
        'x-shopify-shop-domain': 'another-store.myshopify.com',
      }),
    );
    expect(outcome).toMatchObject({ kind: 'failed', retryable: false });
    expect((outcome as { error: Error }).error.message).toMatch(
      /companies.*"shopify:another-store\.myshopify\.com"/,
    );
  });
});

describe('a fresh Odoo without the reference data', () => {
  it('fails the order permanently naming the crosswalk entry to create', async () => {
    await start(18, { bare: true });
    const [outcome] = await apply(fixtureEnvelope('shopify/orders-create'));
    expect(outcome).toMatchObject({ kind: 'failed', retryable: false });
    expect((outcome as { error: Error }).error.message).toMatch(
      /(pricelists\/shopify:USD|taxes\/shopify:US:State Tax:6%:excluded|service-products)/,
    );
  });
});
