import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { Metric, MetricOptions } from 'aws-cdk-lib/aws-cloudwatch';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Queue, QueueEncryption, RedrivePermission } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { CompiledFlow } from '../../functions/contracts/model.ts';
import {
  deadLetterQueueName,
  flowQueueName,
  parkingQueueName,
} from '../../functions/platform/names.ts';

export interface FlowQueuesProps {
  readonly stage: string;
  /** The flow, from the compiled contract registry. */
  readonly flow: CompiledFlow;
  readonly encryptionKey: IKey;
  /** Receives before an event is dead-lettered. @default 5 */
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
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly parkingQueue: Queue;
  readonly maxReceiveCount: number;
  readonly visibilityTimeout: Duration;
  private readonly encryptionKey: IKey;

  constructor(scope: Construct, id: string, props: FlowQueuesProps) {
    super(scope, id);
    const { flow, stage } = props;
    this.flowName = flow.name;
    this.fifo = flow.fifo;
    this.encryptionKey = props.encryptionKey;
    this.maxReceiveCount = props.maxReceiveCount ?? 5;
    this.visibilityTimeout = props.visibilityTimeout ?? Duration.minutes(6);
    const retention = props.retentionPeriod ?? Duration.days(4);
    const deadLetterRetention = props.deadLetterRetentionPeriod ?? Duration.days(14);
    if (deadLetterRetention.toSeconds() <= retention.toSeconds())
      throw new Error(
        `FlowQueues ${flow.name}: deadLetterRetentionPeriod (${deadLetterRetention.toHumanString()}) must be longer than retentionPeriod (${retention.toHumanString()}), or redrive can move an event that expires at once`,
      );
    const common = {
      encryption: QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      enforceSSL: true,
      fifo: flow.fifo || undefined,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    };
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      ...common,
      queueName: deadLetterQueueName(stage, flow.name, flow.fifo),
      retentionPeriod: deadLetterRetention,
      redriveAllowPolicy: { redrivePermission: RedrivePermission.ALLOW_ALL },
    });
    this.parkingQueue = new Queue(this, 'ParkingQueue', {
      ...common,
      queueName: parkingQueueName(stage, flow.name, flow.fifo),
      retentionPeriod: deadLetterRetention,
    });
    Validations.of(this.parkingQueue).acknowledge({
      id: 'AwsSolutions::AwsSolutions-SQS3',
      reason:
        'The parking queue is where replay puts events that failed too many replays, for a person to read: it is the last stop, so it has no dead-letter queue of its own.',
    });
    this.queue = new Queue(this, 'Queue', {
      ...common,
      queueName: flowQueueName(stage, flow.name, flow.fifo),
      retentionPeriod: retention,
      visibilityTimeout: this.visibilityTimeout,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: this.maxReceiveCount },
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
    return this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
      statistic: 'Maximum',
      period: Duration.minutes(1),
      label: `${this.flowName} DLQ depth`,
      ...options,
    });
  }

  /** Events waiting in the flow queue. */
  metricQueueDepth(options?: MetricOptions): Metric {
    return this.queue.metricApproximateNumberOfMessagesVisible({
      statistic: 'Maximum',
      period: Duration.minutes(1),
      label: `${this.flowName} queue depth`,
      ...options,
    });
  }

  /** Age of the oldest event in the flow queue, in seconds. */
  metricOldestMessageAge(options?: MetricOptions): Metric {
    return this.queue.metricApproximateAgeOfOldestMessage({
      statistic: 'Maximum',
      period: Duration.minutes(1),
      label: `${this.flowName} oldest event (s)`,
      ...options,
    });
  }

  /** Events parked after too many replays. */
  metricParkedDepth(options?: MetricOptions): Metric {
    return this.parkingQueue.metricApproximateNumberOfMessagesVisible({
      statistic: 'Maximum',
      period: Duration.minutes(5),
      label: `${this.flowName} parked`,
      ...options,
    });
  }

  private grantSend(grantee: IGrantable, queue: Queue): void {
    this.allow(grantee, ['sqs:SendMessage'], [queue.queueArn]);
    // SQS encrypts with a data key it asks KMS for on the sender's behalf.
    this.allow(grantee, ['kms:Decrypt', 'kms:GenerateDataKey'], [this.encryptionKey.keyArn]);
  }

  private allow(grantee: IGrantable, actions: string[], resources: string[]): void {
    grantee.grantPrincipal.addToPrincipalPolicy(new PolicyStatement({ actions, resources }));
  }
}
