/**
 * The finance behaviour of the emulated Odoo: order and invoice amounts with taxes, the
 * workflow methods an integration calls (sale.order action_confirm / action_cancel,
 * account.move action_post, account.payment action_post, reconciliation, the payment register
 * and reversal wizards) and the checks and messages with which Odoo refuses them.
 *
 * Modelled on `sale/models/sale_order.py`, `account/models/account_move.py`,
 * `account_move_line.py`, `account_payment.py`, `account/wizard/account_payment_register.py` and
 * `account_move_reversal.py` of Odoo 16–19 as summarised in shared/reference/odoo-accounting.md;
 * simplifications are named where they are made.
 */
import {
  type DocumentTotals,
  documentTotals,
  floatRound,
  isZero,
  type LineInput,
  type RoundingMethod,
  type TaxSpec,
} from './accounting.ts';
import { userError, validationError } from './exceptions.ts';
import type { OdooVersion, RecordView } from './models.ts';

/** What the workflow needs from the ORM: reads, writes through its checks, raw stored values. */
export interface Books {
  readonly version: OdooVersion;
  readonly context: Record<string, unknown>;
  view(model: string, id: number): RecordView;
  /** Through the ORM's validation, as the superuser would (access is checked by the caller). */
  create(model: string, vals: Record<string, unknown>): number;
  write(model: string, id: number, vals: Record<string, unknown>): void;
  unlink(model: string, id: number): void;
  /** Stored values Odoo computes itself (residuals, states), written without validation. */
  store(model: string, id: number, values: Record<string, unknown>): void;
  next(sequence: string): number;
  search(model: string, domain: unknown[], limit?: number): number[];
}

export const COMPANY = 1;
const INVOICE_TYPES = new Set(['out_invoice', 'out_refund', 'in_invoice', 'in_refund']);
const isInvoice = (move: RecordView) => INVOICE_TYPES.has(String(move.get('move_type')));
const ids = (value: unknown): number[] => (Array.isArray(value) ? value.map(Number) : []);
const id = (value: unknown): number | undefined =>
  typeof value === 'number' && value > 0 ? value : undefined;
const year = () => new Date().getUTCFullYear();
const pad = (n: number) => String(n).padStart(5, '0');
const today = () => new Date().toISOString().slice(0, 10);

// ---- computed fields ------------------------------------------------------------------------

function company(r: RecordView): RecordView | undefined {
  return r.related('company_id') ?? r.record('res.company', COMPANY);
}

function roundingMethod(r: RecordView): RoundingMethod {
  return company(r)?.get('tax_calculation_rounding_method') === 'round_globally'
    ? 'round_globally'
    : 'round_per_line';
}

function currencyOf(r: RecordView): RecordView | undefined {
  return r.related('currency_id') ?? company(r)?.related('currency_id');
}

const roundingOf = (currency: RecordView | undefined) => Number(currency?.get('rounding')) || 0.01;

/** 18+: `price_include` follows the override, else the company's default (`_compute_price_include`). */
export function taxPriceInclude(tax: RecordView): boolean {
  const override = tax.get('price_include_override');
  if (override) return override === 'tax_included';
  return company(tax)?.get('account_price_include') === 'tax_included';
}

export function taxSpec(tax: RecordView): TaxSpec {
  return {
    id: tax.id,
    name: String(tax.get('name') ?? ''),
    amountType: (tax.get('amount_type') || 'percent') as TaxSpec['amountType'],
    amount: Number(tax.get('amount')) || 0,
    priceInclude: Boolean(tax.get('price_include')),
    includeBaseAmount: Boolean(tax.get('include_base_amount')),
    isBaseAffected: tax.get('is_base_affected') !== false,
    sequence: Number(tax.get('sequence')) || 0,
    children: tax.lines('children_tax_ids').map(taxSpec),
  };
}

const orderTaxField = (version: OdooVersion) => (version >= 19 ? 'tax_ids' : 'tax_id');

function orderLines(order: RecordView): RecordView[] {
  return order.lines('order_line').filter((l) => !l.get('display_type'));
}

export function orderTotals(order: RecordView): DocumentTotals {
  const taxField = orderTaxField(order.version);
  const inputs: LineInput[] = orderLines(order).map((line) => ({
    priceUnit: Number(line.get('price_unit')) || 0,
    quantity: Number(line.get('product_uom_qty')) || 0,
    discount: Number(line.get('discount')) || 0,
    taxes: line.lines(taxField).map(taxSpec),
  }));
  return documentTotals(
    inputs,
    roundingOf(currencyOf(order)),
    roundingMethod(order),
    order.version,
  );
}

const NO_AMOUNTS = { subtotal: 0, tax: 0, total: 0 };

