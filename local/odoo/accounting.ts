/**
 * Odoo's tax arithmetic, without records: currency rounding (`float_round`), one line's taxes
 * (16/17 `account.tax.compute_all`, 18/19 `_get_tax_details`) and a document's totals under
 * the company's `tax_calculation_rounding_method` (16/17 `_compute_taxes`, 18/19
 * `_round_base_lines_tax_details`). Read in `account/models/account_tax.py` of 16, 17, 18, 19
 * (see shared/reference/odoo-accounting.md for the trees).
 */
import type { OdooVersion } from './models.ts';

export type RoundingMethod = 'round_per_line' | 'round_globally';

/** Odoo's `float_round` (HALF-UP, with the epsilon that makes 2.675 round to 2.68). */
export function floatRound(value: number, rounding: number): number {
  if (!value || !rounding) return value === 0 ? 0 : value;
  const normalized = value / rounding;
  const sign = Math.sign(normalized);
  const epsilon = 2 ** (Math.log2(Math.abs(normalized)) - 52);
  const rounded = Math.floor(Math.abs(normalized) + sign * sign * epsilon + 0.5) * sign;
  return Number((rounded * rounding).toFixed(decimalsOf(rounding)));
}

export const decimalsOf = (rounding: number): number =>
  rounding >= 1 ? 0 : Math.max(0, Math.ceil(-Math.log10(rounding) - 1e-9));

export const isZero = (value: number, rounding: number): boolean =>
  floatRound(value, rounding) === 0;

export interface TaxSpec {
  readonly id: number;
  readonly name: string;
  readonly amountType: 'percent' | 'fixed' | 'division' | 'group';
  readonly amount: number;
  readonly priceInclude: boolean;
  readonly includeBaseAmount: boolean;
  readonly isBaseAffected: boolean;
  readonly sequence: number;
  readonly children: readonly TaxSpec[];
}

export interface TaxAmount {
  readonly tax: TaxSpec;
  readonly base: number;
  readonly amount: number;
}

export interface LineTaxes {
  readonly totalExcluded: number;
  readonly totalIncluded: number;
  readonly taxes: readonly TaxAmount[];
}

export interface LineInput {
  readonly priceUnit: number;
  readonly quantity: number;
  /** Percent. */
  readonly discount: number;
  readonly taxes: readonly TaxSpec[];
}

const bySequence = (a: TaxSpec, b: TaxSpec) => a.sequence - b.sequence || a.id - b.id;

/** Groups replaced by their children at the group's place, in (sequence, id) order. */
export function flattenTaxes(taxes: readonly TaxSpec[]): TaxSpec[] {
  return [...taxes]
    .sort(bySequence)
    .flatMap((tax) => (tax.amountType === 'group' ? [...tax.children].sort(bySequence) : [tax]));
}

/**
 * One line's taxes. `precision` is the currency's rounding; under round_globally amounts stay
 * unrounded (18/19) or are rounded to 1e-5 of it (16/17, as compute_all does).
 */
export function lineTaxes(
  line: LineInput,
  precision: number,
  method: RoundingMethod,
  version: OdooVersion,
): LineTaxes {
  const price = line.priceUnit * (1 - (line.discount || 0) / 100);
  return version >= 18
    ? taxDetails(price, line.quantity, flattenTaxes(line.taxes), precision, method)
    : computeAll(price, line.quantity, flattenTaxes(line.taxes), precision, method);
}

