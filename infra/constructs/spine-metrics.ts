/**
 * Spine's own CloudWatch metrics, as the handlers publish them (Powertools Metrics, EMF, namespace
 * `Spine`). CloudWatch keys a metric on its exact set of dimensions, so each function here names
 * the set its handler writes; the dashboard and alarms build on these and nothing else.
 */
import { Duration } from 'aws-cdk-lib';
import {
  Alarm,
  AnomalyDetectionAlarm,
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
 * Where an alarm's runbook section lives when the environment names no URL of its own: the
 * runbook's path in this repository, which the on-call engineer has checked out.
 */
export const DEFAULT_RUNBOOK_URL = 'docs/runbook.md';
/** CloudFormation refuses a longer AlarmDescription: refused here, at synth, instead of at deploy. */
const MAX_DESCRIPTION_CHARS = 1024;

/**
 * How an alarm decides, chosen for each alarm rather than defaulted: how many periods it looks
 * at, how many of them must breach, and what a period without data means (for most of Spine's
 * metrics, nothing happened: a handler publishes a failure only when one occurs).
 */
export interface AlarmEvaluation {
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  readonly treatMissingData: TreatMissingData;
}

/** One breach is enough: a dead letter, a failed run or a finance difference needs a person, however brief. */
export const AT_ONCE: AlarmEvaluation = {
  evaluationPeriods: 1,
  datapointsToAlarm: 1,
  treatMissingData: TreatMissingData.NOT_BREACHING,
};

/**
 * Two breaches in three periods: a single failed invocation, throttle or 5xx is retried (by
 * the SDK, Lambda or the vendor) and heals; a repeated one does not. No data means nothing failed.
 */
export const REPEATED: AlarmEvaluation = {
  evaluationPeriods: 3,
  datapointsToAlarm: 2,
  treatMissingData: TreatMissingData.NOT_BREACHING,
};

export interface SpineAlarmProps extends AlarmEvaluation {
  /** `spine-<stage>` or `spine-<stage>-<flow>`: the alarm is `<prefix>-<id in kebab case>`. */
  readonly namePrefix: string;
  readonly metric: IMetric;
  /** What the alarm means and what to do first; the runbook link follows it. */
  readonly description: string;
  /** The alarm's runbook section, `<runbook URL>#<anchor>` (see runbookSection). */
  readonly runbook: string;
}

/** The link to one section of the runbook: the heading's anchor after the runbook's URL. */
export function runbookSection(runbookUrl: string, anchor: string): string {
  if (!/^[a-z0-9-]+$/.test(anchor))
    throw new Error(
      `runbook anchor "${anchor}": expected a heading's anchor (lower case, digits, hyphens)`,
    );
  return `${runbookUrl}#${anchor}`;
}

function alarmName(namePrefix: string, id: string): string {
  const kebab = id.replace(/[A-Z]/g, (c, i) => `${i ? '-' : ''}${c.toLowerCase()}`);
  return `${namePrefix}-${kebab}`;
}

/** The description as e-mailed: what it means and what to do, then where the runbook says more. */
function describedWithRunbook(id: string, props: SpineAlarmProps): string {
  const text = `${props.description} Runbook: ${props.runbook}`;
  if (text.length > MAX_DESCRIPTION_CHARS)
    throw new Error(
      `alarm ${id}: its description is ${text.length} characters, CloudWatch takes at most ${MAX_DESCRIPTION_CHARS}; move the detail to the runbook`,
    );
  return text;
}

function checkedEvaluation(id: string, props: AlarmEvaluation): AlarmEvaluation {
  if (props.datapointsToAlarm < 1 || props.datapointsToAlarm > props.evaluationPeriods)
    throw new Error(
      `alarm ${id}: datapointsToAlarm (${props.datapointsToAlarm}) must be from 1 to evaluationPeriods (${props.evaluationPeriods})`,
    );
  return props;
}

/**
 * An alarm that fires when the metric reaches the threshold in `datapointsToAlarm` of the last
 * `evaluationPeriods` periods, named `<prefix>-<id in kebab case>` (`spine-prod-payments-dead-letters`),
 * its description ending with its runbook section.
 */
export function thresholdAlarm(
  scope: Construct,
  id: string,
  props: SpineAlarmProps & {
    readonly threshold: number;
    /** @default GREATER_THAN_OR_EQUAL_TO_THRESHOLD */
    readonly comparisonOperator?: ComparisonOperator;
  },
): Alarm {
  return new Alarm(scope, id, {
    alarmName: alarmName(props.namePrefix, id),
    metric: props.metric,
    threshold: props.threshold,
    comparisonOperator:
      props.comparisonOperator ?? ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    ...checkedEvaluation(id, props),
    alarmDescription: describedWithRunbook(id, props),
  });
}

/**
 * An alarm that fires when the metric falls below the band CloudWatch anomaly detection expects
 * of it (learnt from its hourly, daily and weekly pattern) in `datapointsToAlarm` of the last
 * `evaluationPeriods` periods: traffic that stopped against its usual level, where a fixed
 * threshold would either miss a busy source going quiet or page for a quiet one at night.
 */
export function belowBandAlarm(
  scope: Construct,
  id: string,
  props: SpineAlarmProps & {
    /** Width of the expected band, in standard deviations. @default 2 */
    readonly stdDevs?: number;
  },
): Alarm {
  return new AnomalyDetectionAlarm(scope, id, {
    alarmName: alarmName(props.namePrefix, id),
    metric: props.metric,
    stdDevs: props.stdDevs ?? 2,
    comparisonOperator: ComparisonOperator.LESS_THAN_LOWER_THRESHOLD,
    ...checkedEvaluation(id, props),
    alarmDescription: describedWithRunbook(id, props),
  });
}
