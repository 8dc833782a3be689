/**
 * The finance side of reconciliation: what the vendor said about each applied event (its
 * currency, each declared amount, the state the record must end in), which the worker records in
 * lineage, against what Odoo books. Money is only ever added up within one currency.
 */
import { minorUnitExponent } from '../contracts/mapping.ts';
import type { CompiledContract, ReconcileStateValue } from '../contracts/model.ts';
import type { LineageEntry } from '../lineage/model.ts';
import type { OdooRecord } from '../odoo/client.ts';
import { EXTERNAL_ID_MODULE } from '../odoo/upsert.ts';
import { fieldNameFor } from '../odoo/versions.ts';

/** The bucket of figures whose currency neither the vendor nor Odoo names. */
export const NO_CURRENCY = '(none)';

/** Payment states with a journal entry: 16/17 `posted`, 18/19 `in_process` and `paid`. */
const POSTED_PAYMENT = new Set(['posted', 'in_process', 'paid']);

export interface CurrencyTotals {
  /** ISO 4217 code, e.g. `USD`. */
  readonly currency: string;
  /** Applied records the vendor priced in this currency, and the vendor's sum per declared field. */
  readonly vendor: { readonly count: number; readonly amounts: Readonly<Record<string, number>> };
  /** Those records as Odoo books them in this currency (one booked in another counts there). */
  readonly odoo: { readonly count: number; readonly amounts: Readonly<Record<string, number>> };
  /** Per record, |vendor − Odoo| of the headline amount (the first declared) in this currency, summed. */
  readonly difference: number;
  /** Applied invoices (account.move) still drafts in Odoo, though their contract posts them. */
  readonly unpostedInvoices: number;
  /** Posted payments that are not in the state the contract expects (reconciled with their invoice). */
  readonly unmatchedPayments: number;
  /** Orders the vendor says are paid (the contract's state expectation) still unconfirmed in Odoo. */
  readonly unconfirmedPaidOrders: number;
}

interface DifferenceBase {
  readonly externalId: string;
  readonly recordId: number;
  /** The applied events of the record that day, newest last: the figures are the newest's. */
  readonly eventIds: readonly string[];
  /** The vendor's currency of the record. */
  readonly currency: string;
}

/** A record whose amount, currency or state in Odoo is not what the vendor said. */
export type FinanceDifference = DifferenceBase &
  (
    | {
        readonly kind: 'amount';
        readonly field: string;
        readonly expected: number;
        readonly actual: number | null;
      }
    | {
        readonly kind: 'currency';
        readonly field: 'currency_id';
        readonly expected: string;
        readonly actual: string | null;
      }
    | {
        readonly kind: 'state';
        readonly field: string;
        readonly expected: readonly ReconcileStateValue[];
        readonly actual: ReconcileStateValue | null;
      }
  );

export interface FinanceReport {
  readonly currencies: readonly CurrencyTotals[];
  readonly differences: readonly FinanceDifference[];
  /** Records compared with the vendor's figures, and those applied before figures were recorded. */
  readonly checked: number;
  readonly unchecked: number;
}

/** One applied entity of the day: its newest applied entry and its record in Odoo, if any. */
export interface AppliedRecord {
  /** The external id without its module. */
  readonly name: string;
  readonly entry: LineageEntry;
  readonly eventIds: readonly string[];
  readonly recordId?: number;
  /** Undefined when Odoo has no record under the external id (reported as missing). */
  readonly record?: OdooRecord;
}

/** Whether the contract says anything the vendor's figures are compared with. */
export function declaresVendorFigures(contract: CompiledContract): boolean {
  const { currency, amounts, state } = contract.reconcile;
  return Boolean(currency || amounts?.length || state);
}

/** The Odoo fields (today's names) the comparison reads. */
export function financeFields(contract: CompiledContract): string[] {
  if (!declaresVendorFigures(contract)) return [];
  const { amounts = [], state } = contract.reconcile;
  const model = contract.target.model;
  return [
    ...amounts.map((a) => a.field),
    'currency_id',
    ...(state ? [state.field] : []),
    ...(model === 'account.move' || model === 'account.payment' ? ['state'] : []),
  ];
}

/** `[2, "USD"]` (many2one as read), `{id, display_name}` (JSON-2), or false: the code, or undefined. */
function currencyName(value: unknown): string | undefined {
  if (Array.isArray(value) && typeof value[1] === 'string') return value[1];
  if (value !== null && typeof value === 'object') {
    const named = value as { display_name?: unknown; name?: unknown };
    const name = named.name ?? named.display_name;
    if (typeof name === 'string') return name;
  }
  return undefined;
}

const exponentOf = (currency: string) =>
  currency === NO_CURRENCY ? 2 : minorUnitExponent(currency);

/** Rounded to the currency's smallest unit (cents, yen, fils). */
export function roundTo(currency: string, amount: number): number {
  const factor = 10 ** exponentOf(currency);
  return Math.round(amount * factor) / factor;
}

/** Equal to the currency's smallest unit: less than half of it apart. */
function sameAmount(currency: string, a: number, b: number): boolean {
  return Math.abs(a - b) < 0.5 * 10 ** -exponentOf(currency) - 1e-9;
}

interface Bucket {
  vendorCount: number;
  vendor: Record<string, number>;
  odooCount: number;
  odoo: Record<string, number>;
  difference: number;
  unpostedInvoices: number;
  unmatchedPayments: number;
  unconfirmedPaidOrders: number;
}