/** 18/19 `_get_tax_details`: included taxes backwards, then excluded ones forwards, in batches. */
function taxDetails(
  price: number,
  quantity: number,
  taxes: TaxSpec[],
  precision: number,
  method: RoundingMethod,
): LineTaxes {
  const round = (v: number) => (method === 'round_per_line' ? floatRound(v, precision) : v);
  const sign = price < 0 ? -1 : 1;
  const rawBase = round(quantity * price);
  const amounts = new Map<number, number>();
  const bases = new Map<number, number>();
  const batches = batchesOf(taxes);
  for (const tax of taxes)
    if (tax.amountType === 'fixed') amounts.set(tax.id, round(sign * quantity * tax.amount));
  // Price-included taxes, last batch first: each batch shares one divisor.
  let included = rawBase;
  for (const batch of [...batches].reverse()) {
    const [first] = batch as [TaxSpec];
    if (!first.priceInclude) continue;
    if (first.amountType === 'fixed') {
      for (const tax of batch) included -= amounts.get(tax.id) ?? 0;
      continue;
    }
    const total = batch.reduce((s, t) => s + t.amount, 0) / 100;
    let spent = 0;
    for (const tax of batch) {
      const amount = round(
        first.amountType === 'percent'
          ? (included * (tax.amount / 100)) / (1 + total)
          : (included * tax.amount) / 100,
      );
      amounts.set(tax.id, amount);
      spent += amount;
    }
    included -= spent;
  }
  const totalExcluded = round(included);
  // Excluded taxes forwards; include_base_amount feeds later is_base_affected taxes.
  let extra = 0;
  for (const batch of batches) {
    const [first] = batch as [TaxSpec];
    const total = batch.reduce((s, t) => s + t.amount, 0) / 100;
    let added = 0;
    for (const tax of batch) {
      const base = totalExcluded + (tax.isBaseAffected ? extra : 0);
      bases.set(tax.id, base);
      if (!first.priceInclude && tax.amountType !== 'fixed') {
        const amount =
          tax.amountType === 'percent'
            ? (base * tax.amount) / 100
            : (base * tax.amount) / 100 / (1 - total);
        amounts.set(tax.id, round(amount));
      }
      if (tax.includeBaseAmount) added += amounts.get(tax.id) ?? 0;
    }
    extra += added;
  }
  const details = taxes.map((tax) => ({
    tax,
    base: bases.get(tax.id) ?? totalExcluded,
    amount: amounts.get(tax.id) ?? 0,
  }));
  return {
    totalExcluded,
    totalIncluded: totalExcluded + details.reduce((s, d) => s + d.amount, 0),
    taxes: details,
  };
}

/** Adjacent taxes of equal amount_type, price_include and include_base_amount. */
function batchesOf(taxes: TaxSpec[]): TaxSpec[][] {
  const batches: TaxSpec[][] = [];
  for (const tax of taxes) {
    const last = batches.at(-1)?.[0];
    if (
      last &&
      tax.amountType !== 'fixed' &&
      last.amountType === tax.amountType &&
      last.priceInclude === tax.priceInclude &&
      last.includeBaseAmount === tax.includeBaseAmount
    )
      batches.at(-1)?.push(tax);
    else batches.push([tax]);
  }
  return batches;
}

/**
 * 16/17 `compute_all`: the excluded base is derived from the included price and rounded, and
 * included tax amounts are what remains up to the included price (checkpoints).
 */
function computeAll(
  price: number,
  quantity: number,
  taxes: TaxSpec[],
  currencyRounding: number,
  method: RoundingMethod,
): LineTaxes {
  const precision = method === 'round_globally' ? currencyRounding * 1e-5 : currencyRounding;
  const round = (v: number) => floatRound(v, precision);
  const sign = price < 0 ? -1 : 1;
  let base = round(price * quantity);
  const checkpoints = new Map<number, number>();
  let fixed = 0;
  let percent = 0;
  let division = 0;
  const recompute = (b: number) => (((b - fixed) / (1 + percent / 100)) * (100 - division)) / 100;
  let storeCheckpoint = true;
  for (let i = taxes.length - 1; i >= 0; i--) {
    const tax = taxes[i] as TaxSpec;
    if (tax.includeBaseAmount) {
      base = recompute(base);
      fixed = percent = division = 0;
      storeCheckpoint = true;
    }
    if (!tax.priceInclude) continue;
    if (tax.amountType === 'percent') percent += tax.amount;
    else if (tax.amountType === 'division') division += tax.amount;
    else if (tax.amountType === 'fixed') fixed += Math.abs(quantity) * tax.amount;
    if (storeCheckpoint && tax.amount) {
      checkpoints.set(i, base);
      storeCheckpoint = false;
    }
  }
  const totalExcluded = round(recompute(base));
  let running = totalExcluded;
  let cumulatedIncluded = 0;
  let skipCheckpoint = false;
  const details: TaxAmount[] = [];
  taxes.forEach((tax, i) => {
    const taxBase = tax.isBaseAffected ? running : totalExcluded;
    let amount: number;
    const checkpoint = checkpoints.get(i);
    if (!skipCheckpoint && tax.priceInclude && checkpoint !== undefined) {
      amount = checkpoint - (running + cumulatedIncluded);
      cumulatedIncluded = 0;
    } else amount = amountOf(tax, taxBase, quantity, sign);
    amount = round(amount);
    if (tax.priceInclude && checkpoint === undefined) cumulatedIncluded += amount;
    details.push({ tax, base: round(taxBase), amount });
    if (tax.includeBaseAmount) {
      running += amount;
      if (!tax.priceInclude) skipCheckpoint = true;
    }
  });
  return {
    totalExcluded,
    totalIncluded: totalExcluded + details.reduce((s, d) => s + d.amount, 0),
    taxes: details,
  };
}

