/** Logger and metrics, created once per Lambda container (module scope), as Powertools intends. */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/** One logger per handler module: each Lambda has its own, and so does each handler locally. */
export function createLogger(): Logger {
  return new Logger({ serviceName: 'spine' });
}

type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];
const byDimensions = new Map<string, Metrics>();
const MAX_DIMENSION_SETS = 500;

/**
 * Stores one metric value under its own dimensions, for `flushMetrics()` to write at the end of
 * the invocation. CloudWatch Logs bills every byte a Lambda logs, and an EMF line is about 300
 * bytes: written at once, each event (and each Odoo call's latency) cost a line of its own. Kept
 * until the invocation ends, a dimension set costs one line per invocation, holding every metric
 * published for it; a metric published more than once keeps each value (an array, which
 * CloudWatch counts value by value: Sum and p95 are the same as from single lines).
 *
 * One Powertools Metrics per dimension set, kept with the set as its default dimensions (its
 * `singleMetric()` builds a new Metrics, and a new Console, on every call). Powertools writes a
 * set's line early by itself when a metric reaches the 100 values EMF allows, or before a 101st
 * metric name: nothing is dropped, the invocation just gets more than one line for that set.
 * A metric name keeps one unit: Powertools refuses another unit for a name already stored.
 */
export function publishMetric(
  name: string,
  dimensions: Readonly<Record<string, string>>,
  unit: Unit = MetricUnit.Count,
  value = 1,
): void {
  const key = JSON.stringify(dimensions);
  let stored = byDimensions.get(key);
  if (!stored) {
    // Dimension values come from the registry and error classes, so the sets are few; the bound
    // only guards against a surprise, and writes what the sets hold before forgetting them.
    if (byDimensions.size >= MAX_DIMENSION_SETS) {
      flushMetrics();
      byDimensions.clear();
    }
    stored = new Metrics({
      namespace: 'Spine',
      serviceName: 'spine',
      defaultDimensions: { ...dimensions },
    });
    byDimensions.set(key, stored);
  }
  stored.addMetric(name, unit, value);
}

/**
 * Writes what `publishMetric` stored: one EMF line per dimension set holding metrics. Every
 * handler that publishes metrics calls it once, in a `finally`, at the end of its invocation.
 */
export function flushMetrics(): void {
  // Only sets holding metrics: Powertools warns on publishing an empty store. Asked of each set,
  // not of a flag of this module's: with concurrent invocations (AWS_LAMBDA_MAX_CONCURRENCY)
  // Powertools keeps each invocation's metrics apart.
  for (const stored of byDimensions.values())
    if (stored.hasStoredMetrics()) stored.publishStoredMetrics();
}

/** The domain code's logger port, written through Powertools (JSON lines with the correlation id). */
export function logPort(logger: Logger) {
  return {
    info: (message: string, fields: Record<string, unknown> = {}) => logger.info(message, fields),
    warn: (message: string, fields: Record<string, unknown> = {}) => logger.warn(message, fields),
    error: (message: string, fields: Record<string, unknown> = {}) => logger.error(message, fields),
  };
}
