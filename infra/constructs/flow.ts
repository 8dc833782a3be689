import { Duration } from 'aws-cdk-lib';
import {
  type Alarm,
  type IMetric,
  type Metric,
  type MetricOptions,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { CompiledContract, CompiledFlow } from '../../functions/contracts/model.ts';
import { sourceCredentialName } from '../../functions/platform/names.ts';
import type { FlowQueues } from './flow-queues.ts';
import type { OdooCredentials } from './odoo-credentials.ts';
import { SpineFunction } from './spine-function.ts';
import {
  AT_ONCE,
  DEFAULT_RUNBOOK_URL,
  REPEATED,
  runbookSection,
  spineMetric,
  sumOf,
  thresholdAlarm,
} from './spine-metrics.ts';
import type { SpineTables } from './spine-tables.ts';

/** Lambda asks for an SQS source's visibility timeout to be at least six times the function's. */
const VISIBILITY_PER_TIMEOUT = 6;
/**
 * A dead letter this old alarms: half the DLQ's 14-day retention, so a week is left to fix the
 * cause and replay before SQS deletes it (a standard queue's dead letter keeps the age it had
 * in the flow queue, so it is never younger than it looks).
 */
export const DEAD_LETTER_AGE_ALARM = Duration.days(7);

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
  /**
   * Concurrent worker invocations at most (the event source mapping's MaximumConcurrency,
   * 2–1000), reserved for the worker so that no receive is throttled (a throttled receive
   * still counts toward the queue's redrive limit). @default 2
   */
  readonly maxConcurrency?: number;
  /** Records per invocation. @default 10 */
  readonly batchSize?: number;
  /** How long to gather a batch; SQS FIFO sources take none. @default Duration.seconds(1) on standard queues */
  readonly maxBatchingWindow?: Duration;
  /** @default Duration.seconds(60) */
  readonly workerTimeout?: Duration;
  /** The runbook the alarms link to. @default DEFAULT_RUNBOOK_URL (docs/runbook.md) */
  readonly runbookUrl?: string;
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
    const maxConcurrency = props.maxConcurrency ?? 2;
    if (queues.visibilityTimeout.toSeconds() < needed)
      throw new Error(
        `Flow ${flow.name}: the queue's visibility timeout (${queues.visibilityTimeout.toSeconds()} s) must be at least ${VISIBILITY_PER_TIMEOUT} × the worker's timeout (${needed} s), or events are received again while a worker still holds them`,
      );

    this.worker = new SpineFunction(this, 'Worker', {
      handlerFile: 'worker.ts',
      functionName: `spine-${props.stage}-worker-${flow.name}`,
      description: `Applies ${flow.name} events to Odoo`,
      // The worker dead-letters an event's last allowed delivery itself, with its reason, and
      // spaces the retries of the others as the redrive limit was sized for.
      environment: {
        ...props.environment,
        SPINE_MAX_RECEIVE_COUNT: String(queues.maxReceiveCount),
        SPINE_REDELIVERY_BASE_SECONDS: String(queues.redelivery.baseSeconds),
        SPINE_REDELIVERY_CAP_SECONDS: String(queues.redelivery.capSeconds),
        // An Odoo call takes at most a third of the invocation, so that a retry still fits.
        SPINE_ODOO_TIMEOUT_SECONDS: String(
          Math.min(30, Math.max(1, Math.floor(timeout.toSeconds() / 3))),
        ),
      },
      reservedConcurrency: maxConcurrency,
      logRetention: props.logRetention,
      timeout,
    });
    const fn = this.worker.function;
    fn.addEventSource(
      new SqsEventSource(queues.queue, {
        batchSize: props.batchSize ?? 10,
        ...(flow.fifo ? {} : { maxBatchingWindow: props.maxBatchingWindow ?? Duration.seconds(1) }),
        reportBatchItemFailures: true,
        maxConcurrency,
      }),
    );
    // A permanent failure is dead-lettered at once, into this flow's DLQ and no other.
    queues.grantSendToDeadLetterQueue(fn);
    props.tables.grantIdempotencyRecords(fn);
    props.tables.grantLineageApply(fn);
    props.odooCredentials.grantRead(fn);
    props.redactionKey.grantRead(fn);
    // The vendor APIs its thin events are enriched from: each source's credential, by name (the
    // stateful stack keeps the secret; a source whose last enriching contract goes keeps it too).
    const enriching = this.contracts.filter((c) => c.enrich);
    for (const source of [...new Set(enriching.map((c) => c.source.system))].sort())
      Secret.fromSecretNameV2(
        this,
        `SourceCredential-${source}`,
        sourceCredentialName(props.stage, source),
      ).grantRead(fn);

    const runbook = (anchor: string) =>
      runbookSection(props.runbookUrl ?? DEFAULT_RUNBOOK_URL, anchor);
    const namePrefix = `spine-${props.stage}-${flow.name}`;
    const replay = `spine replay --flow ${flow.name} --env ${props.stage}`;
    this.alarms = [
      thresholdAlarm(this, 'DeadLetters', {
        namePrefix,
        metric: this.metricDeadLetterDepth(),
        threshold: 1,
        ...AT_ONCE,
        description: `Events of the ${flow.name} flow are in its DLQ. Read why with \`spine lineage event <source> <id>\` (or the spine-reason attribute), fix the cause, then \`${replay}\`.`,
        runbook: runbook('dead-letters'),
      }),
      thresholdAlarm(this, 'DeadLetterAge', {
        namePrefix,
        metric: this.metricDeadLetterAge(),
        threshold: DEAD_LETTER_AGE_ALARM.toSeconds(),
        ...AT_ONCE,
        description: `A ${flow.name} dead letter is ${DEAD_LETTER_AGE_ALARM.toDays()} days old: SQS deletes it at 14 days, and the event with it. Fix the cause and \`${replay}\` this week.`,
        runbook: runbook('dead-letter-age'),
      }),
      thresholdAlarm(this, 'Parked', {
        namePrefix,
        metric: this.metricParkedDepth(),
        threshold: 1,
        ...AT_ONCE,
        description: `${flow.name} events failed every replay allowed and were parked in its parking queue, where nothing retries them: read why with \`spine lineage event <source> <id>\`, then move or discard each by hand.`,
        runbook: runbook('parked-events'),
      }),
      // Sustained, not a slow batch: three of five minutes past the objective.
      thresholdAlarm(this, 'OldestEvent', {
        namePrefix,
        metric: this.metricOldestMessageAge(),
        threshold: flow.maxAgeSeconds,
        evaluationPeriods: 5,
        datapointsToAlarm: 3,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        description: `The oldest ${flow.name} event has waited ${flow.maxAgeSeconds} s or more, past the flow's freshness objective: Odoo may be slow or down, or the worker is failing.`,
        runbook: runbook('oldest-event'),
      }),
      thresholdAlarm(this, 'WorkerErrors', {
        namePrefix,
        metric: this.metricWorkerErrors(),
        threshold: 1,
        ...REPEATED,
        description: `The ${flow.name} worker failed whole invocations (not single events): check its logs; the events are retried and then dead-lettered.`,
        runbook: runbook('worker-errors'),
      }),
      thresholdAlarm(this, 'WorkerThrottles', {
        namePrefix,
        metric: this.metricWorkerThrottles(),
        threshold: 1,
        ...REPEATED,
        description: `Lambda throttled the ${flow.name} worker (past its reserved concurrency, or the account's limit): each throttled batch uses up a receive, so events reach the DLQ sooner.`,
        runbook: runbook('lambda-throttles'),
      }),
      thresholdAlarm(this, 'ReconciliationMismatch', {
        namePrefix,
        metric: this.metricReconciliationMismatches(),
        threshold: 1,
        ...AT_ONCE,
        description: `Odoo does not hold what lineage says the ${flow.name} flow applied: run \`spine reconcile --env ${props.stage}\` for the events and records involved.`,
        runbook: runbook('reconciliation-mismatch'),
      }),
      ...(enriching.length > 0
        ? [
            thresholdAlarm(this, 'VendorCredential', {
              namePrefix,
              metric: this.metricVendorCredentialFailures(),
              threshold: 1,
              ...AT_ONCE,
              description: `The ${flow.name} worker cannot read a vendor's API for its thin events: the credential in spine/${props.stage}/sources/<source> is missing or refused (the failure names it). Store a working token, then \`${replay}\`.`,
              runbook: runbook('vendor-credential'),
            }),
          ]
        : []),
    ];
  }

  /** Events that failed because a vendor's API credential is missing or refused. */
  metricVendorCredentialFailures(options?: MetricOptions): IMetric {
    const period = options?.period ?? Duration.minutes(5);
    return sumOf(
      this.contracts
        .filter((c) => c.enrich)
        .flatMap((c) =>
          ['source-credential-missing', 'vendor-credential-refused'].map((failure) =>
            spineMetric(
              'failed',
              { flow: this.flowName, contract: c.id, class: failure },
              { ...options, period },
            ),
          ),
        ),
      `${this.flowName} vendor credential failures`,
      period,
    );
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

  /** Age of the oldest dead letter, in seconds (SQS deletes it at the DLQ's retention). */
  metricDeadLetterAge(options?: MetricOptions): Metric {
    return this.queues.deadLetterQueue.metricApproximateAgeOfOldestMessage({
      statistic: 'Maximum',
      period: Duration.minutes(5),
      label: `${this.flowName} oldest dead letter (s)`,
      ...options,
    });
  }

  /** Events parked after too many replays. */
  metricParkedDepth(options?: MetricOptions): Metric {
    return this.queues.metricParkedDepth(options);
  }

  /** Worker invocations Lambda refused for want of concurrency. */
  metricWorkerThrottles(options?: MetricOptions): Metric {
    return this.worker.function.metricThrottles({
      statistic: 'Sum',
      period: Duration.minutes(5),
      label: `${this.flowName} worker throttles`,
      ...options,
    });
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
