import { Duration } from 'aws-cdk-lib';
import {
  type Alarm,
  AlarmStatusWidget,
  Dashboard,
  GraphWidget,
  MathExpression,
  type Metric,
  TextWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { CompiledContract } from '../../functions/contracts/model.ts';
import { deadLetterQueueName, flowQueueName } from '../../functions/platform/names.ts';
import { LINEAGE_TABLE } from '../../functions/platform/tables.ts';
import { FINANCE_METRICS } from '../../functions/reconcile/finance-metrics.ts';
import type { Flow } from './flow.ts';
import type { OdooCredentials } from './odoo-credentials.ts';
import type { Reconciliation } from './reconciliation.ts';
import type { ReplayStateMachine } from './replay-state-machine.ts';
import type { SpineFunction } from './spine-function.ts';
import {
  AT_ONCE,
  DEFAULT_RUNBOOK_URL,
  REPEATED,
  runbookSection,
  searchSpineMetric,
  spineMetric,
  sumOf,
  thresholdAlarm,
} from './spine-metrics.ts';
import type { SpineTables } from './spine-tables.ts';
import type { WebhookReceiver } from './webhook-receiver.ts';
import { WebhookSource } from './webhook-source.ts';

export interface ObservabilityProps {
  readonly stage: string;
  /** Where alarms are e-mailed (the subscription must be confirmed once). */
  readonly alarmEmail: string;
  /** The topic every alarm notifies (the edge stack's AlarmTopic, which e-mails alarmEmail). */
  readonly alarmTopic: ITopic;
  readonly api: WebhookReceiver;
  readonly flows: readonly Flow[];
  readonly contracts: readonly CompiledContract[];
  readonly replay: ReplayStateMachine;
  readonly odooCredentials: OdooCredentials;
  readonly reconciliation: Reconciliation;
  /** The idempotency and lineage tables, whose throttling alarms. */
  readonly tables: SpineTables;
  /** Percentage of webhooks answered 5xx that alarms. @default 1 */
  readonly serverErrorRateThreshold?: number;
  /**
   * The runbook every alarm's description links to (`<runbookUrl>#<section>`): where the team
   * reads docs/runbook.md, such as its page in the repository host.
   * @default DEFAULT_RUNBOOK_URL (docs/runbook.md, the path in this repository)
   */
  readonly runbookUrl?: string;
}

/**
 * What an operator looks at: one dashboard with a row per source and per flow, the alarms that
 * are not a single flow's (each webhook source's among them), and the alarm topic every alarm
 * notifies when it fires and when it clears.
 */
export class Observability extends Construct {
  readonly dashboard: Dashboard;
  readonly alarmTopic: ITopic;
  /** Every alarm of the environment, flows' and sources' included. */
  readonly alarms: readonly Alarm[];
  /** Each webhook source with its metrics and alarms. */
  readonly sources: readonly WebhookSource[];

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const { stage } = props;
    this.alarmTopic = props.alarmTopic;

    const runbookUrl = props.runbookUrl ?? DEFAULT_RUNBOOK_URL;
    const runbook = (anchor: string) => runbookSection(runbookUrl, anchor);
    const namePrefix = `spine-${stage}`;
    this.sources = [...new Set(props.contracts.map((c) => c.source.system))]
      .sort()
      .map((source) => new WebhookSource(this, `Source-${source}`, { stage, source, runbookUrl }));
    const threshold = props.serverErrorRateThreshold ?? 1;
    const reconcileDay = `\`spine reconcile --env ${stage} --day <day>\``;
    // Every Spine function but the workers, whose throttles alarm in their flow.
    const functions: readonly [string, SpineFunction][] = [
      ['Receiver', props.api.receiver],
      ['Replay', props.replay.turnFunction],
      ['Rotation', props.odooCredentials.rotation],
      ['Reconciliation', props.reconciliation.function],
    ];
    const own = [
      thresholdAlarm(this, 'Receiver5xx', {
        namePrefix,
        metric: this.metricReceiverFaultRate(props.api, threshold),
        threshold,
        ...REPEATED,
        description: `${threshold}% or more of the webhooks were answered 5xx in two of the last three 5-minute periods, so vendors are retrying them: the receiver could not reach a queue or Secrets Manager, or failed. Check the receiver's logs.`,
        runbook: runbook('receiver-5xx'),
      }),
      ...functions.map(([name, fn]) =>
        thresholdAlarm(this, `${name}Throttles`, {
          namePrefix,
          metric: fn.function.metricThrottles({
            statistic: 'Sum',
            period: Duration.minutes(5),
            label: `${name.toLowerCase()} throttles`,
          }),
          threshold: 1,
          ...REPEATED,
          description: `Lambda throttled the ${name.toLowerCase()} function (spine-${stage}-*): the account's concurrency is spent elsewhere, or its limit is too low for Spine.`,
          runbook: runbook('lambda-throttles'),
        }),
      ),
      ...(
        [
          ['Lineage', props.tables.lineageTable, LINEAGE_TABLE.indexes.map((i) => i.name)],
          ['Idempotency', props.tables.idempotencyTable, []],
        ] as const
      ).map(([name, table, indexes]) =>
        thresholdAlarm(this, `${name}TableThrottles`, {
          namePrefix,
          metric: metricTableThrottles(table, indexes, `${name.toLowerCase()} table`),
          threshold: 1,
          ...REPEATED,
          description: `DynamoDB throttled reads or writes of the ${name.toLowerCase()} table after the SDK's retries gave up on some: workers fail batches and events are retried, then dead-lettered.`,
          runbook: runbook('dynamodb-throttles'),
        }),
      ),
      thresholdAlarm(this, 'RotationFailure', {
        namePrefix,
        metric: props.odooCredentials.metricRotationFailures(),
        threshold: 1,
        ...AT_ONCE,
        description:
          'The Odoo credential rotation failed. AWSCURRENT still works; read the rotation logs and fix the cause before the next attempt.',
        runbook: runbook('rotation-failure'),
      }),
      thresholdAlarm(this, 'ReplayFailure', {
        namePrefix,
        metric: props.replay.metricFailed(),
        threshold: 1,
        ...AT_ONCE,
        description:
          'A DLQ replay execution failed. Events it had not replayed are still in the DLQ; see the execution in the Step Functions console.',
        runbook: runbook('replay-failure'),
      }),
      thresholdAlarm(this, 'ReplayTimedOut', {
        namePrefix,
        metric: props.replay.metricTimedOut(),
        threshold: 1,
        ...AT_ONCE,
        description:
          'A DLQ replay execution ran past its timeout. Events it had not reached are still in the DLQ: start it again, with a higher rate or a narrower filter.',
        runbook: runbook('replay-timed-out'),
      }),
      thresholdAlarm(this, 'ReconciliationFailure', {
        namePrefix,
        metric: props.reconciliation.metricFailures(),
        threshold: 1,
        ...AT_ONCE,
        description:
          'The scheduled reconciliation failed before it could report (Odoo unreachable or a bad credential): nothing proves lineage and Odoo agree today.',
        runbook: runbook('reconciliation-failure'),
      }),
      // What finance watches, from the last reconciliation run (yesterday and today, UTC).
      thresholdAlarm(this, 'UnpostedInvoices', {
        namePrefix,
        metric: props.reconciliation.metricUnpostedInvoices(),
        threshold: 1,
        ...AT_ONCE,
        description: `Invoices Spine applied are still drafts in Odoo: their total differed from the vendor's, or posting failed. Run ${reconcileDay} for the invoices and their events.`,
        runbook: runbook('unposted-invoices'),
      }),
      thresholdAlarm(this, 'UnmatchedPayments', {
        namePrefix,
        metric: props.reconciliation.metricUnmatchedPayments(),
        threshold: 1,
        ...AT_ONCE,
        description: `Posted payments are not reconciled with the invoice they paid (the invoice is missing, still a draft, or its total differs). ${reconcileDay} names them.`,
        runbook: runbook('unmatched-payments'),
      }),
      thresholdAlarm(this, 'UnconfirmedPaidOrders', {
        namePrefix,
        metric: props.reconciliation.metricUnconfirmedPaidOrders(),
        threshold: 1,
        ...AT_ONCE,
        description: `Orders the vendor says are paid are still quotations in Odoo (their totals differ, or confirming failed). ${reconcileDay} names them.`,
        runbook: runbook('unconfirmed-paid-orders'),
      }),
      thresholdAlarm(this, 'AmountDifference', {
        namePrefix,
        metric: props.reconciliation.metricAmountDifference(),
        // The smallest unit of any currency: every difference the run rounds to the unit counts.
        threshold: 0.001,
        ...AT_ONCE,
        description: `What Odoo books differs from what a vendor charged, in at least one currency (the alarm reads the largest difference). ${reconcileDay} lists each record with both figures and its events.`,
        runbook: runbook('amount-difference'),
      }),
    ];
    this.alarms = [
      ...own,
      ...this.sources.flatMap((s) => s.alarms),
      ...props.flows.flatMap((f) => f.alarms),
    ];
    // Cleared alarms are e-mailed too, so whoever took the first mail knows when it is over.
    const action = new SnsAction(this.alarmTopic);
    for (const a of this.alarms) {
      a.addAlarmAction(action);
      a.addOkAction(action);
    }

    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: `spine-${stage}`,
      defaultInterval: Duration.hours(6),
    });
    this.dashboard.addWidgets(
      new TextWidget({
        markdown: `# Spine ${stage}\nVendors POST to \`<api>/webhooks/<source>\`; events reach Odoo through a queue per flow. Alarms go to ${props.alarmEmail}. On a DLQ alarm: read the reason with \`spine lineage\`, fix it, then \`spine replay --flow <flow> --env ${stage}\`.`,
        width: 24,
        height: 2,
      }),
      new AlarmStatusWidget({ title: 'Alarms', alarms: [...this.alarms], width: 24, height: 6 }),
      new GraphWidget({
        title: 'Webhooks: requests, 4xx and 5xx',
        left: [
          props.api.metricRequests({ label: 'requests' }),
          props.api.metricClientErrors({ label: '4xx' }),
          props.api.metricServerErrors({ label: '5xx' }),
        ],
        width: 12,
      }),
      new GraphWidget({
        title: 'Rejected webhooks by source and reason',
        left: [searchSpineMetric('rejected', {})],
        width: 12,
      }),
    );
    // A source's row: what it sent against its expected band, and why deliveries were refused.
    this.dashboard.addWidgets(
      ...this.sources.map(
        (source) =>
          new GraphWidget({
            title: `${source.sourceName}: events per hour, refused deliveries`,
            left: [
              source.metricDeliveries(),
              new MathExpression({
                expression: 'ANOMALY_DETECTION_BAND(deliveries, 2)',
                usingMetrics: { deliveries: source.metricDeliveries() },
                label: 'expected',
                period: Duration.hours(1),
              }),
            ],
            right: [
              source.metricSignatureMismatches({ period: Duration.hours(1) }),
              source.metricNotConfigured({ period: Duration.hours(1) }),
            ],
            width: 6,
          }),
      ),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Throttles: Lambda functions',
        left: [
          props.api.receiver.function.metricThrottles({ statistic: 'Sum', label: 'receiver' }),
          ...props.flows.map((f) => f.metricWorkerThrottles()),
          props.replay.turnFunction.function.metricThrottles({ statistic: 'Sum', label: 'replay' }),
          props.odooCredentials.rotation.function.metricThrottles({
            statistic: 'Sum',
            label: 'rotation',
          }),
          props.reconciliation.function.function.metricThrottles({
            statistic: 'Sum',
            label: 'reconciliation',
          }),
        ],
        width: 8,
      }),
      new GraphWidget({
        title: 'Throttles: DynamoDB',
        left: [
          metricTableThrottles(
            props.tables.lineageTable,
            LINEAGE_TABLE.indexes.map((i) => i.name),
            'lineage table',
          ),
          metricTableThrottles(props.tables.idempotencyTable, [], 'idempotency table'),
        ],
        width: 8,
      }),
      new GraphWidget({
        title: 'Replay executions',
        left: [
          props.replay.metricStarted(),
          props.replay.metricFailed(),
          props.replay.metricTimedOut(),
        ],
        width: 8,
      }),
    );
    const finance = props.reconciliation;
    this.dashboard.addWidgets(
      new TextWidget({
        markdown:
          '## Finance\nWhat the vendors charged against what Odoo books, per contract and currency, from the daily reconciliation (yesterday and today, UTC). Each record that differs, with both figures: `spine reconcile --day <day>`.',
        width: 24,
        height: 1,
      }),
      new GraphWidget({
        title: 'Finance: unposted invoices',
        left: [
          finance.metricUnpostedInvoices(),
          finance.searchFinanceMetric(FINANCE_METRICS.unpostedInvoices),
        ],
        width: 6,
      }),
      new GraphWidget({
        title: 'Finance: unmatched payments',
        left: [
          finance.metricUnmatchedPayments(),
          finance.searchFinanceMetric(FINANCE_METRICS.unmatchedPayments),
        ],
        width: 6,
      }),
      new GraphWidget({
        title: 'Finance: unconfirmed paid orders',
        left: [
          finance.metricUnconfirmedPaidOrders(),
          finance.searchFinanceMetric(FINANCE_METRICS.unconfirmedPaidOrders),
        ],
        width: 6,
      }),
      new GraphWidget({
        title: 'Finance: amount difference per currency',
        left: [
          finance.metricAmountDifference(),
          finance.searchFinanceMetric(FINANCE_METRICS.amountDifference),
        ],
        width: 6,
      }),
    );
    for (const flow of props.flows) {
      const name = flow.flowName;
      const sources = [
        ...new Set(props.contracts.filter((c) => c.flow === name).map((c) => c.source.system)),
      ].sort();
      this.dashboard.addWidgets(
        new TextWidget({
          markdown: `## ${name}\nSources: ${sources.join(', ')}. Queue \`${flowQueueName(stage, name, flow.queues.fifo)}\`, DLQ \`${deadLetterQueueName(stage, name, flow.queues.fifo)}\`.`,
          width: 24,
          height: 1,
        }),
        new GraphWidget({
          title: `${name}: received / accepted / rejected`,
          left: [
            ...sources.map((source) =>
              spineMetric('received', { source }, { label: `received from ${source}` }),
            ),
            flow.metricAccepted(),
            flow.metricQuarantined(),
            ...sources.map((source) =>
              searchSpineMetric('rejected', { source }, { label: `rejected from ${source}` }),
            ),
          ],
          width: 6,
        }),
        new GraphWidget({
          title: `${name}: queue depth and oldest event`,
          left: [flow.metricQueueDepth()],
          right: [flow.metricOldestMessageAge()],
          width: 6,
        }),
        new GraphWidget({
          title: `${name}: DLQ depth and parked, oldest dead letter`,
          left: [flow.metricDeadLetterDepth(), flow.metricParkedDepth()],
          right: [flow.metricDeadLetterAge()],
          width: 6,
        }),
        new GraphWidget({
          title: `${name}: worker errors and duration`,
          left: [flow.metricWorkerErrors()],
          right: [flow.metricWorkerDuration()],
          width: 6,
        }),
        new GraphWidget({
          title: `${name}: applied, and failed by class`,
          left: [flow.metricApplied(), searchSpineMetric('failed', { flow: name })],
          width: 6,
        }),
        new GraphWidget({
          title: `${name}: Odoo latency`,
          left: [flow.metricOdooLatency()],
          width: 6,
        }),
        new GraphWidget({
          title: `${name}: duplicates suppressed, stale skipped`,
          left: [flow.metricDuplicatesSuppressed(), flow.metricStaleSkipped()],
          width: 6,
        }),
        new GraphWidget({
          title: `${name}: replays and reconciliation mismatches`,
          left: [
            spineMetric('replayed', { flow: name }, { label: `${name} replayed` }),
            spineMetric('parked', { flow: name }, { label: `${name} parked` }),
          ],
          right: [flow.metricReconciliationMismatches()],
          width: 6,
        }),
      );
    }
  }

  /**
   * Percentage of webhooks answered 5xx, leaving out the 503s of a source with no secret stored:
   * those have an alarm of their own, and anyone could raise this one with them.
   */
  metricReceiverFaultRate(
    api: Pick<WebhookReceiver, 'metricServerErrors' | 'metricRequests'>,
    threshold: number,
  ): MathExpression {
    const unconfigured = sumOf(
      this.sources.map((s) => s.metricNotConfigured()),
      'answered 503 for want of a secret',
    );
    return new MathExpression({
      expression:
        'IF(requests > 0, 100 * IF(errors > unconfigured, errors - unconfigured, 0) / requests, 0)',
      usingMetrics: {
        errors: api.metricServerErrors(),
        requests: api.metricRequests(),
        unconfigured,
      },
      label: `receiver 5xx (%), unconfigured sources left out; alarms at ${threshold}`,
      period: Duration.minutes(5),
    });
  }
}

/**
 * Reads and writes DynamoDB refused a table and its indexes (an index that cannot keep up
 * throttles the table's writes): on-demand tables throttle too, past twice their previous peak
 * or a partition's limit.
 */
function metricTableThrottles(table: Table, indexes: readonly string[], label: string) {
  const throttles = (metricName: string, index?: string): Metric =>
    table.metric(metricName, {
      dimensionsMap: {
        TableName: table.tableName,
        ...(index ? { GlobalSecondaryIndexName: index } : {}),
      },
      statistic: 'Sum',
      period: Duration.minutes(5),
    });
  return sumOf(
    [undefined, ...indexes].flatMap((index) => [
      throttles('ReadThrottleEvents', index),
      throttles('WriteThrottleEvents', index),
    ]),
    `${label} throttles`,
  );
}
