import { Duration } from 'aws-cdk-lib';
import {
  type Alarm,
  MathExpression,
  type Metric,
  type MetricOptions,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { REJECTION_REASONS } from '../../functions/ingest/rejection-reasons.ts';
import { webhookSecretName } from '../../functions/platform/names.ts';
import {
  belowBandAlarm,
  DEFAULT_RUNBOOK_URL,
  runbookSection,
  spineMetric,
  thresholdAlarm,
} from './spine-metrics.ts';

/** The period the quiet-source alarm compares: long enough to smooth a few events an hour. */
const QUIET_PERIOD = Duration.hours(1);

export interface WebhookSourceProps {
  readonly stage: string;
  /** The source as it appears in its webhook URL (`stripe` for `/webhooks/stripe`). */
  readonly source: string;
  /** The runbook the alarms link to. @default DEFAULT_RUNBOOK_URL (docs/runbook.md) */
  readonly runbookUrl?: string;
}

/**
 * One vendor sending webhooks, as an operator watches it: what the receiver counts of it
 * (received, refused for a bad signature, refused for want of a secret) and the alarms on
 * those: a secret that changed at the vendor, a source gone quiet, a secret never stored.
 */
export class WebhookSource extends Construct {
  readonly sourceName: string;
  /** The alarms of this source; Observability sends them to the alarm topic. */
  readonly alarms: readonly Alarm[];

  constructor(scope: Construct, id: string, props: WebhookSourceProps) {
    super(scope, id);
    const { stage, source } = props;
    this.sourceName = source;
    const runbook = (anchor: string) =>
      runbookSection(props.runbookUrl ?? DEFAULT_RUNBOOK_URL, anchor);
    const namePrefix = `spine-${stage}-${source}`;
    const secret = webhookSecretName(stage, source);
    this.alarms = [
      // Repeated over a quarter of an hour, so one forged or misrouted request does not page;
      // a vendor whose secret changed keeps failing (and retrying) until it is fixed.
      thresholdAlarm(this, 'SignatureFailures', {
        namePrefix,
        metric: this.metricSignatureMismatches(),
        threshold: 1,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        description: `Deliveries from ${source} keep failing their signature check (answered 401, nothing stored): the signing secret probably changed at ${source} while ${secret} holds the old one. Store the new one as "current", the old as "previous", before the vendor stops retrying.`,
        runbook: runbook('signature-failures'),
      }),
      // Three hours below the band learnt from this hour and weekday; an hour without any
      // delivery counts as 0 (FILL), and no data at all as quiet: a source that stopped
      // entirely publishes nothing, and that is what this alarm is for.
      belowBandAlarm(this, 'Quiet', {
        namePrefix,
        metric: this.metricDeliveries(),
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        treatMissingData: TreatMissingData.BREACHING,
        description: `${source} has sent far fewer events than usual for this hour and weekday for 3 hours: the webhook may be disabled or pointed elsewhere at ${source}, or its deliveries refused (see the signature-failures and not-configured alarms of ${source}).`,
        runbook: runbook('quiet-source'),
      }),
      // Only a request to a source with no secret stored counts here, so anyone can raise it
      // only while the secret is in fact missing: it always needs an operator.
      thresholdAlarm(this, 'NotConfigured', {
        namePrefix,
        metric: this.metricNotConfigured(),
        threshold: 1,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        description: `Deliveries to /webhooks/${source} were answered 503 because ${secret} holds no signing secret; nothing was stored and the vendor retries. Store {"current": "<the vendor's signing secret>"} in it.`,
        runbook: runbook('source-not-configured'),
      }),
    ];
  }

  /** Events the receiver accepted from this source (202), whatever became of them. */
  metricReceived(options?: MetricOptions): Metric {
    return spineMetric(
      'received',
      { source: this.sourceName },
      { label: `received from ${this.sourceName}`, ...options },
    );
  }

  /** Received events per hour, an hour without any counted as 0: what the quiet alarm learns. */
  metricDeliveries(): MathExpression {
    return new MathExpression({
      expression: 'FILL(received, 0)',
      usingMetrics: { received: this.metricReceived({ period: QUIET_PERIOD }) },
      label: `${this.sourceName} events per hour`,
      period: QUIET_PERIOD,
    });
  }

  /** Deliveries refused because their signature did not match the stored secret(s). */
  metricSignatureMismatches(options?: MetricOptions): Metric {
    return spineMetric(
      'rejected',
      { source: this.sourceName, reason: REJECTION_REASONS.signatureMismatch },
      { label: `${this.sourceName} signature mismatches`, ...options },
    );
  }

  /** Deliveries answered 503 because no signing secret is stored for this source. */
  metricNotConfigured(options?: MetricOptions): Metric {
    return spineMetric(
      'rejected',
      { source: this.sourceName, reason: REJECTION_REASONS.notConfigured },
      { label: `${this.sourceName} refused, no secret stored`, ...options },
    );
  }
}
