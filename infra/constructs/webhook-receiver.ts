import { Duration } from 'aws-cdk-lib';
import type { MathExpression, Metric, MetricOptions } from 'aws-cdk-lib/aws-cloudwatch';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { FlowQueues } from './flow-queues.ts';
import { SpineFunction } from './spine-function.ts';
import type { SpineTables } from './spine-tables.ts';
import { receiverFunctionName, type WebhookApi } from './webhook-api.ts';

export interface WebhookReceiverProps {
  readonly stage: string;
  /** The API vendors call (edge stack); it reaches this receiver by its function name. */
  readonly api: WebhookApi;
  /** Every flow: the receiver queues to each, and quarantines into each DLQ. */
  readonly flows: readonly FlowQueues[];
  readonly tables: SpineTables;
  /** The signing secret of each source. */
  readonly webhookSecrets: readonly ISecret[];
  /** The key of the pseudonyms in lineage and logs. */
  readonly redactionKey: ISecret;
  /** Spine's configuration for the receiver. */
  readonly environment: Readonly<Record<string, string>>;
  readonly logRetention: RetentionDays;
}

/**
 * The receiver behind the webhook API: verifies, validates and queues each webhook, with only
 * the grants that takes. Its metrics are what vendors see of it, the API's answers.
 */
export class WebhookReceiver extends Construct {
  readonly receiver: SpineFunction;
  readonly api: WebhookApi;

  constructor(scope: Construct, id: string, props: WebhookReceiverProps) {
    super(scope, id);
    this.api = props.api;
    this.receiver = new SpineFunction(this, 'Receiver', {
      handlerFile: 'receiver.ts',
      functionName: receiverFunctionName(props.stage),
      description: 'Verifies, validates and queues vendor webhooks',
      environment: props.environment,
      logRetention: props.logRetention,
      // Vendors wait for the answer; API Gateway gives up after 30 s.
      timeout: Duration.seconds(10),
    });
    const fn = this.receiver.function;
    props.api.allowInvokeFromRoute(fn);
    for (const flow of props.flows) {
      flow.grantSendToQueue(fn);
      flow.grantSendToDeadLetterQueue(fn);
    }
    props.tables.grantLineageAppend(fn);
    props.redactionKey.grantRead(fn);
    for (const secret of props.webhookSecrets) secret.grantRead(fn);
  }

  /** Requests answered 5xx (the receiver failed or a queue was unreachable). */
  metricServerErrors(options?: MetricOptions): Metric {
    return this.api.metricServerErrors(options);
  }

  /** Requests answered 4xx (bad signatures, unknown sources, oversize or unreadable bodies). */
  metricClientErrors(options?: MetricOptions): Metric {
    return this.api.metricClientErrors(options);
  }

  metricRequests(options?: MetricOptions): Metric {
    return this.api.metricRequests(options);
  }

  /** Percentage of requests answered 5xx (0 when there were none). */
  metricServerErrorRate(options?: MetricOptions): MathExpression {
    return this.api.metricServerErrorRate(options);
  }
}
