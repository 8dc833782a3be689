/**
 * The figures finance watches, from one reconciliation run: per contract and currency (graphs),
 * and one series each over every contract and currency (what the alarms read, since currencies
 * are only known at run time and CloudWatch alarms cannot search).
 */
import type { ReconcileReport } from './reconcile.ts';

export const FINANCE_METRICS = {
  /** Applied invoices (account.move) still in draft. */
  unpostedInvoices: 'reconciliation-unposted-invoices',
  /** Posted payments not reconciled with their invoice (the contract's state expectation). */
  unmatchedPayments: 'reconciliation-unmatched-payments',
  /** Orders the vendor says are paid, still not confirmed in Odoo. */
  unconfirmedPaidOrders: 'reconciliation-unconfirmed-paid-orders',
  /** |vendor − Odoo| of the headline amount, in the currency's major unit. */
  amountDifference: 'reconciliation-amount-difference',
} as const;

export interface FinanceDataPoint {
  readonly name: (typeof FINANCE_METRICS)[keyof typeof FINANCE_METRICS];
  /** `{contract, flow, currency}`, or none for the series over everything. */
  readonly dimensions: Readonly<Record<string, string>>;
  readonly value: number;
}

interface Totals {
  unpostedInvoices: number;
  unmatchedPayments: number;
  unconfirmedPaidOrders: number;
  amountDifference: number;
}

const zero = (): Totals => ({
  unpostedInvoices: 0,
  unmatchedPayments: 0,
  unconfirmedPaidOrders: 0,
  amountDifference: 0,
});

const points = (dimensions: Record<string, string>, totals: Totals): FinanceDataPoint[] =>
  (Object.keys(FINANCE_METRICS) as (keyof Totals)[]).map((key) => ({
    name: FINANCE_METRICS[key],
    dimensions,
    value: Math.round(totals[key] * 1000) / 1000,
  }));

/**
 * Per contract and currency, the run's days added up; then over everything, the counts added up
 * and the largest amount difference in any one currency (amounts of two currencies never add).
 * The series over everything is published even when zero, so its alarms see a clean day.
 */
export function financeDataPoints(
  runs: readonly { readonly flow: string; readonly report: ReconcileReport }[],
): FinanceDataPoint[] {
  const byCurrency = new Map<string, { dimensions: Record<string, string>; totals: Totals }>();
  for (const { flow, report } of runs) {
    const contract = report.contract.split('@')[0] as string;
    for (const c of report.currencies) {
      const key = `${contract}|${c.currency}`;
      const found = byCurrency.get(key) ?? {
        dimensions: { contract, flow, currency: c.currency },
        totals: zero(),
      };
      found.totals.unpostedInvoices += c.unpostedInvoices;
      found.totals.unmatchedPayments += c.unmatchedPayments;
      found.totals.unconfirmedPaidOrders += c.unconfirmedPaidOrders;
      found.totals.amountDifference += c.difference;
      byCurrency.set(key, found);
    }
  }
  const overall = zero();
  for (const { totals } of byCurrency.values()) {
    overall.unpostedInvoices += totals.unpostedInvoices;
    overall.unmatchedPayments += totals.unmatchedPayments;
    overall.unconfirmedPaidOrders += totals.unconfirmedPaidOrders;
    overall.amountDifference = Math.max(overall.amountDifference, totals.amountDifference);
  }
  return [
    ...[...byCurrency.values()].flatMap(({ dimensions, totals }) => points(dimensions, totals)),
    ...points({}, overall),
  ];
}
