/**
 * Finance conformance: reference data, products, taxes, orders, invoices, payments,
 * reconciliation and credit notes, over raw JSON-RPC `execute_kw` only, so the same cases run
 * against the emulator and a real Odoo (ODOO_URL=...). Records are tagged `spine-conformance-…`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConformanceTarget, conformanceTarget, jsonRpc, uniqueTag } from './target.ts';

let target: ConformanceTarget;
let uid: number;
let adminUid: number;
let tag: string;
let partner: number;
let roundGlobally: boolean;

class RpcError extends Error {
  constructor(
    readonly odooName: string,
    message: string,
  ) {
    super(message);
  }
}

async function kw(
  model: string,
  method: string,
  args: unknown[],
  kwargs: Record<string, unknown> = {},
  as: 'integration' | 'admin' = 'integration',
): Promise<unknown> {
  const { body } = await jsonRpc(target, 'object', 'execute_kw', [
    target.db,
    as === 'admin' ? adminUid : uid,
    as === 'admin' ? target.admin.password : target.password,
    model,
    method,
    args,
    kwargs,
  ]);
  if (body.error) throw new RpcError(body.error.data.name, body.error.data.message);
  return body.result;
}

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error as RpcError,
  );

async function readOne(model: string, id: number, fields: string[]) {
  const [record] = (await kw(model, 'read', [[id], fields])) as Record<string, unknown>[];
  return record as Record<string, unknown>;
}

const createOne = async (model: string, vals: Record<string, unknown>, context = {}) =>
  (await kw(model, 'create', [[vals]], { context })) as number[];

/** Reference data (taxes, pricelists) is an administrator's to create, as in a real Odoo. */
const createReference = async (model: string, vals: Record<string, unknown>) =>
  (await kw(model, 'create', [[vals]], {}, 'admin')) as number[];

/** A percent tax, included in the price or not, in the field each version has. */
async function percentTax(amount: number, included: boolean): Promise<number> {
  const [tax = 0] = await createReference('account.tax', {
    name: `${tag} ${amount}%${included ? ' incl' : ''}`,
    amount_type: 'percent',
    amount,
    type_tax_use: 'sale',
    ...(target.version >= 18
      ? { price_include_override: included ? 'tax_included' : 'tax_excluded' }
      : { price_include: included }),
  });
  return tax;
}

async function product(name: string, price: number, taxes: number[]): Promise<number> {
  const [template = 0] = await createOne('product.template', {
    name: `${tag} ${name}`,
    list_price: price,
    taxes_id: [[6, 0, taxes]],
  });
  const { product_variant_ids: variants } = await readOne('product.template', template, [
    'product_variant_ids',
  ]);
  return (variants as number[])[0] as number;
}

async function receivableLines(move: number): Promise<number[]> {
  return (await kw('account.move.line', 'search', [
    [
      ['move_id', '=', move],
      ['account_type', '=', 'asset_receivable'],
    ],
  ])) as number[];
}

async function postedInvoice(lines: Record<string, unknown>[]): Promise<number> {
  const [invoice = 0] = await createOne('account.move', {
    move_type: 'out_invoice',
    partner_id: partner,
    ref: tag,
    invoice_line_ids: lines.map((line) => [0, 0, line]),
  });
  await kw('account.move', 'action_post', [[invoice]]);
  return invoice;
}

beforeAll(async () => {
  target = await conformanceTarget();
  uid = (
    await jsonRpc(target, 'common', 'authenticate', [target.db, target.login, target.password, {}])
  ).body.result as number;
  adminUid = (
    await jsonRpc(target, 'common', 'authenticate', [
      target.db,
      target.admin.login,
      target.admin.password,
      {},
    ])
  ).body.result as number;
  tag = uniqueTag();
  [partner = 0] = await createOne('res.partner', { name: `${tag} Customer`, ref: tag });
  const [company] = (await kw(
    'res.company',
    'search_read',
    [[], ['tax_calculation_rounding_method']],
    {
      limit: 1,
    },
  )) as Record<string, unknown>[];
  roundGlobally = company?.tax_calculation_rounding_method === 'round_globally';
});
afterAll(() => target.stop());

