import {
  CfnOutput,
  RemovalPolicies,
  RemovalPolicy,
  Stack,
  type StackProps,
  Validations,
} from 'aws-cdk-lib';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { CompiledRegistry } from '../../functions/contracts/model.ts';
import { webhookSecretName } from '../../functions/platform/names.ts';
import { Flow } from '../constructs/flow.ts';
import { LogEncryptionKey } from '../constructs/log-encryption-key.ts';
import { Observability } from '../constructs/observability.ts';
import { OdooCredentials } from '../constructs/odoo-credentials.ts';
import { Reconciliation } from '../constructs/reconciliation.ts';
import { ReplayStateMachine } from '../constructs/replay-state-machine.ts';
import { WebhookReceiver } from '../constructs/webhook-receiver.ts';
import type { SpineEnvironment } from '../environment.ts';
import { vendorRateShares } from '../vendor-rate-shares.ts';
import type { EdgeStack } from './edge-stack.ts';
import type { StatefulStack } from './stateful-stack.ts';

export interface StatelessStackProps extends StackProps {
  readonly environment: SpineEnvironment;
  readonly registry: CompiledRegistry;
  /**
   * The tables, queues and secrets this stack's functions use. What belongs to one flow or one
   * source (queues, signing secrets) is referenced by name, the rest (the key, the tables, the
   * Odoo and redaction secrets, which every flow shares) by export.
   */
  readonly stateful: StatefulStack;
  /** The webhook API that invokes the receiver, and the topic the alarms notify. */
  readonly edge: EdgeStack;
}

/**
 * Everything that computes and can be replaced at will: the receiver behind the webhook API, a
 * worker per flow, DLQ replay, credential rotation, reconciliation, the dashboard and alarms.
 * (What vendors and people hold on to, the API's URL and the alarm topic, is in the edge stack.)
 */
export class StatelessStack extends Stack {
  readonly receiver: WebhookReceiver;
  readonly flows: readonly Flow[];
  readonly replay: ReplayStateMachine;
  readonly odooCredentials: OdooCredentials;
  readonly reconciliation: Reconciliation;
  readonly observability: Observability;
  /**
   * Encrypts this stack's log groups. Its own, not the edge stack's: a log group's key is named
   * by ARN, and an export of it would tie the two stacks; in prod it is kept with the logs.
   */
  readonly logKey: LogEncryptionKey;

