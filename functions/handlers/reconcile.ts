/**
 * Scheduled reconciliation: for every contract that counts, yesterday and today (UTC), lineage
 * against Odoo. Publishes a mismatch metric per contract and the figures finance watches
 * (unposted invoices, unmatched payments, unconfirmed paid orders, amount difference) per
 * contract and currency and over all of them (alarmed on), and returns the reports.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { getContainer } from '../platform/container.ts';
import { createLogger, flushMetrics, publishMetric } from '../platform/powertools.ts';
import { redactionKey } from '../platform/secrets.ts';
import { FINANCE_METRICS, financeDataPoints } from '../reconcile/finance-metrics.ts';
import { fieldFingerprint } from '../reconcile/fingerprint.ts';
import {
  assertReconcileDay,
  type ReconcileReport,
  reconcileContractDay,
} from '../reconcile/reconcile.ts';

const logger = createLogger();

export async function handler(
  event: { days?: string[]; contracts?: string[] } = {},
): Promise<ReconcileReport[]> {
  try {
    return await reconcileDays(event);
  } finally {
    // The run's metrics, one line per dimension set (see publishMetric).
    flushMetrics();
  }
}

async function reconcileDays(event: {
  days?: string[];
  contracts?: string[];
}): Promise<ReconcileReport[]> {
  // A wrong day is refused before anything runs, rather than reported as a clean day.
  for (const day of event.days ?? []) assertReconcileDay(day);
  const container = getContainer();
  const today = new Date();
  const days =
    event.days ??
    [new Date(today.getTime() - 86_400_000), today].map((d) => d.toISOString().slice(0, 10));
  const odoo = await container.odoo.client();
  // Values are fingerprinted with the worker's key; without it only counts and sums are proven.
  const key = await redactionKey(container.secrets, container.config.redactionSecret).catch(
    (error: unknown) => {
      logger.warn('redaction key unreadable: field values are not compared', {
        error: (error as Error).message,
      });
      return undefined;
    },
  );
  const reports: ReconcileReport[] = [];
  const runs: { flow: string; report: ReconcileReport }[] = [];
  for (const contract of container.registry.contracts.filter(
    (c) => c.reconcile.count && (!event.contracts || event.contracts.includes(c.id)),
  )) {
    for (const day of days) {
      const report = await reconcileContractDay(contract, day, {
        lineage: container.lineage,
        odoo,
        ...(key ? { fingerprint: fieldFingerprint(key) } : {}),
      });
      reports.push(report);
      runs.push({ flow: contract.flow, report });
      // A field the sum check and the vendor's figures both report is one mismatch.
      const told = new Set(report.differences.map((d) => `${d.recordId}|${d.field}`));
      const mismatches =
        report.missing.length +
        report.unexpected.length +
        report.differences.length +
        report.valueDifferences.length +
        report.financeDifferences.filter((f) => !told.has(`${f.recordId}|${f.field}`)).length;
      publishMetric(
        'reconciliation-mismatches',
        { contract: contract.id, flow: contract.flow },
        undefined,
        mismatches,
      );
      if (mismatches > 0)
        logger.warn('reconciliation mismatch', {
          contract: report.contract,
          day,
          missing: report.missing,
          unexpected: report.unexpected,
          differences: report.differences,
          // Field names and event ids only: the values may be personal.
          valueDifferences: report.valueDifferences,
          // Amounts, currency codes and states: never personal.
          financeDifferences: report.financeDifferences,
        });
    }
  }
  for (const point of financeDataPoints(runs))
    publishMetric(
      point.name,
      point.dimensions,
      point.name === FINANCE_METRICS.amountDifference ? MetricUnit.NoUnit : MetricUnit.Count,
      point.value,
    );
  return reports;
}