describe('Odoo finance conformance: reference data', () => {
  it('has every ISO country, by upper-case code', async () => {
    expect(await kw('res.country', 'search_count', [[]])).toBeGreaterThanOrEqual(249);
    for (const code of ['CH', 'LI', 'XK', 'AX', 'CW', 'US', 'GB', 'JP'])
      expect(await kw('res.country', 'search_count', [[['code', '=', code]]])).toBe(1);
    const [switzerland] = (await kw('res.country', 'search_read', [
      [['code', '=', 'CH']],
      ['name', 'code'],
    ])) as Record<string, unknown>[];
    expect(switzerland).toMatchObject({ name: 'Switzerland', code: 'CH' });
  });

  it('has the ISO currencies with their rounding, active or not', async () => {
    const currencies = (await kw(
      'res.currency',
      'search_read',
      [
        [['name', 'in', ['EUR', 'USD', 'GBP', 'CHF', 'JPY', 'CAD', 'KWD']]],
        ['name', 'rounding', 'decimal_places'],
      ],
      { context: { active_test: false } },
    )) as Record<string, unknown>[];
    const byName = Object.fromEntries(currencies.map((c) => [c.name, c]));
    expect(Object.keys(byName).sort()).toEqual(['CAD', 'CHF', 'EUR', 'GBP', 'JPY', 'KWD', 'USD']);
    expect(byName.JPY).toMatchObject({ rounding: 1, decimal_places: 0 });
    expect(byName.KWD).toMatchObject({ rounding: 0.001, decimal_places: 3 });
    for (const name of ['EUR', 'USD', 'GBP', 'CHF', 'CAD'])
      expect(byName[name]).toMatchObject({ rounding: 0.01, decimal_places: 2 });
  });
});

describe('Odoo finance conformance: products', () => {
  it('creates the variant of a new template, and the variant follows the template', async () => {
    const [template = 0] = await createOne('product.template', {
      name: `${tag} Kit`,
      list_price: 10,
    });
    const { product_variant_ids: variants } = await readOne('product.template', template, [
      'product_variant_ids',
    ]);
    expect(variants).toHaveLength(1);
    const variant = (variants as number[])[0] as number;
    await kw('product.template', 'write', [[template], { list_price: 12.5, name: `${tag} Kit 2` }]);
    expect(
      await readOne('product.product', variant, ['name', 'list_price', 'product_tmpl_id']),
    ).toMatchObject({
      name: `${tag} Kit 2`,
      list_price: 12.5,
      product_tmpl_id: [template, `${tag} Kit 2`],
    });
  });

  it('creates the template of a new variant', async () => {
    const [variant = 0] = await createOne('product.product', {
      name: `${tag} Solo`,
      list_price: 3,
    });
    const { product_tmpl_id: template } = await readOne('product.product', variant, [
      'product_tmpl_id',
    ]);
    const { product_variant_ids: variants } = await readOne(
      'product.template',
      (template as [number, string])[0],
      ['product_variant_ids'],
    );
    expect(variants).toEqual([variant]);
  });
});

