import { ArnFormat, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import { Metric, type MetricOptions } from 'aws-cdk-lib/aws-cloudwatch';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import {
  DeduplicationScope,
  FifoThroughputLimit,
  type IQueue,
  Queue,
  QueueEncryption,
  RedrivePermission,
} from 'aws-cdk-lib/aws-sqs';
import { RegionInfo } from 'aws-cdk-lib/region-info';
import { Construct } from 'constructs';
import type { CompiledFlow } from '../../functions/contracts/model.ts';
import {
  deadLetterQueueName,
  flowQueueName,
  parkingQueueName,
} from '../../functions/platform/names.ts';
import {
  DEFAULT_REDELIVERY,
  type RedeliveryPolicy,
  receivesToOutlast,
  retriesSpanSeconds,
} from '../../functions/sync/redelivery.ts';

export interface FlowQueuesProps {
  readonly stage: string;
  /** The flow, from the compiled contract registry. */
  readonly flow: CompiledFlow;
  readonly encryptionKey: IKey;
  /**
   * How long the worker hides a retried event, by its receive count.
   * @default DEFAULT_REDELIVERY (30 s, doubling up to 15 minutes)
   */
  readonly redelivery?: RedeliveryPolicy;
  /**
   * The Odoo outage that events wait out in this queue: the redrive limit is sized so that the
   * retries of one event, spaced by `redelivery`, span it. @default Duration.hours(3)
   */
  readonly outageTolerance?: Duration;
  /**
   * Receives before an event is dead-lettered.
   * @default the fewest whose retries span `outageTolerance`
   */
  readonly maxReceiveCount?: number;
  /**
   * How long a received event stays hidden. Lambda wants at least six times the worker's
   * timeout for an SQS source. @default Duration.minutes(6)
   */
  readonly visibilityTimeout?: Duration;
  /** How long an event waits in the flow queue. @default Duration.days(4) */
  readonly retentionPeriod?: Duration;
  /** How long a failed event is kept; longer than the queue's, so redrive never loses one. @default Duration.days(14) */
  readonly deadLetterRetentionPeriod?: Duration;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * A flow's queues: the flow queue, its dead-letter queue and the parking queue where replay
 * leaves events that failed too many replays. Grants name exactly the actions each user needs.
 */
export class FlowQueues extends Construct {
  readonly flowName: string;
  readonly fifo: boolean;
  /**
   * The queues, referenced by the names functions/platform/names.ts gives them rather than by
   * CloudFormation attributes: a stack that uses them holds no import of this one, so that a
   * flow can be removed, or turned FIFO (a new queue), without an "export in use" failure.
   */
  readonly queue: IQueue;
  readonly deadLetterQueue: IQueue;
  readonly parkingQueue: IQueue;
  readonly maxReceiveCount: number;
  readonly redelivery: RedeliveryPolicy;
  readonly visibilityTimeout: Duration;
  private readonly encryptionKey: IKey;

  constructor(scope: Construct, id: string, props: FlowQueuesProps) {
    super(scope, id);
    const { flow, stage } = props;
    this.flowName = flow.name;
    this.fifo = flow.fifo;
    this.encryptionKey = props.encryptionKey;
    this.redelivery = props.redelivery ?? DEFAULT_REDELIVERY;
    const tolerance = props.outageTolerance ?? Duration.hours(3);
    this.maxReceiveCount =
      props.maxReceiveCount ?? receivesToOutlast(tolerance.toSeconds(), this.redelivery);
    this.visibilityTimeout = props.visibilityTimeout ?? Duration.minutes(6);
    const retention = props.retentionPeriod ?? Duration.days(4);
    if (this.maxReceiveCount > 1000)
      throw new Error(
        `FlowQueues ${flow.name}: outlasting an outage of ${tolerance.toHumanString()} takes ${this.maxReceiveCount} receives, and SQS allows at most 1000: lengthen redelivery.capSeconds`,
      );
    const span = retriesSpanSeconds(this.maxReceiveCount, this.redelivery);
    if (span >= retention.toSeconds())
      throw new Error(
        `FlowQueues ${flow.name}: the retries of an event span ${Math.round(span / 3600)} h, longer than the queue keeps it (${retention.toHumanString()}): lower outageTolerance or lengthen retentionPeriod`,
      );
    const deadLetterRetention = props.deadLetterRetentionPeriod ?? Duration.days(14);
    if (deadLetterRetention.toSeconds() <= retention.toSeconds())
      throw new Error(
        `FlowQueues ${flow.name}: deadLetterRetentionPeriod (${deadLetterRetention.toHumanString()}) must be longer than retentionPeriod (${retention.toHumanString()}), or redrive can move an event that expires at once`,
      );
    const names = {
      queue: flowQueueName(stage, flow.name, flow.fifo),
      deadLetterQueue: deadLetterQueueName(stage, flow.name, flow.fifo),
      parkingQueue: parkingQueueName(stage, flow.name, flow.fifo),
    };
    this.queue = this.byName('QueueByName', names.queue);
    this.deadLetterQueue = this.byName('DeadLetterQueueByName', names.deadLetterQueue);
    this.parkingQueue = this.byName('ParkingQueueByName', names.parkingQueue);

    const common = {
      encryption: QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      enforceSSL: true,
      fifo: flow.fifo || undefined,
      // High throughput: deduplication and the rate limit per message group (the entity key), so
      // a FIFO flow is not held to 300 messages a second. The DLQ and the parking queue too: the
      // receiver quarantines into the DLQ and replay parks at the flow's pace.
      ...(flow.fifo
        ? {
            deduplicationScope: DeduplicationScope.MESSAGE_GROUP,
            fifoThroughputLimit: FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
          }
        : {}),
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    };
    const deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      ...common,
      queueName: names.deadLetterQueue,
      retentionPeriod: deadLetterRetention,
      // Only this flow's queue may redrive into its DLQ. By name: the queue's own redrive policy
      // names this DLQ, and attributes both ways would be a circular dependency.
      redriveAllowPolicy: {
        redrivePermission: RedrivePermission.BY_QUEUE,
        sourceQueues: [this.queue],
      },
    });
    const parkingQueue = new Queue(this, 'ParkingQueue', {
      ...common,
      queueName: names.parkingQueue,
      retentionPeriod: deadLetterRetention,
    });
    const lastStop =
      'The parking queue is where replay puts events that failed too many replays, for a person to read: it is the last stop, so it has no dead-letter queue of its own.';
    Validations.of(parkingQueue).acknowledge(
      { id: 'AwsSolutions::AwsSolutions-SQS3', reason: lastStop },
      { id: 'cdk-validator-cfnguard::sqs_dlq_check', reason: lastStop },
    );
    new Queue(this, 'Queue', {
      ...common,
      queueName: names.queue,
      retentionPeriod: retention,
      visibilityTimeout: this.visibilityTimeout,
      deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: this.maxReceiveCount },
    });
  }

  /** Sending events to the flow queue (the receiver; replay). */
  grantSendToQueue(grantee: IGrantable): void {
    this.grantSend(grantee, this.queue);
  }

  /** Sending failed events straight to the dead-letter queue (quarantine; permanent failures). */
  grantSendToDeadLetterQueue(grantee: IGrantable): void {
    this.grantSend(grantee, this.deadLetterQueue);
  }

  /** What a replay turn does: take dead letters, send them back or park them, hide the rest. */
  grantReplay(grantee: IGrantable): void {
    this.allow(
      grantee,
      [
        'sqs:ReceiveMessage',
        'sqs:DeleteMessage',
        'sqs:ChangeMessageVisibility',
        'sqs:GetQueueAttributes',
      ],
      [this.deadLetterQueue.queueArn],
    );
    this.allow(grantee, ['sqs:SendMessage'], [this.queue.queueArn, this.parkingQueue.queueArn]);
    this.allow(grantee, ['kms:Decrypt', 'kms:GenerateDataKey'], [this.encryptionKey.keyArn]);
  }

  /** Events waiting in the dead-letter queue. */
  metricDeadLetterDepth(options?: MetricOptions): Metric {
    return this.metric(this.deadLetterQueue, 'ApproximateNumberOfMessagesVisible', {
      statistic: 'Maximum',
      period: Duration.minutes(1),
      label: `${this.flowName} DLQ depth`,
      ...options,
    });
  }

  /** Events waiting in the flow queue. */
  metricQueueDepth(options?: MetricOptions): Metric {
    return this.metric(this.queue, 'ApproximateNumberOfMessagesVisible', {
      statistic: 'Maximum',
      period: Duration.minutes(1),
      label: `${this.flowName} queue depth`,
      ...options,
    });
  }

  /** Age of the oldest event in the flow queue, in seconds. */
  metricOldestMessageAge(options?: MetricOptions): Metric {
    return this.metric(this.queue, 'ApproximateAgeOfOldestMessage', {
      statistic: 'Maximum',
      period: Duration.minutes(1),
      label: `${this.flowName} oldest event (s)`,
      ...options,
    });
  }

  /** Events parked after too many replays. */
  metricParkedDepth(options?: MetricOptions): Metric {
    return this.metric(this.parkingQueue, 'ApproximateNumberOfMessagesVisible', {
      statistic: 'Maximum',
      period: Duration.minutes(5),
      label: `${this.flowName} parked`,
      ...options,
    });
  }

  /**
   * A queue referenced by name: its ARN and URL are built from the stack's account and region,
   * which CloudFormation needs no export for.
   */
  private byName(id: string, queueName: string): IQueue {
    const stack = Stack.of(this);
    const domain = Token.isUnresolved(stack.region)
      ? stack.urlSuffix
      : (RegionInfo.get(stack.region).domainSuffix ?? stack.urlSuffix);
    return Queue.fromQueueAttributes(this, id, {
      queueArn: stack.formatArn({
        service: 'sqs',
        resource: queueName,
        arnFormat: ArnFormat.NO_RESOURCE_NAME,
      }),
      queueUrl: `https://sqs.${stack.region}.${domain}/${stack.account}/${queueName}`,
      queueName,
      fifo: this.fifo,
      keyArn: this.encryptionKey.keyArn,
    });
  }

  private metric(queue: IQueue, metricName: string, options: MetricOptions): Metric {
    return new Metric({
      namespace: 'AWS/SQS',
      metricName,
      dimensionsMap: { QueueName: queue.queueName },
      ...options,
    });
  }

  private grantSend(grantee: IGrantable, queue: IQueue): void {
    this.allow(grantee, ['sqs:SendMessage'], [queue.queueArn]);
    // SQS encrypts with a data key it asks KMS for on the sender's behalf.
    this.allow(grantee, ['kms:Decrypt', 'kms:GenerateDataKey'], [this.encryptionKey.keyArn]);
  }

  private allow(grantee: IGrantable, actions: string[], resources: string[]): void {
    grantee.grantPrincipal.addToPrincipalPolicy(new PolicyStatement({ actions, resources }));
  }
}
