import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import {
  type Alarm,
  AlarmStatusWidget,
  Dashboard,
  GraphWidget,
  type IMetric,
  TextWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { CompiledContract } from '../../functions/contracts/model.ts';
import { deadLetterQueueName, flowQueueName } from '../../functions/platform/names.ts';
import { FINANCE_METRICS } from '../../functions/reconcile/finance-metrics.ts';
import type { Flow } from './flow.ts';
import type { OdooCredentials } from './odoo-credentials.ts';
import type { Reconciliation } from './reconciliation.ts';
import type { ReplayStateMachine } from './replay-state-machine.ts';
import { searchSpineMetric, spineMetric, thresholdAlarm } from './spine-metrics.ts';
import type { WebhookApi } from './webhook-api.ts';

export interface ObservabilityProps {
  readonly stage: string;
  /** Where alarms are e-mailed (the subscription must be confirmed once). */
  readonly alarmEmail: string;
  readonly api: WebhookApi;
  readonly flows: readonly Flow[];
  readonly contracts: readonly CompiledContract[];
  readonly replay: ReplayStateMachine;
  readonly odooCredentials: OdooCredentials;
  readonly reconciliation: Reconciliation;
  /** Percentage of webhooks answered 5xx that alarms. @default 1 */
  readonly serverErrorRateThreshold?: number;
}

/**
 * What an operator looks at: one dashboard with a row per flow, the alarms that are not a
 * single flow's, and one encrypted SNS topic every alarm notifies.
 */
export class Observability extends Construct {
  readonly dashboard: Dashboard;
  readonly alarmTopic: Topic;
  /** Every alarm of the environment, flows' included. */
  readonly alarms: readonly Alarm[];

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const { stage } = props;
    // CloudWatch cannot publish to a topic under the AWS managed SNS key: it gets a key of its own.
    const topicKey = new Key(this, 'AlarmTopicKey', {
      description: `Spine ${stage}: the alarm topic`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    topicKey.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
      }),
    );
    this.alarmTopic = new Topic(this, 'AlarmTopic', {
      topicName: `spine-${stage}-alarms`,
      displayName: `Spine ${stage} alarms`,
      enforceSSL: true,
      masterKey: topicKey,
    });
    this.alarmTopic.addSubscription(new EmailSubscription(props.alarmEmail));

    const alarm = (alarmId: string, metric: IMetric, threshold: number, description: string) =>
      thresholdAlarm(this, alarmId, {
        namePrefix: `spine-${stage}`,
        metric,
        threshold,
        description,
      });
    const threshold = props.serverErrorRateThreshold ?? 1;
    const own = [
      alarm(
        'Receiver5xx',
        props.api.metricServerErrorRate(),
        threshold,
        `${threshold}% or more of the webhooks in 5 minutes were answered 5xx, so vendors are retrying them: the receiver could not reach a queue, or failed. Check the receiver's logs.`,
      ),
      alarm(
        'RotationFailure',
        props.odooCredentials.metricRotationFailures(),
        1,
        'The Odoo credential rotation failed. AWSCURRENT still works; read the rotation logs and fix the cause before the next attempt.',
      ),
      alarm(
        'ReplayFailure',
        props.replay.metricFailed(),
        1,
        'A DLQ replay execution failed. Events it had not replayed are still in the DLQ; see the execution in the Step Functions console.',
      ),
      alarm(
        'ReconciliationFailure',
        props.reconciliation.metricFailures(),
        1,
        'The scheduled reconciliation failed before it could report (Odoo unreachable or a bad credential): nothing proves lineage and Odoo agree today.',
      ),
      // What finance watches, from the last reconciliation run (yesterday and today, UTC).
      alarm(
        'UnpostedInvoices',
        props.reconciliation.metricUnpostedInvoices(),
        1,
        `Invoices Spine applied are still drafts in Odoo: their total differed from the vendor's, or posting failed. Run \`spine reconcile --env ${stage} --day <day>\` for the invoices and their events.`,
      ),
      alarm(
        'UnmatchedPayments',
        props.reconciliation.metricUnmatchedPayments(),
        1,
        `Posted payments are not reconciled with the invoice they paid (the invoice is missing, still a draft, or its total differs). \`spine reconcile --env ${stage} --day <day>\` names them.`,
      ),
      alarm(
        'UnconfirmedPaidOrders',
        props.reconciliation.metricUnconfirmedPaidOrders(),
        1,
        `Orders the vendor says are paid are still quotations in Odoo (their totals differ, or confirming failed). \`spine reconcile --env ${stage} --day <day>\` names them.`,
      ),
      alarm(
        'AmountDifference',
        props.reconciliation.metricAmountDifference(),
        // The smallest unit of any currency: every difference the run rounds to the unit counts.
        0.001,
        `What Odoo books differs from what a vendor charged, in at least one currency (the alarm reads the largest difference). \`spine reconcile --env ${stage} --day <day>\` lists each record with both figures and its events.`,
      ),
    ];
    this.alarms = [...own, ...props.flows.flatMap((f) => f.alarms)];
    const action = new SnsAction(this.alarmTopic);
    for (const a of this.alarms) a.addAlarmAction(action);

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
      new AlarmStatusWidget({ title: 'Alarms', alarms: [...this.alarms], width: 24, height: 3 }),
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
          title: `${name}: DLQ depth and parked`,
          left: [flow.metricDeadLetterDepth(), flow.queues.metricParkedDepth()],
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
}