describe('Odoo finance conformance: sales orders', () => {
  it('takes its currency from the pricelist and computes amounts with discounts and taxes', async () => {
    const [chf] = (await kw('res.currency', 'search', [[['name', '=', 'CHF']]], {
      context: { active_test: false },
    })) as number[];
    const [pricelist = 0] = await createReference('product.pricelist', {
      name: `${tag} CHF`,
      currency_id: chf,
    });
    const tax = await percentTax(10, false);
    const widget = await product('Widget', 19.99, [tax]);
    const taxField = target.version >= 19 ? 'tax_ids' : 'tax_id';
    const line = {
      product_id: widget,
      product_uom_qty: 3,
      price_unit: 19.99,
      discount: 10,
      [taxField]: [[6, 0, [tax]]],
    };
    const [order = 0] = await createOne('sale.order', {
      partner_id: partner,
      client_order_ref: tag,
      pricelist_id: pricelist,
      order_line: [
        [0, 0, line],
        [0, 0, line],
      ],
    });
    const read = await readOne('sale.order', order, [
      'currency_id',
      'amount_untaxed',
      'amount_tax',
      'amount_total',
      'state',
      'order_line',
    ]);
    expect((read.currency_id as [number, string])[1]).toBe('CHF');
    // 3 × 19.99 − 10 % = 53.973 a line, its 10 % tax 5.3973. Per line: 53.97 + 5.40 twice;
    // globally: base 107.946 → 107.95 and tax 10.7946 → 10.79, rounded once each.
    expect(read.amount_untaxed).toBe(roundGlobally ? 107.95 : 107.94);
    expect(read.amount_tax).toBe(roundGlobally ? 10.79 : 10.8);
    expect(read.amount_total).toBe(118.74);
    const lines = (await kw('sale.order.line', 'read', [
      read.order_line as number[],
      ['price_subtotal'],
    ])) as { price_subtotal: number }[];
    for (const { price_subtotal } of lines)
      expect(Math.abs(price_subtotal - 53.973)).toBeLessThan(0.01);
    // 18 spreads the cents global rounding moves onto the lines, so they add up to the order.
    if (target.version >= 18 || !roundGlobally)
      expect(lines.reduce((s, l) => s + l.price_subtotal, 0)).toBeCloseTo(
        read.amount_untaxed as number,
        6,
      );
  });

  it('confirms a quotation once, and refuses to confirm a cancelled one', async () => {
    const widget = await product('Gizmo', 5, []);
    const [order = 0] = await createOne('sale.order', {
      partner_id: partner,
      client_order_ref: tag,
      order_line: [[0, 0, { product_id: widget, product_uom_qty: 1, price_unit: 5 }]],
    });
    expect(await readOne('sale.order', order, ['name'])).toMatchObject({
      name: expect.stringMatching(/^S\d{5,}$/),
    });
    expect(await kw('sale.order', 'action_confirm', [[order]])).toBe(true);
    expect((await readOne('sale.order', order, ['state'])).state).toBe('sale');
    const again = await failure(kw('sale.order', 'action_confirm', [[order]]));
    if (target.version >= 17) expect(again?.odooName).toBe('odoo.exceptions.UserError');
    else expect(again).toBeUndefined();

    // Cancelling a confirmed order asks for the wizard (16–18) unless told not to warn.
    const answer = await kw('sale.order', 'action_cancel', [[order]]);
    if (target.version < 19) {
      expect(answer).toMatchObject({
        res_model: 'sale.order.cancel',
        type: 'ir.actions.act_window',
      });
      expect((await readOne('sale.order', order, ['state'])).state).toBe('sale');
      await kw('sale.order', 'action_cancel', [[order]], {
        context: { disable_cancel_warning: true },
      });
    }
    expect((await readOne('sale.order', order, ['state'])).state).toBe('cancel');
    const refused = await failure(kw('sale.order', 'action_confirm', [[order]]));
    expect(refused?.odooName).toBe('odoo.exceptions.UserError');
  });

  it('dates a confirmed order now, and keeps the order date written back after', async () => {
    const widget = await product('Dated', 5, []);
    const ordered = '2025-01-28 14:00:12';
    const [order = 0] = await createOne('sale.order', {
      partner_id: partner,
      client_order_ref: tag,
      date_order: ordered,
      order_line: [[0, 0, { product_id: widget, product_uom_qty: 1, price_unit: 5 }]],
    });
    await kw('sale.order', 'action_confirm', [[order]]);
    const confirmed = await readOne('sale.order', order, ['date_order', 'state']);
    expect(confirmed.state).toBe('sale');
    expect(confirmed.date_order).not.toBe(ordered);
    await kw('sale.order', 'write', [[order], { date_order: ordered }]);
    expect((await readOne('sale.order', order, ['date_order'])).date_order).toBe(ordered);
  });

  it("imports an order whose line's taxes are left empty with no tax on that line, not its product's", async () => {
    const tax = await percentTax(15, false);
    const included = await percentTax(19, true);
    const taxed = await product('Taxed by default', 10, [tax]);
    const taxField = target.version >= 19 ? 'tax_ids' : 'tax_id';
    const result = (await kw('sale.order', 'load', [
      [
        'partner_id/.id',
        'client_order_ref',
        'order_line/product_id/.id',
        'order_line/price_unit',
        'order_line/product_uom_qty',
        `order_line/${taxField}/.id`,
      ],
      [
        [String(partner), tag, String(taxed), '10', '1', ''],
        ['', '', String(taxed), '11.90', '1', String(included)],
        ['', '', String(taxed), '-1.19', '1', String(included)],
      ],
    ])) as { ids: number[] | false; messages: unknown[] };
    expect(result.messages).toEqual([]);
    const [order = 0] = result.ids as number[];
    const read = await readOne('sale.order', order, ['amount_untaxed', 'amount_tax', 'order_line']);
    const lines = (await kw('sale.order.line', 'read', [
      read.order_line as number[],
      [taxField, 'price_subtotal'],
    ])) as Record<string, unknown>[];
    expect(lines.map((l) => l[taxField])).toEqual([[], [included], [included]]);
    // 11.90 and −1.19, 19 % included: 10.00 + 1.90 and −1.00 − 0.19 (a discount line's tax).
    expect(read.amount_untaxed).toBe(19);
    expect(read.amount_tax).toBe(1.71);
  });
});

