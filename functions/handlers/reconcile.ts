/**
 * Scheduled reconciliation: for every contract that counts, yesterday and today (UTC), lineage
 * against Odoo. Publishes a mismatch metric per contract (alarmed on) and returns the reports.
 */
import { getContainer } from '../platform/container.ts';
import { createLogger, publishMetric } from '../platform/powertools.ts';
import { redactionKey } from '../platform/secrets.ts';
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
      const mismatches =
        report.missing.length +
        report.unexpected.length +
        report.differences.length +
        report.valueDifferences.length;
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
        });
    }
  }
  return reports;
}