export function orderLineAmounts(line: RecordView) {
  const order = line.related('order_id');
  if (!order || line.get('display_type')) return NO_AMOUNTS;
  const index = orderLines(order).findIndex((l) => l.id === line.id);
  return orderTotals(order).lines[index] ?? NO_AMOUNTS;
}

function productLines(move: RecordView): RecordView[] {
  return move.lines('invoice_line_ids').filter((l) => l.get('display_type') === 'product');
}

export function moveTotals(move: RecordView): DocumentTotals {
  if (!isInvoice(move)) {
    const debit = move.lines('line_ids').reduce((s, l) => s + (Number(l.get('debit')) || 0), 0);
    const amount = floatRound(debit, roundingOf(currencyOf(move)));
    return { lines: [], perTax: new Map(), untaxed: amount, tax: 0, total: amount };
  }
  const inputs: LineInput[] = productLines(move).map((line) => ({
    priceUnit: Number(line.get('price_unit')) || 0,
    quantity: Number(line.get('quantity')) || 0,
    discount: Number(line.get('discount')) || 0,
    taxes: line.lines('tax_ids').map(taxSpec),
  }));
  return documentTotals(inputs, roundingOf(currencyOf(move)), roundingMethod(move), move.version);
}

export function moveLineAmounts(line: RecordView) {
  const move = line.related('move_id');
  if (!move || line.get('display_type') !== 'product' || !isInvoice(move)) {
    const amount = Math.abs(Number(line.get('amount_currency')) || 0);
    return { subtotal: amount, tax: 0, total: amount };
  }
  const index = productLines(move).findIndex((l) => l.id === line.id);
  return moveTotals(move).lines[index] ?? NO_AMOUNTS;
}

/** The receivable / payable lines that carry what the document is owed. */
function termLines(move: RecordView): RecordView[] {
  return move.lines('line_ids').filter((l) => l.get('display_type') === 'payment_term');
}

export function moveResidual(move: RecordView): number {
  if (!isInvoice(move)) return 0;
  const terms = termLines(move);
  if (terms.length === 0) return moveTotals(move).total;
  const residual = terms.reduce((s, l) => s + (Number(l.get('amount_residual_currency')) || 0), 0);
  return Math.abs(floatRound(residual, roundingOf(currencyOf(move))));
}

/** Lines reconciled with `line`, through its partials. */
function counterparts(line: RecordView): RecordView[] {
  return [
    ...line.lines('matched_debit_ids').map((p) => p.related('debit_move_id')),
    ...line.lines('matched_credit_ids').map((p) => p.related('credit_move_id')),
  ].filter((l): l is RecordView => l !== undefined);
}

/**
 * `_compute_payment_state`: paid when nothing is due (Community never shows in_payment),
 * reversed when only credit notes settled it, partial when something did.
 */
export function movePaymentState(move: RecordView): string {
  if (move.get('state') !== 'posted' || !isInvoice(move)) return 'not_paid';
  const others = termLines(move).flatMap(counterparts);
  if (isZero(moveResidual(move), roundingOf(currencyOf(move)))) {
    const types = new Set(others.map((l) => String(l.related('move_id')?.get('move_type'))));
    types.delete('entry');
    const type = String(move.get('move_type'));
    const reverse =
      type === 'out_invoice' ? 'out_refund' : type === 'in_invoice' ? 'in_refund' : '';
    if (reverse && types.size === 1 && types.has(reverse)) return 'reversed';
    return 'paid';
  }
  return others.length > 0 ? 'partial' : 'not_paid';
}

function paymentCounterpart(payment: RecordView): RecordView | undefined {
  return payment
    .related('move_id')
    ?.lines('line_ids')
    .find((l) => l.related('account_id')?.get('account_type') === receivableType(payment));
}

const receivableType = (payment: RecordView) =>
  payment.get('partner_type') === 'supplier' ? 'liability_payable' : 'asset_receivable';

export function paymentReconciled(payment: RecordView): boolean {
  return Boolean(paymentCounterpart(payment)?.get('reconciled'));
}

export function paymentInvoices(payment: RecordView): number[] {
  const line = paymentCounterpart(payment);
  if (!line) return [];
  const moves = counterparts(line)
    .map((l) => l.related('move_id'))
    .filter((m): m is RecordView => m !== undefined && isInvoice(m));
  return [...new Set(moves.map((m) => m.id))].sort((a, b) => a - b);
}

// ---- defaults on create ---------------------------------------------------------------------

function accountOfType(books: Books, type: string): number {
  const [found] = books.search('account.account', [['account_type', '=', type]], 1);
  if (found === undefined) throw userError(`No account of type ${type} in the chart.`);
  return found;
}

function firstJournal(books: Books, types: string[]): number | false {
  return books.search('account.journal', [['type', 'in', types]], 1)[0] ?? false;
}

const companyCurrency = (books: Books) =>
  Number(books.view('res.company', COMPANY).get('currency_id')) || false;

