/**
 * How far a sales order goes once written: its totals are the vendor's to the cent, then it is
 * confirmed or cancelled as the contract's policy says. Each step reads the order first, so a
 * replay changes nothing: matching totals add no line, a confirmed order is not confirmed again,
 * and a cancelled order is never reopened (confirm leaves it alone; so does a later update).
 *
 * Why rounding lines: a vendor rounds tax per line on the discounted line amount; Odoo rounds per
 * line (or globally, the company's choice) on its own lines, and a discount is a line of its own.
 * The two may then differ by a cent per line. Such a difference is booked on the contract's
 * rounding product, where finance sees it, never hidden in a price: one line carrying the tax
 * the vendor charged on top of Odoo's (its base chosen so Odoo's tax moves by exactly that), one
 * untaxed line for what is left of the total. Anything larger than rounding is bad input
 * (`TotalsDiffer`): the order is left as written and the event goes to the DLQ with both totals.
 */
import type { CompiledLifecycleStep } from '../contracts/model.ts';
import { MappingError } from '../errors/mapping-error.ts';
import { TotalsDiffer } from '../errors/totals-differ.ts';
import type { OdooClient, OdooRecord } from '../odoo/client.ts';
import { fieldNameFor } from '../odoo/versions.ts';
import {
  contractLabel,
  currencyOf,
  evaluateStep,
  type LifecycleChange,
  type LifecycleSubject,
  readOne,
  sameAmount,
  transition,
} from './lifecycle-support.ts';
import { isRelation, resolveRelations } from './relations.ts';

const ORDER = 'sale.order';
const LINE = 'sale.order.line';
/** Quotation states: lines may still change, and the order may be confirmed. */
const QUOTATION = new Set(['draft', 'sent']);
const TOTALS = ['state', 'amount_untaxed', 'amount_tax', 'amount_total', 'currency_id'];
/** Rounds of correcting the tax line: per-line rounding needs one, global rounding two at most. */
const TAX_ROUNDS = 4;

type Step<K extends CompiledLifecycleStep['step']> = Extract<CompiledLifecycleStep, { step: K }>;

async function amountOf(
  subject: LifecycleSubject,
  index: number,
  key: 'total' | 'tax',
  source: string,
): Promise<number> {
  const value = await evaluateStep(subject, index, key, source);
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new MappingError(
      contractLabel(subject),
      `target.lifecycle[${index}].${key} gave ${JSON.stringify(value)}, not an amount`,
    );
  return value;
}

const round = (amount: number, rounding: number) =>
  Number((Math.round(amount / rounding) * rounding).toFixed(6));

/** The product rounding lines are booked on, found through its crosswalk entry. */
async function roundingProduct(
  client: OdooClient,
  subject: LifecycleSubject,
  index: number,
  source: string,
): Promise<number> {
  const relation = await evaluateStep(subject, index, 'rounding', source);
  if (!isRelation(relation) || relation['@model'] !== 'product.product')
    throw new MappingError(
      contractLabel(subject),
      `target.lifecycle[${index}].rounding gave ${JSON.stringify(relation)}, not a product.product relation such as $reference('service-products', 'rounding')`,
    );
  const [resolved] = await resolveRelations(client, [
    { values: { product_id: relation }, owner: `${subject.model}_${subject.recordId}_rounding` },
  ]);
  if (!resolved || 'error' in resolved)
    throw (
      resolved?.error ??
      new MappingError(
        contractLabel(subject),
        `target.lifecycle[${index}].rounding resolved to nothing`,
      )
    );
  return Number(resolved.values.product_id);
}

