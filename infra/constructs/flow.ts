import { Duration } from 'aws-cdk-lib';
import type { Alarm, IMetric, Metric, MetricOptions } from 'aws-cdk-lib/aws-cloudwatch';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { CompiledContract, CompiledFlow } from '../../functions/contracts/model.ts';
import type { FlowQueues } from './flow-queues.ts';
import type { OdooCredentials } from './odoo-credentials.ts';
import { SpineFunction } from './spine-function.ts';
import { spineMetric, sumOf, thresholdAlarm } from './spine-metrics.ts';
import type { SpineTables } from './spine-tables.ts';

/** Lambda asks for an SQS source's visibility timeout to be at least six times the function's. */
const VISIBILITY_PER_TIMEOUT = 6;

export interface FlowProps {
  readonly stage: string;
  /** The flow, from the compiled contract registry. */
  readonly flow: CompiledFlow;
  /** Its contracts (the metrics add them up; reconciliation runs per contract). */
  readonly contracts: readonly CompiledContract[];
  /** The flow's queues, from the stateful stack. */
  readonly queues: FlowQueues;
  readonly tables: SpineTables;
  readonly odooCredentials: OdooCredentials;
  /** Hashes the redacted view in the `received` lineage entries the worker records. */
  readonly redactionKey: ISecret;
  /** Spine's configuration for the worker. */
  readonly environment: Readonly<Record<string, string>>;
  readonly logRetention: RetentionDays;
  /** Concurrent worker invocations at most (the event source mapping's MaximumConcurrency, 2–1000). @default 2 */
  readonly maxConcurrency?: number;
  /** Records per invocation. @default 10 */
  readonly batchSize?: number;
  /** How long to gather a batch; SQS FIFO sources take none. @default Duration.seconds(1) on standard queues */
  readonly maxBatchingWindow?: Duration;
  /** @default Duration.seconds(60) */
  readonly workerTimeout?: Duration;
}

/**
 * One flow at work: its worker fed by the flow queue (partial batch responses), its grants
 * (only its own queues), the metrics of the flow and the alarms an operator acts on.
 */
export class Flow extends Construct {
  readonly flowName: string;
  readonly queues: FlowQueues;
  readonly worker: SpineFunction;
  /** The alarms of this flow; Observability sends them to the alarm topic. */
  readonly alarms: readonly Alarm[];
  private readonly contracts: readonly CompiledContract[];

  constructor(scope: Construct, id: string, props: FlowProps) {
    super(scope, id);
    const { flow, queues } = props;
    this.flowName = flow.name;
    this.queues = queues;
    this.contracts = uniqueById(props.contracts.filter((c) => c.flow === flow.name));
    if (this.contracts.length === 0)
      throw new Error(`Flow ${flow.name}: no contract of the registry belongs to this flow`);
    const timeout = props.workerTimeout ?? Duration.seconds(60);
    const needed = timeout.toSeconds() * VISIBILITY_PER_TIMEOUT;
    if (queues.visibilityTimeout.toSeconds() < needed)
      throw new Error(
        `Flow ${flow.name}: the queue's visibility timeout (${queues.visibilityTimeout.toSeconds()} s) must be at least ${VISIBILITY_PER_TIMEOUT} × the worker's timeout (${needed} s), or events are received again while a worker still holds them`,
      );

    this.worker = new SpineFunction(this, 'Worker', {
      handlerFile: 'worker.ts',
      functionName: `spine-${props.stage}-worker-${flow.name}`,
      description: `Applies ${flow.name} events to Odoo`,
      // The worker dead-letters an event's last allowed delivery itself, with its reason.
      environment: {
        ...props.environment,
        SPINE_MAX_RECEIVE_COUNT: String(queues.maxReceiveCount),
      },
      logRetention: props.logRetention,
      timeout,
    });
    const fn = this.worker.function;
    fn.addEventSource(
      new SqsEventSource(queues.queue, {
        batchSize: props.batchSize ?? 10,
        ...(flow.fifo ? {} : { maxBatchingWindow: props.maxBatchingWindow ?? Duration.seconds(1) }),
        reportBatchItemFailures: true,
        maxConcurrency: props.maxConcurrency ?? 2,
      }),
    );
    // A permanent failure is dead-lettered at once, into this flow's DLQ and no other.
    queues.grantSendToDeadLetterQueue(fn);
    props.tables.grantIdempotencyRecords(fn);
    props.tables.grantLineageApply(fn);
    props.odooCredentials.grantRead(fn);
    props.redactionKey.grantRead(fn);

    const alarm = (alarmId: string, metric: IMetric, threshold: number, description: string) =>
      thresholdAlarm(this, alarmId, {
        namePrefix: `spine-${props.stage}-${flow.name}`,
        metric,
        threshold,
        description,
      });
    this.alarms = [
      alarm(
        'DeadLetters',
        this.metricDeadLetterDepth(),
        1,
        `Events of the ${flow.name} flow are in its DLQ. Read why with \`spine lineage event <source> <id>\` (or the spine-reason attribute), fix the cause, then \`spine replay --flow ${flow.name} --env ${props.stage}\`.`,
      ),
      alarm(
        'OldestEvent',
        this.metricOldestMessageAge(),
        flow.maxAgeSeconds,
        `The oldest ${flow.name} event has waited ${flow.maxAgeSeconds} s or more, past the flow's freshness objective: Odoo may be slow or down, or the worker is failing.`,
      ),
      alarm(
        'WorkerErrors',
        this.metricWorkerErrors(),
        1,
        `The ${flow.name} worker failed whole invocations (not single events): check its logs; the events are retried and then dead-lettered.`,
      ),
      alarm(
        'ReconciliationMismatch',
        this.metricReconciliationMismatches(),
        1,
        `Odoo does not hold what lineage says the ${flow.name} flow applied: run \`spine reconcile\` for the events and records involved.`,
      ),
    ];
  }