/** Defaults Odoo's computed fields give a new record (the row is about to be inserted). */
export function createDefaults(
  books: Books,
  model: string,
  row: Record<string, unknown>,
  given: Record<string, unknown>,
): void {
  switch (model) {
    case 'res.country':
      if (typeof row.code === 'string') row.code = row.code.toUpperCase();
      break;
    case 'product.template': {
      const tax = id(books.view('res.company', COMPANY).get('account_sale_tax_id'));
      if (!('taxes_id' in given) && tax) row.taxes_id = [tax];
      break;
    }
    case 'sale.order': {
      if (!('pricelist_id' in given) && books.version < 17) {
        const currency = companyCurrency(books);
        row.pricelist_id =
          books.search('product.pricelist', [['currency_id', '=', currency]], 1)[0] ?? false;
      }
      if (!('currency_id' in given)) row.currency_id = pricelistCurrency(books, row.pricelist_id);
      break;
    }
    case 'sale.order.line':
      if (!(orderTaxField(books.version) in given) && id(row.product_id))
        row[orderTaxField(books.version)] = productTaxes(books, Number(row.product_id));
      break;
    case 'account.move': {
      const type = String(row.move_type);
      if (!row.journal_id)
        row.journal_id = firstJournal(
          books,
          type.startsWith('out_') ? ['sale'] : type.startsWith('in_') ? ['purchase'] : ['general'],
        );
      if (!row.currency_id)
        row.currency_id =
          (id(row.journal_id) &&
            id(books.view('account.journal', Number(row.journal_id)).get('currency_id'))) ||
          companyCurrency(books);
      break;
    }
    case 'account.move.line': {
      const move = id(row.move_id) ? books.view('account.move', Number(row.move_id)) : undefined;
      if (!move || !isInvoice(move) || row.display_type !== 'product') break;
      if (!('tax_ids' in given) && id(row.product_id))
        row.tax_ids = productTaxes(books, Number(row.product_id));
      if (!row.account_id)
        row.account_id =
          id(move.related('journal_id')?.get('default_account_id')) ??
          accountOfType(books, 'income');
      if (!row.partner_id) row.partner_id = move.get('partner_id');
      if (!row.currency_id) row.currency_id = move.get('currency_id');
      break;
    }
    case 'account.payment':
      if (!row.journal_id) row.journal_id = firstJournal(books, ['bank', 'cash']);
      if (!row.currency_id)
        row.currency_id =
          (id(row.journal_id) &&
            id(books.view('account.journal', Number(row.journal_id)).get('currency_id'))) ||
          companyCurrency(books);
      break;
  }
}

function pricelistCurrency(books: Books, pricelist: unknown): number | false {
  const found = id(pricelist);
  return (
    (found && id(books.view('product.pricelist', found).get('currency_id'))) ||
    companyCurrency(books)
  );
}

function productTaxes(books: Books, product: number): number[] {
  const template = id(books.view('product.product', product).get('product_tmpl_id'));
  return template ? ids(books.view('product.template', template).get('taxes_id')) : [];
}

/** What follows a write: the order's currency follows its pricelist (`_compute_currency_id`). */
export function afterWrite(
  books: Books,
  model: string,
  recordId: number,
  vals: Record<string, unknown>,
): void {
  if (model === 'sale.order' && 'pricelist_id' in vals && !('currency_id' in vals))
    books.store('sale.order', recordId, {
      currency_id: pricelistCurrency(books, books.view('sale.order', recordId).get('pricelist_id')),
    });
}

// ---- sale.order -----------------------------------------------------------------------------

export function confirmOrders(books: Books, orderIds: number[]): boolean {
  for (const orderId of orderIds) {
    const order = books.view('sale.order', orderId);
    const state = String(order.get('state'));
    if (books.version === 16) {
      if (state === 'done' || state === 'cancel')
        throw userError(
          'It is not allowed to confirm an order in the following states: done, cancel',
        );
    } else if (state !== 'draft' && state !== 'sent') {
      throw userError(
        books.version >= 18
          ? 'Some orders are not in a state requiring confirmation.'
          : `The following orders are not in a state requiring confirmation: ${order.get('name')}`,
      );
    }
    if (
      books.version >= 18 &&
      order.lines('order_line').some((l) => !l.get('display_type') && !l.get('product_id'))
    )
      throw userError('A line on these orders missing a product, you cannot confirm it.');
  }
  for (const orderId of orderIds)
    books.store('sale.order', orderId, {
      state: 'sale',
      date_order: new Date().toISOString().slice(0, 19).replace('T', ' '),
    });
  return true;
}

/**
 * Public `action_cancel`: a draft order is cancelled at once; any other (16–18) gets the
 * `sale.order.cancel` wizard's action instead, unless context `disable_cancel_warning`.
 */
