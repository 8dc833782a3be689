/**
 * Spine's own CloudWatch metrics, as the handlers publish them (Powertools Metrics, EMF, namespace
 * `Spine`). CloudWatch keys a metric on its exact set of dimensions, so each function here names
 * the set its handler writes; the dashboard and alarms build on these and nothing else.
 */
import { Duration } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  type IMetric,
  MathExpression,
  Metric,
  type MetricOptions,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct } from 'constructs';

export const SPINE_NAMESPACE = 'Spine';
/** Powertools adds the service name to every metric as the `service` dimension. */
export const SPINE_SERVICE = 'spine';

/** A metric with `service` plus the given dimensions, summed over five minutes by default. */
export function spineMetric(
  metricName: string,
  dimensions: Readonly<Record<string, string>>,
  options: MetricOptions = {},
): Metric {
  return new Metric({
    namespace: SPINE_NAMESPACE,
    metricName,
    dimensionsMap: { service: SPINE_SERVICE, ...dimensions },
    statistic: 'Sum',
    period: Duration.minutes(5),
    ...options,
  });
}

/**
 * The sum of several metrics as one line (missing data counts as 0). CloudWatch allows ten
 * metrics in an alarm's expression: more fail synth here rather than at deploy.
 */
export function sumOf(metrics: readonly Metric[], label: string, period = Duration.minutes(5)) {
  if (metrics.length === 0) throw new Error(`sumOf "${label}": no metrics to add`);
  if (metrics.length > 10)
    throw new Error(
      `sumOf "${label}": ${metrics.length} metrics, CloudWatch alarms take at most 10 in one expression`,
    );
  // Ids are unique per expression, as a graph may hold several sums.
  const prefix = `m_${label.toLowerCase().replace(/[^a-z0-9]+/g, '_')}_`;
  const usingMetrics = Object.fromEntries(metrics.map((m, i) => [`${prefix}${i}`, m]));
  return new MathExpression({
    expression: Object.keys(usingMetrics)
      .map((id) => `FILL(${id}, 0)`)
      .join(' + '),
    usingMetrics,
    label,
    period,
  });
}

/**
 * Every series of a metric whose dimension sets vary (a failure class, a rejection reason), for
 * graphs only: CloudWatch does not alarm on SEARCH.
 */
export function searchSpineMetric(
  metricName: string,
  filter: Readonly<Record<string, string>>,
  options: { statistic?: string; period?: Duration; label?: string } = {},
): MathExpression {
  const terms = Object.entries(filter)
    .map(([name, value]) => ` ${name}="${value}"`)
    .join('');
  const period = options.period ?? Duration.minutes(5);
  return new MathExpression({
    expression: `SEARCH('Namespace="${SPINE_NAMESPACE}" MetricName="${metricName}"${terms}', '${options.statistic ?? 'Sum'}', ${period.toSeconds()})`,
    usingMetrics: {},
    label: options.label ?? '',
    period,
  });
}

/**
 * An alarm that fires when the metric reaches the threshold in one period, named
 * `<prefix>-<id in kebab case>` (`spine-prod-payments-dead-letters`); no data is not a breach.
 */
export function thresholdAlarm(
  scope: Construct,
  id: string,
  props: { namePrefix: string; metric: IMetric; threshold: number; description: string },
): Alarm {
  const kebab = id.replace(/[A-Z]/g, (c, i) => `${i ? '-' : ''}${c.toLowerCase()}`);
  return new Alarm(scope, id, {
    alarmName: `${props.namePrefix}-${kebab}`,
    metric: props.metric,
    threshold: props.threshold,
    evaluationPeriods: 1,
    comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: TreatMissingData.NOT_BREACHING,
    alarmDescription: props.description,
  });
}
