import { CfnOutput, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { CompiledRegistry } from '../../functions/contracts/model.ts';
import { webhookSecretName } from '../../functions/platform/names.ts';
import { Flow } from '../constructs/flow.ts';
import { Observability } from '../constructs/observability.ts';
import { OdooCredentials } from '../constructs/odoo-credentials.ts';
import { Reconciliation } from '../constructs/reconciliation.ts';
import { ReplayStateMachine } from '../constructs/replay-state-machine.ts';
import { WebhookApi } from '../constructs/webhook-api.ts';
import type { SpineEnvironment } from '../environment.ts';
import type { StatefulStack } from './stateful-stack.ts';

export interface StatelessStackProps extends StackProps {
  readonly environment: SpineEnvironment;
  readonly registry: CompiledRegistry;
  /** The tables, queues and secrets this stack's functions use. */
  readonly stateful: StatefulStack;
}

/**
 * Everything that computes and can be replaced at will: the webhook API and receiver, a worker
 * per flow, DLQ replay, credential rotation, reconciliation, the dashboard and alarms.
 */
export class StatelessStack extends Stack {
  readonly api: WebhookApi;
  readonly flows: readonly Flow[];
  readonly replay: ReplayStateMachine;
  readonly odooCredentials: OdooCredentials;
  readonly reconciliation: Reconciliation;
  readonly observability: Observability;

  constructor(scope: Construct, id: string, props: StatelessStackProps) {
    super(scope, id, props);
    const { environment: env, registry, stateful } = props;
    const stage = env.name;
    const logRetention = env.logRetentionDays as RetentionDays;
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
      SPINE_REDACTION_SECRET: stateful.redactionKeySecret.secretName,
      SPINE_WEBHOOK_SECRET_PREFIX: webhookSecretName(stage, ''),
      SPINE_ODOO_RATE_PER_SECOND: String(env.odooLimits.ratePerSecond),
      SPINE_ODOO_MAX_CONCURRENCY: String(env.odooLimits.maxConcurrency),
    };
    const common = { stage, environment, logRetention };

    this.api = new WebhookApi(this, 'WebhookApi', {
      ...common,
      flows: stateful.flows,
      tables: stateful.tables,
      webhookSecrets: Object.values(stateful.webhookSecrets),
      redactionKey: stateful.redactionKeySecret,
    });
    this.odooCredentials = new OdooCredentials(this, 'OdooCredentials', {
      ...common,
      secret: stateful.odooSecret,
    });
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
      api: this.api,
      flows: this.flows,
      contracts: registry.contracts,
      replay: this.replay,
      odooCredentials: this.odooCredentials,
      reconciliation: this.reconciliation,
    });

    new CfnOutput(this, 'WebhookBaseUrl', {
      description:
        'Give each vendor <this>/webhooks/<source> (stripe, shopify, ...) as its webhook URL',
      value: `${this.api.apiEndpoint}/webhooks/`,
    });
    new CfnOutput(this, 'ReplayStateMachineArn', {
      description:
        'Start with {"flow": "<flow>"} in the console, or `spine replay --flow <flow> --env <env>`',
      value: this.replay.stateMachineArn,
    });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.observability.alarmTopic.topicArn });
    new CfnOutput(this, 'DashboardName', { value: `spine-${stage}` });

    Validations.of(this).acknowledge({
      id: 'AwsSolutions::AwsSolutions-L1',
      reason:
        'Node 22 (nodejs22.x) is the runtime Spine is built and tested for; moving to a newer one is a deliberate change, made with the tests, not a default.',
    });
    Validations.of(this).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason:
        "AWSLambdaBasicExecutionRole lets a function write to its own log group (logs:CreateLogStream, logs:PutLogEvents); it is AWS's minimal policy for that and grants nothing else.",
    });
  }
}