export function cancelOrders(books: Books, orderIds: number[]): unknown {
  const orders = orderIds.map((o) => books.view('sale.order', o));
  if (books.version >= 17 && orders.some((o) => o.get('locked')))
    throw userError('You cannot cancel a locked order. Please unlock it first.');
  if (
    books.version < 19 &&
    !books.context.disable_cancel_warning &&
    orders.some((o) => o.get('state') !== 'draft')
  ) {
    if (orders.length !== 1)
      throw validationError(`Expected singleton: sale.order(${orderIds.join(', ')},)`);
    const [order] = orders as [RecordView];
    return {
      name: `Cancel ${order.get('state') === 'sale' ? 'Sales Order' : 'Quotation'}`,
      view_mode: 'form',
      res_model: 'sale.order.cancel',
      view_id: false,
      type: 'ir.actions.act_window',
      context: { default_order_id: order.id, mark_so_as_canceled: true },
      target: 'new',
    };
  }
  for (const order of orderIds) books.store('sale.order', order, { state: 'cancel' });
  return true;
}

export function draftOrders(books: Books, orderIds: number[]): boolean {
  for (const order of orderIds) {
    const state = books.view('sale.order', order).get('state');
    if (state === 'cancel' || state === 'sent')
      books.store('sale.order', order, { state: 'draft' });
  }
  return true;
}

// ---- account.move: posting ------------------------------------------------------------------

const sequencePrefix = (move: RecordView) => {
  const code = String(move.related('journal_id')?.get('code') || 'MISC');
  const type = String(move.get('move_type'));
  return type === 'out_refund' || type === 'in_refund' ? `R${code}` : code;
};

/** `_post(soft=False)` for invoices and credit notes: checks, number, journal items. */
export function postMoves(books: Books, moveIds: number[]): false {
  for (const moveId of moveIds) {
    const move = books.view('account.move', moveId);
    if (move.get('payment_id')) {
      // 16/17 post a payment's entry through the payment.
      postPayments(books, [Number(move.get('payment_id'))]);
      continue;
    }
    postMove(books, move);
  }
  return false;
}

function postMove(books: Books, move: RecordView): void {
  if (move.get('state') !== 'draft')
    throw userError(
      books.version >= 17
        ? `The entry ${move.get('name')} (id ${move.id}) must be in draft.`
        : `The entry ${move.get('name')} (id ${move.id}) is already posted.`,
    );
  const invoice = isInvoice(move);
  if (invoice && !move.get('partner_id'))
    throw userError(
      `The field 'Customer' is required, please complete it to validate the ${move.get('move_type') === 'out_refund' ? 'Customer Credit Note' : 'Customer Invoice'}.`,
    );
  if (productLines(move).length === 0 && (invoice || move.lines('line_ids').length === 0))
    throw userError(
      books.version >= 19
        ? "Even magicians can't post nothing!"
        : 'You need to add a line before posting.',
    );
  const totals = moveTotals(move);
  if (invoice && totals.total < 0)
    throw userError(
      'You cannot validate an invoice with a negative total amount. You should create a credit note instead. Use the action menu to transform it into a credit note or refund.',
    );
  const currency = currencyOf(move);
  if (currency && currency.get('active') === false)
    throw userError(
      `The currency (${currency.get('name')}) of the document you are trying to post is not active. Please activate it and its exchange rates first.`,
    );
  const values: Record<string, unknown> = { state: 'posted' };
  if (invoice && !move.get('invoice_date')) values.invoice_date = today();
  if (!move.get('name') || move.get('name') === '/') {
    const prefix = sequencePrefix(move);
    values.name = `${prefix}/${year()}/${pad(books.next(`account.move.${prefix}.${year()}`))}`;
  }
  if (invoice) writeJournalItems(books, move, totals);
  books.store('account.move', move.id, values);
}

/**
 * The tax and receivable lines Odoo keeps in sync with the invoice lines (`_sync_dynamic_lines`).
 * Simplification: written when the invoice is posted, at rate 1 to the company currency.
 */