  constructor(scope: Construct, id: string, props: StatelessStackProps) {
    super(scope, id, props);
    const { environment: env, registry, stateful, edge } = props;
    const stage = env.name;
    const logRetention = env.logRetentionDays as RetentionDays;
    this.logKey = new LogEncryptionKey(this, 'LogKey', {
      stage,
      removalPolicy:
        env.removalPolicy === 'retain'
          ? RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE
          : RemovalPolicy.DESTROY,
    });
    // Every handler reads the same configuration (functions/platform/config.ts).
    const environment = {
      SPINE_STAGE: stage,
      SPINE_FLOWS: this.toJsonString(
        Object.fromEntries(
          stateful.flows.map((f) => [
            f.flowName,
            {
              queueUrl: f.queue.queueUrl,
              deadLetterQueueUrl: f.deadLetterQueue.queueUrl,
              parkingQueueUrl: f.parkingQueue.queueUrl,
              fifo: f.fifo,
            },
          ]),
        ),
      ),
      SPINE_IDEMPOTENCY_TABLE: stateful.tables.idempotencyTable.tableName,
      SPINE_LINEAGE_TABLE: stateful.tables.lineageTable.tableName,
      SPINE_ODOO_SECRET: stateful.odooSecret.secretName,
      // Where Odoo is: cdk.json's, never written into the credential secret.
      SPINE_ODOO_URL: env.odoo.url,
      SPINE_ODOO_DATABASE: env.odoo.database,
      SPINE_ODOO_PROTOCOL: env.odoo.protocol,
      SPINE_REDACTION_SECRET: stateful.redactionKeySecret.secretName,
      SPINE_WEBHOOK_SECRET_PREFIX: webhookSecretName(stage, ''),
      SPINE_ODOO_RATE_PER_SECOND: String(env.odooLimits.ratePerSecond),
      SPINE_ODOO_MAX_CONCURRENCY: String(env.odooLimits.maxConcurrency),
      SPINE_LINEAGE_RETENTION_DAYS: String(env.lineageRetentionDays),
    };
    const common = { stage, environment, logRetention };

    this.receiver = new WebhookReceiver(this, 'WebhookReceiver', {
      ...common,
      api: edge.api,
      flows: stateful.flows,
      tables: stateful.tables,
      // By name: a source whose last contract goes takes its secret with it.
      webhookSecrets: Object.keys(stateful.webhookSecrets).map((source) =>
        Secret.fromSecretNameV2(this, `WebhookSecret-${source}`, webhookSecretName(stage, source)),
      ),
      redactionKey: stateful.redactionKeySecret,
    });
    this.odooCredentials = new OdooCredentials(this, 'OdooCredentials', {
      ...common,
      secret: stateful.odooSecret,
    });
    const vendorShares = vendorRateShares(registry.contracts, env.concurrency);
    this.flows = stateful.flows.map((queues) => {
      const flow = registry.flows.find((f) => f.name === queues.flowName);
      if (!flow) throw new Error(`no flow "${queues.flowName}" in the contract registry`);
      return new Flow(this, `Flow-${flow.name}`, {
        ...common,
        flow,
        contracts: registry.contracts,
        queues,
        tables: stateful.tables,
        odooCredentials: this.odooCredentials,
        redactionKey: stateful.redactionKeySecret,
        maxConcurrency: env.concurrency[flow.name] ?? 2,
        runbookUrl: env.runbookUrl,
        // The environment's, plus this worker's share of the vendors it enriches from.
        environment: { ...common.environment, ...(vendorShares[flow.name] ?? {}) },
      });
    });
    this.replay = new ReplayStateMachine(this, 'Replay', {
      ...common,
      flows: stateful.flows,
      tables: stateful.tables,
      defaults: { maxReplays: env.replay.maxReplays, ratePerSecond: env.replay.ratePerSecond },
    });
    this.reconciliation = new Reconciliation(this, 'Reconciliation', {
      ...common,
      tables: stateful.tables,
      odooCredentials: this.odooCredentials,
      redactionKey: stateful.redactionKeySecret,
    });
    this.observability = new Observability(this, 'Observability', {
      stage,
      alarmEmail: env.alarmEmail,
      alarmTopic: edge.alarms.topic,
      api: this.receiver,
      flows: this.flows,
      contracts: registry.contracts,
      replay: this.replay,
      odooCredentials: this.odooCredentials,
      reconciliation: this.reconciliation,
      tables: stateful.tables,
      runbookUrl: env.runbookUrl,
    });

    new CfnOutput(this, 'ReplayStateMachineArn', {
      description:
        'Start with {"flow": "<flow>"} in the console, or `spine replay --flow <flow> --env <env>`',
      value: this.replay.stateMachineArn,
    });
    new CfnOutput(this, 'DashboardName', { value: `spine-${stage}` });

    Validations.of(this).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason:
        'AWSLambdaBasicExecutionRole grants logs:CreateLogGroup, logs:CreateLogStream and logs:PutLogEvents on every resource ("*"): a function could create or write to any log group of the account. Accepted because it reaches CloudWatch Logs only, no data; each function writes to its own group, which this stack creates with its retention (LoggingConfig), so CreateLogGroup goes unused.',
    });
    // In an environment that keeps its data, the logs are kept too: a replaced function's log
    // group is not deleted with it.
    if (env.removalPolicy === 'retain')
      RemovalPolicies.of(this).apply(RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE, {
        applyToResourceTypes: ['AWS::Logs::LogGroup'],
      });
  }
}
