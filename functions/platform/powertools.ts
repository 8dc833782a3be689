/** Logger and metrics, created once per Lambda container (module scope), as Powertools intends. */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/** One logger per handler module: each Lambda has its own, and so does each handler locally. */
export function createLogger(): Logger {
  return new Logger({ serviceName: 'spine' });
}
export const metrics = new Metrics({ namespace: 'Spine', serviceName: 'spine' });

type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];
const byDimensions = new Map<string, Metrics>();
const MAX_DIMENSION_SETS = 500;

/**
 * Publishes one metric at once, with its own dimensions (one EMF line). Powertools'
 * `singleMetric()` builds a new Metrics, and a new Console, on every call: a tenth of a
 * millisecond per event on the receiver's path. One single-metric instance per dimension set,
 * kept with the set as its default dimensions, publishes the same line.
 */
export function publishMetric(
  name: string,
  dimensions: Readonly<Record<string, string>>,
  unit: Unit = MetricUnit.Count,
  value = 1,
): void {
  const key = JSON.stringify(dimensions);
  let single = byDimensions.get(key);
  if (!single) {
    // Dimension values come from the registry and error classes, so the sets are few; the bound
    // only guards against a surprise.
    if (byDimensions.size >= MAX_DIMENSION_SETS) byDimensions.clear();
    single = new Metrics({
      namespace: 'Spine',
      serviceName: 'spine',
      defaultDimensions: { ...dimensions },
      singleMetric: true,
    });
    byDimensions.set(key, single);
  }
  single.addMetric(name, unit, value);
}

/** The domain code's logger port, written through Powertools (JSON lines with the correlation id). */
export function logPort(logger: Logger) {
  return {
    info: (message: string, fields: Record<string, unknown> = {}) => logger.info(message, fields),
    warn: (message: string, fields: Record<string, unknown> = {}) => logger.warn(message, fields),
    error: (message: string, fields: Record<string, unknown> = {}) => logger.error(message, fields),
  };
}