function writeJournalItems(books: Books, move: RecordView, totals: DocumentTotals): void {
  const type = String(move.get('move_type'));
  // Debit-side sign of what the customer owes: an invoice debits receivable, a refund credits it.
  const sign = type === 'out_invoice' || type === 'in_refund' ? 1 : -1;
  const amounts = (value: number) => ({
    balance: value,
    amount_currency: value,
    debit: value > 0 ? value : 0,
    credit: value < 0 ? -value : 0,
  });
  productLines(move).forEach((line, i) => {
    books.store('account.move.line', line.id, amounts(-sign * (totals.lines[i]?.subtotal ?? 0)));
  });
  for (const line of move.lines('line_ids'))
    if (line.get('display_type') === 'tax' || line.get('display_type') === 'payment_term')
      books.unlink('account.move.line', line.id);
  const partner = move.get('partner_id');
  const currency = move.get('currency_id');
  for (const { tax, amount } of totals.perTax.values()) {
    if (amount === 0) continue;
    books.create('account.move.line', {
      move_id: move.id,
      display_type: 'tax',
      name: tax.name,
      tax_line_id: tax.id,
      account_id: accountOfType(books, 'liability_current'),
      partner_id: partner,
      currency_id: currency,
      quantity: 1,
      ...amounts(-sign * amount),
    });
  }
  const receivable = type.startsWith('in_') ? 'liability_payable' : 'asset_receivable';
  books.create('account.move.line', {
    move_id: move.id,
    display_type: 'payment_term',
    name: String(move.get('payment_reference') || ''),
    account_id: accountOfType(books, receivable),
    partner_id: partner,
    currency_id: currency,
    quantity: 1,
    ...amounts(sign * totals.total),
    amount_residual: sign * totals.total,
    amount_residual_currency: sign * totals.total,
  });
}

export function cancelMoves(books: Books, moveIds: number[]): boolean {
  for (const moveId of moveIds) {
    const move = books.view('account.move', moveId);
    if (move.get('state') !== 'draft')
      throw userError('Only draft journal entries can be cancelled.');
    books.store('account.move', moveId, { state: 'cancel' });
  }
  return true;
}

/** `button_draft`: a posted entry goes back to draft, keeping its number; reconciled ones refuse. */
export function resetMovesToDraft(books: Books, moveIds: number[]): boolean {
  for (const moveId of moveIds) {
    const move = books.view('account.move', moveId);
    if (move.lines('line_ids').some((l) => counterparts(l).length > 0))
      throw userError(
        'You cannot reset to draft a journal entry that is reconciled; remove the reconciliation first.',
      );
    for (const line of move.lines('line_ids'))
      if (line.get('display_type') === 'tax' || line.get('display_type') === 'payment_term')
        books.unlink('account.move.line', line.id);
    books.store('account.move', moveId, { state: 'draft' });
  }
  return true;
}

// ---- account.payment ------------------------------------------------------------------------

/**
 * 16/17: the payment is its journal entry, posted (state `posted`); posting twice is refused as
 * for any entry. 18/19: state `in_process`, its entry made at posting; calling again is harmless.
 */
export function postPayments(books: Books, paymentIds: number[]): unknown {
  for (const paymentId of paymentIds) {
    const payment = books.view('account.payment', paymentId);
    const state = payment.get('state');
    if (books.version < 18 && state !== 'draft')
      throw userError(
        books.version >= 17
          ? `The entry ${payment.get('name')} (id ${payment.related('move_id')?.id ?? paymentId}) must be in draft.`
          : `The entry ${payment.get('name')} (id ${payment.related('move_id')?.id ?? paymentId}) is already posted.`,
      );
    if (books.version >= 18 && state !== 'draft') continue;
    const journal = payment.related('journal_id');
    const code = String(journal?.get('code') || 'BNK1');
    const name = `P${code}/${year()}/${pad(books.next(`account.payment.P${code}.${year()}`))}`;
    const amount = Number(payment.get('amount')) || 0;
    const inbound = payment.get('payment_type') === 'inbound';
    const liquidity = inbound ? amount : -amount;
    const line = (value: number, account: number) => ({
      partner_id: payment.get('partner_id'),
      currency_id: payment.get('currency_id'),
      account_id: account,
      payment_id: paymentId,
      balance: value,
      amount_currency: value,
      debit: value > 0 ? value : 0,
      credit: value < 0 ? -value : 0,
      amount_residual: value,
      amount_residual_currency: value,
      name: String(payment.get(books.version >= 18 ? 'memo' : 'ref') || name),
    });
    const moveId =
      id(payment.get('move_id')) ??
      books.create('account.move', {
        move_type: 'entry',
        journal_id: payment.get('journal_id'),
        currency_id: payment.get('currency_id'),
        partner_id: payment.get('partner_id'),
        date: payment.get('date'),
        payment_id: paymentId,
      });
    books.create('account.move.line', {
      move_id: moveId,
      ...line(liquidity, accountOfType(books, 'asset_current')),
    });
    books.create('account.move.line', {
      move_id: moveId,
      ...line(-liquidity, accountOfType(books, receivableType(payment))),
    });
    books.store('account.move', moveId, { state: 'posted', name });
    books.store('account.payment', paymentId, {
      move_id: moveId,
      name,
      state: books.version >= 18 ? 'in_process' : 'posted',
    });
  }
  return books.version >= 18 ? null : true;
}

