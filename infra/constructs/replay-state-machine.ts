import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { Metric, MetricOptions } from 'aws-cdk-lib/aws-cloudwatch';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { DefinitionBody, LogLevel, StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { type ReplayDefaults, replayDefinition } from '../replay/definition.ts';
import type { FlowQueues } from './flow-queues.ts';
import { SpineFunction } from './spine-function.ts';
import type { SpineTables } from './spine-tables.ts';

export interface ReplayStateMachineProps {
  readonly stage: string;
  /** The flows whose dead-letter queues can be replayed. */
  readonly flows: readonly FlowQueues[];
  readonly tables: SpineTables;
  /** Spine's configuration for the replay turn function. */
  readonly environment: Readonly<Record<string, string>>;
  readonly logRetention: RetentionDays;
  /** What a start with only {"flow"} gets. @default REPLAY_DEFAULTS (3 replays, no pacing, at most 1000) */
  readonly defaults?: Partial<Pick<ReplayDefaults, 'max' | 'maxReplays' | 'ratePerSecond'>>;
  /** @default Duration.hours(6) */
  readonly timeout?: Duration;
}

/**
 * DLQ replay: the state machine of infra/replay/definition.ts (the one `spine replay` runs
 * locally), and the function that takes one turn of it. Start it from the console with
 * {"flow": "payments"}.
 */
export class ReplayStateMachine extends Construct {
  readonly stateMachine: StateMachine;
  readonly turnFunction: SpineFunction;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: ReplayStateMachineProps) {
    super(scope, id);
    this.turnFunction = new SpineFunction(this, 'Turn', {
      handlerFile: 'replay.ts',
      functionName: `spine-${props.stage}-replay`,
      description: 'One turn of the DLQ replay state machine',
      environment: props.environment,
      logRetention: props.logRetention,
      timeout: Duration.seconds(60),
    });
    for (const flow of props.flows) flow.grantReplay(this.turnFunction.function);
    props.tables.grantLineageAppend(this.turnFunction.function);

    const definition = replayDefinition({
      functionArn: this.turnFunction.function.functionArn,
      flows: props.flows.map((f) => ({
        name: f.flowName,
        queueUrl: f.queue.queueUrl,
        deadLetterQueueUrl: f.deadLetterQueue.queueUrl,
        parkingQueueUrl: f.parkingQueue.queueUrl,
        fifo: f.fifo,
      })),
      ...(props.defaults ? { defaults: props.defaults } : {}),
    });
    this.logGroup = new LogGroup(this, 'Logs', {
      logGroupName: `/aws/vendedlogs/states/spine-${props.stage}-replay`,
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      stateMachineName: `spine-${props.stage}-replay`,
      definitionBody: DefinitionBody.fromString(Stack.of(this).toJsonString(definition)),
      tracingEnabled: true,
      // Execution data holds dead letters (redacted, but still events): counts only in the logs.
      logs: { destination: this.logGroup, level: LogLevel.ALL, includeExecutionData: false },
      timeout: props.timeout ?? Duration.hours(6),
    });
    Validations.of(this.stateMachine).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason:
        'Tracing and log delivery: the X-Ray actions and the CloudWatch Logs delivery actions (logs:CreateLogDelivery, ...) act on no resource, so IAM only takes "*" for them; the only other action, lambda:InvokeFunction, names the turn function.',
    });
    // The task names the unqualified function ARN; grantInvoke would also allow every version (`:*`).
    this.stateMachine.addToRolePolicy(
      new PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: [this.turnFunction.function.functionArn],
      }),
    );
  }

  /** The state machine's ARN, for `spine replay --env` and StartExecution. */
  get stateMachineArn(): string {
    return this.stateMachine.stateMachineArn;
  }

  /** Replay executions that failed (a turn failed after its retries). */
  metricFailed(options?: MetricOptions): Metric {
    return this.stateMachine.metricFailed({
      period: Duration.minutes(5),
      label: 'replays failed',
      ...options,
    });
  }

  /**
   * Replay executions stopped by the state machine's timeout (a large DLQ at a low rate): the
   * dead letters not reached yet are still in the DLQ.
   */
  metricTimedOut(options?: MetricOptions): Metric {
    return this.stateMachine.metricTimedOut({
      period: Duration.minutes(5),
      label: 'replays timed out',
      ...options,
    });
  }

  metricStarted(options?: MetricOptions): Metric {
    return this.stateMachine.metricStarted({
      period: Duration.minutes(5),
      label: 'replays started',
      ...options,
    });
  }
}