/** 16/17 `_compute_amount` on an excluded base (included ones come from the checkpoints). */
function amountOf(tax: TaxSpec, base: number, quantity: number, sign: number): number {
  switch (tax.amountType) {
    case 'fixed':
      return sign * quantity * tax.amount;
    case 'percent':
      return tax.priceInclude ? base - base / (1 + tax.amount / 100) : (base * tax.amount) / 100;
    case 'division':
      return tax.priceInclude ? (base * tax.amount) / 100 : base / (1 - tax.amount / 100) - base;
    default:
      return 0;
  }
}

export interface DocumentTotals {
  /** Each line's subtotal (untaxed) and tax, rounded as the document shows them. */
  readonly lines: readonly { subtotal: number; tax: number; total: number }[];
  /** Tax amount per tax id, rounded. */
  readonly perTax: ReadonlyMap<number, { tax: TaxSpec; amount: number; base: number }>;
  readonly untaxed: number;
  readonly tax: number;
  readonly total: number;
}

/**
 * A document's amounts. round_per_line: sums of rounded lines. round_globally: each tax summed
 * over the lines, then rounded once; 18/19 also round the base once and spread the cents it
 * moves onto the lines, largest first (`_round_base_lines_tax_details`).
 */
export function documentTotals(
  inputs: readonly LineInput[],
  rounding: number,
  method: RoundingMethod,
  version: OdooVersion,
): DocumentTotals {
  const round = (v: number) => floatRound(v, rounding);
  const computed = inputs.map((line) => lineTaxes(line, rounding, method, version));
  const perTax = new Map<number, { tax: TaxSpec; amount: number; base: number }>();
  for (const line of computed)
    for (const { tax, amount, base } of line.taxes) {
      const entry = perTax.get(tax.id) ?? { tax, amount: 0, base: 0 };
      entry.amount += amount;
      entry.base += base;
      perTax.set(tax.id, entry);
    }
  for (const entry of perTax.values()) {
    entry.amount = round(entry.amount);
    entry.base = round(entry.base);
  }
  const subtotals = computed.map((line) => round(line.totalExcluded));
  const lineTax = computed.map((line) => round(line.totalIncluded - line.totalExcluded));
  if (method === 'round_globally' && version >= 18) {
    spread(
      subtotals,
      round(computed.reduce((s, l) => s + l.totalExcluded, 0)),
      computed.map((l) => l.totalExcluded),
      rounding,
    );
    spread(
      lineTax,
      [...perTax.values()].reduce((s, t) => s + t.amount, 0),
      computed.map((l) => l.totalIncluded - l.totalExcluded),
      rounding,
    );
  }
  const untaxed =
    method === 'round_globally'
      ? round(computed.reduce((s, l) => s + l.totalExcluded, 0))
      : round(subtotals.reduce((s, v) => s + v, 0));
  const tax =
    method === 'round_globally'
      ? round([...perTax.values()].reduce((s, t) => s + t.amount, 0))
      : round(lineTax.reduce((s, v) => s + v, 0));
  return {
    lines: subtotals.map((subtotal, i) => ({
      subtotal,
      tax: lineTax[i] as number,
      total: round(subtotal + (lineTax[i] as number)),
    })),
    perTax,
    untaxed,
    tax,
    total: round(untaxed + tax),
  };
}

/** Moves `target − Σ values` onto `values`, one rounding unit at a time, largest raw amount first. */
function spread(values: number[], target: number, raw: number[], rounding: number): void {
  let delta = floatRound(target - values.reduce((s, v) => s + v, 0), rounding);
  if (delta === 0 || values.length === 0) return;
  const order = raw
    .map((v, i) => [Math.abs(v), i] as const)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  const step = Math.sign(delta) * rounding;
  for (let k = 0; delta !== 0 && k < 10_000; k++) {
    const i = (order[k % order.length] as readonly [number, number])[1];
    values[i] = floatRound((values[i] as number) + step, rounding);
    delta = floatRound(delta - step, rounding);
  }
}