/** 16/17 create the payment's journal entry with the payment (`_inherits`). */
export function afterPaymentCreate(books: Books, paymentId: number): void {
  if (books.version >= 18) return;
  const payment = books.view('account.payment', paymentId);
  const moveId = books.create('account.move', {
    move_type: 'entry',
    journal_id: payment.get('journal_id'),
    currency_id: payment.get('currency_id'),
    partner_id: payment.get('partner_id'),
    date: payment.get('date'),
    payment_id: paymentId,
  });
  books.store('account.payment', paymentId, { move_id: moveId });
}

// ---- reconciliation -------------------------------------------------------------------------

/** `account.move.line.reconcile`: debits against credits, oldest first, in partials. */
export function reconcileLines(books: Books, lineIds: number[]): null {
  const lines = [...new Set(lineIds)].map((l) => books.view('account.move.line', l));
  if (lines.length === 0) return null;
  if (lines.some((l) => l.related('move_id')?.get('state') !== 'posted'))
    throw userError(
      books.version >= 19
        ? 'You can not reconcile cancelled entries.'
        : 'You can only reconcile posted entries.',
    );
  if (lines.some((l) => l.get('reconciled')))
    throw userError('You are trying to reconcile some entries that are already reconciled.');
  const accounts = new Set(lines.map((l) => Number(l.get('account_id'))));
  if (accounts.size > 1) {
    const codes = lines.map((l) => l.related('account_id')?.get('code')).join(', ');
    throw userError(`Entries are not from the same account: ${codes}`);
  }
  const account = lines[0]?.related('account_id');
  if (!account?.get('reconcile'))
    throw userError(
      `Account ${account?.get('code')} ${account?.get('name')} does not allow reconciliation. First change the configuration of this account to allow it.`,
    );
  const residual = new Map(lines.map((l) => [l.id, Number(l.get('amount_residual')) || 0]));
  const residualCurrency = new Map(
    lines.map((l) => [l.id, Number(l.get('amount_residual_currency')) || 0]),
  );
  const rounding = roundingOf(books.view('res.company', COMPANY).related('currency_id'));
  const debits = lines.filter((l) => (residual.get(l.id) ?? 0) > 0);
  const credits = lines.filter((l) => (residual.get(l.id) ?? 0) < 0);
  let d = 0;
  let c = 0;
  while (d < debits.length && c < credits.length) {
    const debit = debits[d] as RecordView;
    const credit = credits[c] as RecordView;
    const amount = Math.min(residual.get(debit.id) ?? 0, -(residual.get(credit.id) ?? 0));
    const amountCurrency = Math.min(
      residualCurrency.get(debit.id) ?? 0,
      -(residualCurrency.get(credit.id) ?? 0),
    );
    books.create('account.partial.reconcile', {
      debit_move_id: debit.id,
      credit_move_id: credit.id,
      amount,
      debit_amount_currency: amountCurrency,
      credit_amount_currency: amountCurrency,
    });
    residual.set(debit.id, floatRound((residual.get(debit.id) ?? 0) - amount, rounding));
    residual.set(credit.id, floatRound((residual.get(credit.id) ?? 0) + amount, rounding));
    residualCurrency.set(
      debit.id,
      floatRound((residualCurrency.get(debit.id) ?? 0) - amountCurrency, rounding),
    );
    residualCurrency.set(
      credit.id,
      floatRound((residualCurrency.get(credit.id) ?? 0) + amountCurrency, rounding),
    );
    if (isZero(residual.get(debit.id) ?? 0, rounding)) d++;
    if (isZero(residual.get(credit.id) ?? 0, rounding)) c++;
  }
  for (const line of lines) {
    const left = residual.get(line.id) ?? 0;
    books.store('account.move.line', line.id, {
      amount_residual: left,
      amount_residual_currency: residualCurrency.get(line.id) ?? 0,
      reconciled: isZero(left, rounding),
    });
  }
  settlePayments(books, lines);
  return null;
}

/** 18+: a payment whose reconciled invoices are all paid leaves `in_process` for `paid`. */
function settlePayments(books: Books, lines: RecordView[]): void {
  if (books.version < 18) return;
  for (const line of lines) {
    const paymentId = id(line.get('payment_id'));
    if (!paymentId) continue;
    const payment = books.view('account.payment', paymentId);
    if (payment.get('state') !== 'in_process') continue;
    const invoices = paymentInvoices(payment).map((m) => books.view('account.move', m));
    if (
      invoices.length > 0 &&
      invoices.every((m) => ['paid', 'in_payment', 'reversed'].includes(movePaymentState(m)))
    )
      books.store('account.payment', paymentId, { state: 'paid' });
  }
}

/** `js_assign_outstanding_line`: the given line with the invoice's open lines on its account. */
export function assignOutstandingLine(books: Books, moveId: number, lineId: unknown): null {
  const line = books.view('account.move.line', Number(lineId));
  const account = Number(line.get('account_id'));
  const own = books
    .view('account.move', moveId)
    .lines('line_ids')
    .filter((l) => Number(l.get('account_id')) === account && !l.get('reconciled'))
    .map((l) => l.id);
  return reconcileLines(books, [line.id, ...own]);
}