/** The order's percent tax that most of its lines carry: the one a tax rounding line uses. */
async function commonTax(
  client: OdooClient,
  orderId: number,
): Promise<{ id: number; name: string; rate: number; included: boolean } | undefined> {
  const taxField = fieldNameFor(client.version, LINE, 'tax_ids');
  const lines = await client.searchRead(LINE, [['order_id', '=', orderId]], {
    fields: [taxField],
  });
  const counts = new Map<number, number>();
  for (const line of lines)
    for (const tax of (line[taxField] as number[] | undefined) ?? [])
      counts.set(tax, (counts.get(tax) ?? 0) + 1);
  if (counts.size === 0) return undefined;
  const taxes = await client.read(
    'account.tax',
    [...counts.keys()],
    ['name', 'amount_type', 'amount', 'price_include'],
  );
  const [best] = taxes
    .filter((t) => t.amount_type === 'percent' && Number(t.amount) > 0)
    .sort((a, b) => (counts.get(b.id) ?? 0) - (counts.get(a.id) ?? 0));
  return best
    ? {
        id: best.id,
        name: String(best.name),
        rate: Number(best.amount) / 100,
        included: Boolean(best.price_include),
      }
    : undefined;
}

interface Figures {
  readonly total: number;
  readonly tax?: number;
}

function differs(order: OdooRecord, wanted: Figures, rounding: number): boolean {
  return (
    !sameAmount(Number(order.amount_total), wanted.total, rounding) ||
    (wanted.tax !== undefined && !sameAmount(Number(order.amount_tax), wanted.tax, rounding))
  );
}

/**
 * `totals`: Odoo's amount_total (and amount_tax) equal the vendor's. Nothing when they do; a
 * cancelled order is no longer booked, so it is left alone.
 */
export async function matchOrderTotals(
  client: OdooClient,
  subject: LifecycleSubject,
  step: Step<'totals'>,
  index: number,
): Promise<LifecycleChange | undefined> {
  const { recordId } = subject;
  let order = await readOne(client, ORDER, recordId, [...TOTALS, 'order_line']);
  if (order.state === 'cancel') return undefined;
  const wanted: Figures = {
    total: await amountOf(subject, index, 'total', step.total),
    ...(step.tax ? { tax: await amountOf(subject, index, 'tax', step.tax) } : {}),
  };
  const { code, rounding } = await currencyOf(client, order);
  if (!differs(order, wanted, rounding)) return undefined;

  const refuse = (why: string) =>
    new TotalsDiffer(
      ORDER,
      recordId,
      wanted.total,
      Number(order.amount_total),
      code,
      wanted.tax !== undefined
        ? { expected: wanted.tax, actual: Number(order.amount_tax) }
        : undefined,
      why,
    );
  const lineCount = Array.isArray(order.order_line) ? order.order_line.length : 0;
  // Per-line rounding moves each line's tax by at most half a unit of the currency.
  const tolerance = rounding * Math.max(1, lineCount) + rounding / 2;
  const taxGap =
    wanted.tax === undefined ? 0 : round(wanted.tax - Number(order.amount_tax), rounding);
  const totalGap = round(wanted.total - Number(order.amount_total), rounding);
  if (Math.abs(taxGap) > tolerance || Math.abs(totalGap) > tolerance)
    throw refuse(`more than rounding over ${lineCount} lines`);
  if (!QUOTATION.has(String(order.state)))
    throw refuse(`the order is ${String(order.state)}: its lines are not changed any more`);
  if (!step.rounding) throw refuse('the contract names no rounding product');
  const product = await roundingProduct(client, subject, index, step.rounding);
  const taxField = fieldNameFor(client.version, LINE, 'tax_ids');
  const notes: string[] = [];

  if (taxGap !== 0 && wanted.tax !== undefined) {
    const tax = await commonTax(client, recordId);
    if (!tax) throw refuse('its lines carry no percent tax to round');
    // How much of a line's price is tax: the rate on top, or its share of an included price.
    const share = tax.included ? tax.rate / (1 + tax.rate) : tax.rate;
    let price = round(taxGap / share, rounding);
    const [lineId] = await client.create(LINE, [
      {
        order_id: recordId,
        product_id: product,
        name: `Tax rounding (${tax.name}): the vendor charged ${wanted.tax} ${code} of tax`,
        product_uom_qty: 1,
        price_unit: price,
        [taxField]: [[6, 0, [tax.id]]],
      },
    ]);
    for (let attempt = 0; attempt < TAX_ROUNDS; attempt++) {
      order = await readOne(client, ORDER, recordId, TOTALS);
      const left = round(wanted.tax - Number(order.amount_tax), rounding);
      if (left === 0) break;
      price = round(price + left / share, rounding);
      await client.write(LINE, [Number(lineId)], { price_unit: price });
    }
    notes.push(
      `tax ${taxGap > 0 ? '+' : ''}${taxGap} ${code} on a base of ${price} at ${tax.name}`,
    );
    order = await readOne(client, ORDER, recordId, TOTALS);
  }

  const rest = round(wanted.total - Number(order.amount_total), rounding);
  if (rest !== 0) {
    await client.create(LINE, [
      {
        order_id: recordId,
        product_id: product,
        name: `Rounding: the vendor's total is ${wanted.total} ${code}`,
        product_uom_qty: 1,
        price_unit: rest,
        [taxField]: [[6, 0, []]],
      },
    ]);
    notes.push(`untaxed ${rest > 0 ? '+' : ''}${rest} ${code}`);
    order = await readOne(client, ORDER, recordId, TOTALS);
  }
  if (differs(order, wanted, rounding)) throw refuse('rounding lines could not even it out');
  return {
    stage: 'rounded',
    model: ORDER,
    recordId,
    detail: `${ORDER} ${recordId} rounded to the vendor's totals (${notes.join('; ')}): total ${Number(order.amount_total)} ${code}, tax ${Number(order.amount_tax)} ${code}`,
  };
}