describe('Odoo finance conformance: invoices, payments, credit notes', () => {
  it('computes fixed, included and excluded taxes with compute_all', async () => {
    const included = await percentTax(20, true);
    const excluded = await percentTax(10, false);
    const [fixed = 0] = await createReference('account.tax', {
      name: `${tag} fixed 2`,
      amount_type: 'fixed',
      amount: 2,
      type_tax_use: 'sale',
    });
    const result = (await kw('account.tax', 'compute_all', [[included], 120])) as Record<
      string,
      unknown
    >;
    expect(result).toMatchObject({ total_excluded: 100, total_included: 120 });
    const both = (await kw('account.tax', 'compute_all', [[excluded, fixed], 50], {
      quantity: 3,
    })) as { total_excluded: number; total_included: number; taxes: { amount: number }[] };
    expect(both.total_excluded).toBe(150);
    expect(both.total_included).toBe(171);
    expect(both.taxes.map((t) => t.amount).sort((a, b) => a - b)).toEqual([6, 15]);
  });

  it('posts an invoice with a number, refuses to post it twice, and follows its payments', async () => {
    const tax = await percentTax(15, false);
    const invoice = await postedInvoice([
      { name: `${tag} service`, quantity: 2, price_unit: 100, tax_ids: [[6, 0, [tax]]] },
      { name: `${tag} fee`, quantity: 1, price_unit: 50, tax_ids: [[6, 0, []]] },
    ]);
    expect(
      await readOne('account.move', invoice, [
        'name',
        'state',
        'amount_untaxed',
        'amount_tax',
        'amount_total',
        'amount_residual',
        'payment_state',
      ]),
    ).toMatchObject({
      name: expect.stringMatching(/^INV\/\d{4}\/\d{5,}$/),
      state: 'posted',
      amount_untaxed: 250,
      amount_tax: 30,
      amount_total: 280,
      amount_residual: 280,
      payment_state: 'not_paid',
    });
    expect((await failure(kw('account.move', 'action_post', [[invoice]])))?.odooName).toBe(
      'odoo.exceptions.UserError',
    );

    // A partial payment through the register wizard.
    const context = { active_model: 'account.move', active_ids: [invoice] };
    const [wizard = 0] = await createOne('account.payment.register', { amount: 100 }, context);
    await kw('account.payment.register', 'action_create_payments', [[wizard]], { context });
    expect(await readOne('account.move', invoice, ['amount_residual', 'payment_state'])).toEqual({
      id: invoice,
      amount_residual: 180,
      payment_state: 'partial',
    });

    // The rest by hand: a posted payment whose receivable line is matched with the invoice.
    const [payment = 0] = await createOne('account.payment', {
      payment_type: 'inbound',
      partner_type: 'customer',
      partner_id: partner,
      amount: 180,
    });
    await kw('account.payment', 'action_post', [[payment]]);
    const { move_id: move, state } = await readOne('account.payment', payment, [
      'move_id',
      'state',
    ]);
    expect(state).toBe(target.version >= 18 ? 'in_process' : 'posted');
    const [line] = await receivableLines((move as [number, string])[0]);
    await kw('account.move', 'js_assign_outstanding_line', [[invoice], line]);
    expect(await readOne('account.move', invoice, ['amount_residual', 'payment_state'])).toEqual({
      id: invoice,
      amount_residual: 0,
      payment_state: 'paid',
    });
    const paid = await readOne('account.payment', payment, ['is_reconciled', 'state']);
    expect(paid.is_reconciled).toBe(true);
    if (target.version >= 18) expect(paid.state).toBe('paid');
    const twice = await failure(kw('account.move.line', 'reconcile', [[line as number]]));
    expect(twice?.odooName).toBe('odoo.exceptions.UserError');
  });

  it('refunds an invoice with a credit note that, once matched, reverses it', async () => {
    const invoice = await postedInvoice([
      { name: `${tag} licence`, quantity: 1, price_unit: 99.5, tax_ids: [[6, 0, []]] },
    ]);
    const context = { active_model: 'account.move', active_ids: [invoice] };
    const [wizard = 0] = await createOne(
      'account.move.reversal',
      { reason: 'conformance', ...(target.version < 17 ? { refund_method: 'refund' } : {}) },
      context,
    );
    const action = (await kw(
      'account.move.reversal',
      target.version >= 17 ? 'refund_moves' : 'reverse_moves',
      [[wizard]],
      { context },
    )) as { res_id: number };
    const refund = action.res_id;
    expect(
      await readOne('account.move', refund, [
        'move_type',
        'state',
        'reversed_entry_id',
        'amount_total',
      ]),
    ).toMatchObject({
      move_type: 'out_refund',
      state: 'draft',
      reversed_entry_id: [invoice, expect.any(String)],
      amount_total: 99.5,
    });
    await kw('account.move', 'action_post', [[refund]]);
    expect((await readOne('account.move', refund, ['name'])).name).toMatch(/^RINV\/\d{4}\/\d{5,}$/);
    const [line] = await receivableLines(refund);
    await kw('account.move', 'js_assign_outstanding_line', [[invoice], line]);
    expect(await readOne('account.move', invoice, ['amount_residual', 'payment_state'])).toEqual({
      id: invoice,
      amount_residual: 0,
      payment_state: 'reversed',
    });
  });
});
