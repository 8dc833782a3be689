/**
 * The finance view of `spine reconcile`: per contract and currency what the vendor charged
 * against what Odoo books, then each record that differs, in words finance reads.
 */
import { minorUnitExponent } from '../../functions/contracts/mapping.ts';
import type { FinanceDifference } from '../../functions/reconcile/finance.ts';
import { NO_CURRENCY } from '../../functions/reconcile/finance.ts';
import type { ReconcileReport } from '../../functions/reconcile/reconcile.ts';

/** `stripe.invoice-paid@1.3.0` → `Stripe`: the contract id starts with its source. */
function vendorOf(report: ReconcileReport): string {
  const source = report.contract.split('.')[0] ?? '';
  return `${source.charAt(0).toUpperCase()}${source.slice(1)}`;
}

/** 211.39 USD, 500 JPY, 1.234 KWD: as many decimals as the currency has. */
export function formatAmount(amount: number, currency: string): string {
  return amount.toFixed(currency === NO_CURRENCY ? 2 : minorUnitExponent(currency));
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function events(ids: readonly string[]): string {
  return ids.length === 1 ? `event ${ids[0]}` : `events ${ids.join(', ')}`;
}

/** One line for a record that differs, e.g. `account.move 12 amount_total is 210.00 in Odoo, ...`. */
export function describeFinanceDifference(report: ReconcileReport, d: FinanceDifference): string {
  const record = `${report.model} ${d.recordId}`;
  const vendor = vendorOf(report);
  switch (d.kind) {
    case 'amount':
      return `${record} ${d.field} is ${d.actual === null ? 'not set' : formatAmount(d.actual, d.currency)} in Odoo, ${vendor} said ${formatAmount(d.expected, d.currency)} ${d.currency} (${events(d.eventIds)})`;
    case 'currency':
      return `${record} currency is ${d.actual ?? 'not set'} in Odoo, ${vendor} said ${d.expected} (${events(d.eventIds)})`;
    case 'state':
      return `${record} ${d.field} is ${d.actual === null ? 'not set' : String(d.actual)}, expected ${d.expected.map(String).join('/')} (${events(d.eventIds)})`;
  }
}

/** The finance view's lines; none when no report carries the vendor's figures. */
export function financeView(reports: readonly ReconcileReport[]): string[] {
  const rows = reports.flatMap((r) =>
    r.currencies.map((c) => {
      const fields = [
        ...new Set([...Object.keys(c.vendor.amounts), ...Object.keys(c.odoo.amounts)]),
      ];
      const open = [
        c.unpostedInvoices ? plural(c.unpostedInvoices, 'unposted invoice') : '',
        c.unmatchedPayments ? plural(c.unmatchedPayments, 'unmatched payment') : '',
        c.unconfirmedPaidOrders ? plural(c.unconfirmedPaidOrders, 'unconfirmed paid order') : '',
      ].filter(Boolean);
      return [
        r.contract,
        c.currency,
        `${c.vendor.count} / ${c.odoo.count}`,
        fields
          .map(
            (f) =>
              `${f} ${formatAmount(c.vendor.amounts[f] ?? 0, c.currency)} / ${formatAmount(c.odoo.amounts[f] ?? 0, c.currency)}`,
          )
          .join('; '),
        formatAmount(c.difference, c.currency),
        open.join(', '),
      ];
    }),
  );
  const unchecked = reports.filter((r) => r.figures.unchecked > 0);
  if (rows.length === 0 && unchecked.length === 0) return [];
  const lines = [
    '',
    'finance: what the vendor charged against what Odoo books, per currency (vendor / odoo)',
  ];
  const header = ['contract', 'currency', 'records', 'amounts', 'difference', 'open'];
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)),
  );
  if (rows.length > 0)
    for (const row of [header, ...rows])
      lines.push(
        row
          .map((c, i) => c.padEnd(widths[i] ?? 0))
          .join('  ')
          .trimEnd(),
      );
  for (const r of reports)
    for (const d of r.financeDifferences)
      lines.push(`  ${r.contract}: ${describeFinanceDifference(r, d)}`);
  for (const r of unchecked)
    lines.push(
      `  ${r.contract}: ${plural(r.figures.unchecked, 'record')} applied before the vendor's figures were recorded: count and sum only`,
    );
  return lines;
}