async function holds(subject: LifecycleSubject, index: number, when: string | undefined) {
  if (when === undefined) return true;
  const value = await evaluateStep(subject, index, 'when', when);
  return Array.isArray(value) ? value.length > 0 : Boolean(value);
}

/** `confirm`: a quotation becomes a sales order once the policy holds; nothing else is touched. */
export async function confirmOrder(
  client: OdooClient,
  subject: LifecycleSubject,
  step: Step<'confirm'>,
  index: number,
): Promise<LifecycleChange | undefined> {
  if (!(await holds(subject, index, step.when))) return undefined;
  const { recordId } = subject;
  const order = await readOne(client, ORDER, recordId, ['state', 'date_order']);
  // Confirmed already, or cancelled: a replay never confirms twice nor reopens an order.
  if (!QUOTATION.has(String(order.state))) return undefined;
  const after = await transition(client, ORDER, recordId, 'action_confirm', {
    done: (r) => !QUOTATION.has(String(r.state)),
    hint: 'confirm it in Odoo to see what it asks for, then replay the event',
    fields: ['date_order'],
  });
  // Odoo dates a confirmed order now; the books date it when the customer ordered, as the
  // vendor and the quotation said (and reconciliation finds it on that day).
  if (order.date_order && after.date_order !== order.date_order)
    await client.write(ORDER, [recordId], { date_order: order.date_order });
  return {
    stage: 'confirmed',
    model: ORDER,
    recordId,
    detail: `${ORDER} ${recordId}${after.name ? ` (${String(after.name)})` : ''} confirmed (state ${String(after.state)})`,
  };
}

/** `cancel`: the order is cancelled once the policy holds; a cancelled one is left as it is. */
export async function cancelOrder(
  client: OdooClient,
  subject: LifecycleSubject,
  step: Step<'cancel'>,
  index: number,
): Promise<LifecycleChange | undefined> {
  if (!(await holds(subject, index, step.when))) return undefined;
  const { recordId } = subject;
  const order = await readOne(client, ORDER, recordId, ['state']);
  if (order.state === 'cancel') return undefined;
  const after = await transition(client, ORDER, recordId, 'action_cancel', {
    done: (r) => r.state === 'cancel',
    hint: 'cancel it in Odoo to see what stops it (an invoice posted, a delivery done), then replay the event',
    // Without it, 16–18 answer a confirmed order's cancel with the wizard that asks a person.
    context: { disable_cancel_warning: true },
  });
  return {
    stage: 'cancelled',
    model: ORDER,
    recordId,
    detail: `${ORDER} ${recordId}${after.name ? ` (${String(after.name)})` : ''} cancelled (was ${String(order.state)})`,
  };
}