  metricQueueDepth(options?: MetricOptions): Metric {
    return this.queues.metricQueueDepth(options);
  }

  metricOldestMessageAge(options?: MetricOptions): Metric {
    return this.queues.metricOldestMessageAge(options);
  }

  metricDeadLetterDepth(options?: MetricOptions): Metric {
    return this.queues.metricDeadLetterDepth(options);
  }

  metricWorkerErrors(options?: MetricOptions): Metric {
    return this.worker.metricErrors({ label: `${this.flowName} worker errors`, ...options });
  }

  metricWorkerDuration(options?: MetricOptions): Metric {
    return this.worker.metricDuration({ label: `${this.flowName} worker p90 (ms)`, ...options });
  }

  /** Events the receiver queued for this flow. */
  metricAccepted(options?: MetricOptions): IMetric {
    return this.sumPerContract('accepted', true, options);
  }

  /** Authentic events that broke their contract, kept in the DLQ. */
  metricQuarantined(options?: MetricOptions): IMetric {
    return this.sumPerContract('quarantined', true, options);
  }

  /** Events written to Odoo. */
  metricApplied(options?: MetricOptions): IMetric {
    return this.sumPerContract('applied', false, options);
  }

  /** Events older than what Odoo already holds for their entity, skipped. */
  metricStaleSkipped(options?: MetricOptions): IMetric {
    return this.sumPerContract('stale-skipped', false, options);
  }

  /** Records whose event was applied before (a vendor retry or a replay), not applied again. */
  metricDuplicatesSuppressed(options?: MetricOptions): Metric {
    return spineMetric(
      'duplicates-suppressed',
      { flow: this.flowName },
      {
        label: `${this.flowName} duplicates suppressed`,
        ...options,
      },
    );
  }

  /** Time of the batched Odoo writes of one invocation, in milliseconds. */
  metricOdooLatency(options?: MetricOptions): Metric {
    return spineMetric(
      'odoo-latency',
      { flow: this.flowName },
      {
        statistic: 'p90',
        label: `${this.flowName} Odoo p90 (ms)`,
        ...options,
      },
    );
  }

  /** Missing, unexpected and differing records the last reconciliation found. */
  metricReconciliationMismatches(options?: MetricOptions): IMetric {
    const period = options?.period ?? Duration.days(1);
    return sumOf(
      this.contracts.map((c) =>
        spineMetric(
          'reconciliation-mismatches',
          { contract: c.id, flow: this.flowName },
          { statistic: 'Maximum', ...options, period },
        ),
      ),
      `${this.flowName} reconciliation mismatches`,
      period,
    );
  }

  private sumPerContract(metricName: string, bySource: boolean, options?: MetricOptions) {
    const period = options?.period ?? Duration.minutes(5);
    return sumOf(
      this.contracts.map((c) =>
        spineMetric(
          metricName,
          {
            ...(bySource ? { source: c.source.system } : {}),
            flow: this.flowName,
            contract: c.id,
          },
          { ...options, period },
        ),
      ),
      `${this.flowName} ${metricName}`,
      period,
    );
  }
}

function uniqueById(contracts: readonly CompiledContract[]): CompiledContract[] {
  return [...new Map(contracts.map((c) => [c.id, c])).values()];
}