// ---- wizards --------------------------------------------------------------------------------

/** The moves a wizard acts on, from its context (`active_model` / `active_ids`). */
function activeMoves(books: Books): number[] {
  const active = ids(books.context.active_ids ?? [books.context.active_id].filter(Boolean));
  if (books.context.active_model === 'account.move.line')
    return [
      ...new Set(active.map((l) => Number(books.view('account.move.line', l).get('move_id')))),
    ];
  return books.context.active_model === 'account.move' ? active : [];
}

/** `account.payment.register.default_get`: the open receivable / payable lines and their sum. */
export function paymentRegisterDefaults(
  books: Books,
  given: Record<string, unknown>,
): Record<string, unknown> {
  const moveIds = activeMoves(books);
  if (moveIds.length === 0)
    throw userError(
      'The register payment wizard should only be called on account.move or account.move.line records.',
    );
  const moves = moveIds.map((m) => books.view('account.move', m));
  if (books.version < 18 && moves.some((m) => m.get('state') !== 'posted'))
    throw userError('You can only register payment for posted journal entries.');
  const lines = moves.flatMap((m) =>
    m.get('state') === 'posted' ? termLines(m).filter((l) => !l.get('reconciled')) : [],
  );
  const open = lines.filter(
    (l) =>
      !isZero(Number(l.get('amount_residual_currency')) || 0, roundingOf(l.related('currency_id'))),
  );
  const drafts = books.version >= 18 ? moves.filter((m) => m.get('state') === 'draft') : [];
  if (open.length === 0 && drafts.length === 0)
    throw userError(
      "You can't register a payment because there is nothing left to pay on the selected journal items.",
    );
  const [first] = moves as [RecordView];
  const due =
    open.reduce((s, l) => s + (Number(l.get('amount_residual_currency')) || 0), 0) +
    drafts.reduce(
      (s, m) => s + (m.get('move_type') === 'out_refund' ? -1 : 1) * moveTotals(m).total,
      0,
    );
  return {
    line_ids: open.map((l) => l.id),
    amount: Math.abs(floatRound(due, roundingOf(currencyOf(first)))),
    currency_id: first.get('currency_id'),
    partner_id: first.get('partner_id'),
    payment_type: due >= 0 ? 'inbound' : 'outbound',
    partner_type: String(first.get('move_type')).startsWith('in_') ? 'supplier' : 'customer',
    journal_id: firstJournal(books, ['bank', 'cash']),
    communication: moves
      .map((m) => String(m.get('payment_reference') || m.get('ref') || m.get('name') || ''))
      .filter(Boolean)
      .join(' '),
    ...given,
  };
}

/**
 * `action_create_payments`: create, post, reconcile with the wizard's lines. Answers the
 * payment's form action, or True with context `dont_redirect_to_payments`.
 */
export function createPayments(books: Books, wizardId: number): unknown {
  const wizard = books.view('account.payment.register', wizardId);
  const memo = books.version >= 18 ? 'memo' : 'ref';
  let lines = wizard.lines('line_ids');
  if (lines.length === 0 && books.version >= 18) {
    // 18+ may pay a draft invoice: it is posted first.
    const drafts = activeMoves(books).filter(
      (m) => books.view('account.move', m).get('state') === 'draft',
    );
    postMoves(books, drafts);
    lines = drafts.flatMap((m) => termLines(books.view('account.move', m)));
  }
  const paymentId = books.create('account.payment', {
    payment_type: wizard.get('payment_type'),
    partner_type: wizard.get('partner_type'),
    partner_id: wizard.get('partner_id'),
    amount: wizard.get('amount'),
    currency_id: wizard.get('currency_id'),
    journal_id: wizard.get('journal_id'),
    date: wizard.get('payment_date'),
    [memo]: wizard.get('communication') || false,
  });
  postPayments(books, [paymentId]);
  const payment = books.view('account.payment', paymentId);
  const counterpart = paymentCounterpart(payment);
  const open = lines.filter((l) => !books.view('account.move.line', l.id).get('reconciled'));
  if (counterpart && open.length > 0)
    reconcileLines(books, [counterpart.id, ...open.map((l) => l.id)]);
  if (books.context.dont_redirect_to_payments) return true;
  return {
    name: 'Payments',
    type: 'ir.actions.act_window',
    res_model: 'account.payment',
    context: { create: false },
    view_mode: 'form',
    res_id: paymentId,
  };
}

export function reversalDefaults(
  books: Books,
  given: Record<string, unknown>,
): Record<string, unknown> {
  const moves = activeMoves(books);
  return {
    ...(moves.length > 0 && !('move_ids' in given) ? { move_ids: [[6, 0, moves]] } : {}),
    ...given,
  };
}