const newBucket = (): Bucket => ({
  vendorCount: 0,
  vendor: {},
  odooCount: 0,
  odoo: {},
  difference: 0,
  unpostedInvoices: 0,
  unmatchedPayments: 0,
  unconfirmedPaidOrders: 0,
});

const add = (sums: Record<string, number>, field: string, amount: number) => {
  sums[field] = (sums[field] ?? 0) + amount;
};

/**
 * Per currency, the vendor's sums against Odoo's, and each record whose amount, currency or state
 * differs. Entries recorded before the worker kept the vendor's figures are only counted
 * (`unchecked`): their count and sum are reconciled as before.
 */
export function reconcileFinance(
  contract: CompiledContract,
  applied: readonly AppliedRecord[],
  odooVersion: number | undefined,
): FinanceReport {
  const empty = { currencies: [], differences: [], checked: 0, unchecked: 0 };
  if (!declaresVendorFigures(contract)) return empty;
  const model = contract.target.model;
  const { amounts = [], state } = contract.reconcile;
  const headline = amounts[0]?.field;
  const posts = contract.target.lifecycle.some((step) => step.step === 'post');
  const fieldOf = (field: string) => fieldNameFor(odooVersion, model, field);
  const buckets = new Map<string, Bucket>();
  const bucket = (currency: string) => {
    const found = buckets.get(currency) ?? newBucket();
    buckets.set(currency, found);
    return found;
  };
  const differences: FinanceDifference[] = [];
  let checked = 0;
  let unchecked = 0;

  for (const { name, entry, eventIds, recordId, record } of applied) {
    const vendor = entry.vendor;
    if (!vendor) {
      unchecked++;
      continue;
    }
    checked++;
    const held = record ? currencyName(record[fieldOf('currency_id')]) : undefined;
    const currency = vendor.currency ?? held ?? NO_CURRENCY;
    // Odoo's amounts count in Odoo's currency: a record booked in EUR for a USD charge shows as
    // USD missing and EUR unexpected, never as EUR added to USD.
    const booked = held ?? currency;
    const said = vendor.amounts ?? {};
    const into = bucket(currency);
    into.vendorCount++;
    for (const [field, amount] of Object.entries(said)) add(into.vendor, field, amount);

    const base = {
      externalId: `${EXTERNAL_ID_MODULE}.${name}`,
      recordId: record?.id ?? recordId ?? 0,
      eventIds,
      currency,
    };
    const actualOf = (field: string) => {
      const value = record?.[fieldOf(field)];
      return typeof value === 'number' ? value : null;
    };
    if (headline && said[headline] !== undefined) {
      const actual = actualOf(headline) ?? 0;
      if (booked === currency) into.difference += Math.abs(said[headline] - actual);
      else {
        into.difference += Math.abs(said[headline]);
        bucket(booked).difference += Math.abs(actual);
      }
    }
    if (!record) continue;

    const elsewhere = bucket(booked);
    elsewhere.odooCount++;
    for (const { field } of amounts) add(elsewhere.odoo, field, actualOf(field) ?? 0);

    if (vendor.currency && held !== vendor.currency)
      differences.push({
        ...base,
        kind: 'currency',
        field: 'currency_id',
        expected: vendor.currency,
        actual: held ?? null,
      });
    for (const [field, expected] of Object.entries(said)) {
      const actual = actualOf(field);
      if (actual === null || !sameAmount(currency, expected, actual))
        differences.push({ ...base, kind: 'amount', field, expected, actual });
    }
    // The contract posts its invoices (target.lifecycle): a draft is one it did not, or one
    // reset since; one its contract leaves in draft on purpose is no difference.
    if (posts && model === 'account.move' && record[fieldOf('state')] === 'draft') {
      into.unpostedInvoices++;
      // Unless the declared expectation reads the same field and reports it below.
      if (!(state?.field === 'state' && vendor.stateExpected))
        differences.push({
          ...base,
          kind: 'state',
          field: 'state',
          expected: ['posted'],
          actual: 'draft',
        });
    }
    if (state && vendor.stateExpected) {
      const value = record[fieldOf(state.field)];
      const actual = typeof value === 'string' || typeof value === 'boolean' ? value : null;
      if (actual === null || !state.expect.includes(actual)) {
        differences.push({
          ...base,
          kind: 'state',
          field: state.field,
          expected: state.expect,
          actual,
        });
        if (model === 'account.payment' && POSTED_PAYMENT.has(String(record[fieldOf('state')])))
          into.unmatchedPayments++;
        if (model === 'sale.order') into.unconfirmedPaidOrders++;
      }
    }
  }

  const rounded = (currency: string, sums: Record<string, number>) =>
    Object.fromEntries(Object.entries(sums).map(([f, v]) => [f, roundTo(currency, v)]));
  const order = { currency: 0, amount: 1, state: 2 } as const;
  return {
    currencies: [...buckets]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([currency, b]) => ({
        currency,
        vendor: { count: b.vendorCount, amounts: rounded(currency, b.vendor) },
        odoo: { count: b.odooCount, amounts: rounded(currency, b.odoo) },
        difference: roundTo(currency, b.difference),
        unpostedInvoices: b.unpostedInvoices,
        unmatchedPayments: b.unmatchedPayments,
        unconfirmedPaidOrders: b.unconfirmedPaidOrders,
      })),
    differences: differences.sort(
      (a, b) =>
        a.externalId.localeCompare(b.externalId) ||
        order[a.kind] - order[b.kind] ||
        a.field.localeCompare(b.field),
    ),
    checked,
    unchecked,
  };
}