/**
 * The reversal wizard: `refund_moves` (a draft credit note), `modify_moves` (credit note posted
 * and reconciled with the invoice, plus a new draft copy), 16's `reverse_moves` by
 * `refund_method`; all end in `_reverse_moves` (copies as out_refund with reversed_entry_id).
 */
export function reverseMoves(
  books: Books,
  wizardId: number,
  mode: 'refund' | 'cancel' | 'modify',
): unknown {
  const wizard = books.view('account.move.reversal', wizardId);
  const created: number[] = [];
  for (const move of wizard.lines('move_ids')) {
    if (move.get('state') !== 'posted') throw userError('You can only reverse posted moves.');
    const reason = wizard.get('reason');
    const refund = books.create('account.move', {
      move_type: reverseType(String(move.get('move_type'))),
      partner_id: move.get('partner_id'),
      currency_id: move.get('currency_id'),
      journal_id: wizard.get('journal_id') || move.get('journal_id'),
      invoice_date: wizard.get('date') || today(),
      date: wizard.get('date') || today(),
      ref: reason
        ? `Reversal of: ${move.get('name')}, ${reason}`
        : `Reversal of: ${move.get('name')}`,
      reversed_entry_id: move.id,
      invoice_line_ids: productLines(move).map((l) => [0, 0, lineCopy(l)]),
    });
    created.push(refund);
    if (mode === 'cancel' || mode === 'modify') {
      postMoves(books, [refund]);
      const account = termLines(move)[0]?.get('account_id');
      const toMatch = [...termLines(move), ...termLines(books.view('account.move', refund))]
        .filter((l) => l.get('account_id') === account && !l.get('reconciled'))
        .map((l) => l.id);
      reconcileLines(books, toMatch);
    }
    if (mode === 'modify')
      created.push(
        books.create('account.move', {
          move_type: move.get('move_type'),
          partner_id: move.get('partner_id'),
          currency_id: move.get('currency_id'),
          journal_id: move.get('journal_id'),
          invoice_line_ids: productLines(move).map((l) => [0, 0, lineCopy(l)]),
        }),
      );
  }
  books.store('account.move.reversal', wizardId, { new_move_ids: created });
  const action: Record<string, unknown> = {
    name: 'Reverse Moves',
    type: 'ir.actions.act_window',
    res_model: 'account.move',
  };
  const shown = mode === 'modify' ? created.slice(-1) : created;
  return shown.length === 1
    ? { ...action, view_mode: 'form', res_id: shown[0] }
    : { ...action, view_mode: 'list,form', domain: [['id', 'in', shown]] };
}

const reverseType = (type: string) =>
  ({
    out_invoice: 'out_refund',
    out_refund: 'out_invoice',
    in_invoice: 'in_refund',
    in_refund: 'in_invoice',
  })[type] ?? 'entry';

function lineCopy(line: RecordView): Record<string, unknown> {
  return {
    name: line.get('name'),
    product_id: line.get('product_id'),
    quantity: line.get('quantity'),
    price_unit: line.get('price_unit'),
    discount: line.get('discount'),
    account_id: line.get('account_id'),
    tax_ids: [[6, 0, ids(line.get('tax_ids'))]],
  };
}

// ---- account.tax.compute_all ----------------------------------------------------------------

/** The public `compute_all(price_unit, currency, quantity, ...)` of the taxes, as a dict. */
export function computeAllPublic(
  books: Books,
  taxIds: number[],
  p: Record<string, unknown>,
): Record<string, unknown> {
  const taxes = taxIds.map((t) => taxSpec(books.view('account.tax', t)));
  const currencyId = id(p.currency) ?? Number(companyCurrency(books));
  const currency = books.view('res.currency', currencyId);
  const companyView = books.view('res.company', COMPANY);
  const method: RoundingMethod =
    companyView.get('tax_calculation_rounding_method') === 'round_globally'
      ? 'round_globally'
      : 'round_per_line';
  const quantity = typeof p.quantity === 'number' ? p.quantity : 1;
  const totals = documentTotals(
    [{ priceUnit: Number(p.price_unit) || 0, quantity, discount: 0, taxes }],
    roundingOf(currency),
    method,
    books.version,
  );
  const line = totals.lines[0] ?? NO_AMOUNTS;
  return {
    base_tags: [],
    taxes: [...totals.perTax.values()].map(({ tax, amount, base }) => ({
      id: tax.id,
      name: tax.name,
      amount,
      base,
      sequence: tax.sequence,
      price_include: tax.priceInclude,
      include_base_amount: tax.includeBaseAmount,
    })),
    total_excluded: line.subtotal,
    total_included: line.total,
    total_void: line.subtotal,
  };
}
