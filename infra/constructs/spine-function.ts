import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { Metric, MetricOptions } from 'aws-cdk-lib/aws-cloudwatch';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Architecture, type CfnFunction, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface SpineFunctionProps {
  /** The handler module's file under functions/handlers, e.g. `receiver.ts`. */
  readonly handlerFile: string;
  readonly functionName: string;
  readonly description: string;
  /** Spine's configuration (SPINE_*), added to the Powertools settings. */
  readonly environment: Readonly<Record<string, string>>;
  readonly logRetention: RetentionDays;
  /** @default Duration.seconds(30) */
  readonly timeout?: Duration;
  /**
   * MB; Lambda gives CPU in proportion to memory, and bills the product of both with time.
   * @default the handler's measured size (HANDLER_MEMORY_MB), else 1024
   */
  readonly memorySize?: number;
  /**
   * Active X-Ray tracing, with the Powertools Tracer capturing the AWS SDK clients and fetch
   * (functions/platform/tracing.ts). Lambda samples 1 request a second and 5 % of the rest;
   * the rate cannot be set per function. @default false (no trace is paid for that shows nothing)
   */
  readonly tracing?: boolean;
  /**
   * Concurrent executions set aside for this function: it is never throttled below them, and
   * never runs more at once. @default none (the account's unreserved pool)
   */
  readonly reservedConcurrency?: number;
  /** @default RemovalPolicy.DESTROY (the logs of a removed function are not kept) */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/** The path of a handler module, for bundling (here and in the bundle-size benchmark). */
export function handlerEntry(handlerFile: string): string {
  return new URL(`../../functions/handlers/${handlerFile}`, import.meta.url).pathname;
}

/**
 * The esbuild settings of every Spine bundle, shared with the bundle benchmark so that what is
 * measured is what is deployed.
 */
export const SPINE_BUNDLING = {
  format: OutputFormat.ESM,
  minify: true,
  // No source map ships: they were 1.6-3.3 MB beside every function, and
  // --enable-source-maps makes each stack trace slower to build. Kept names make a minified
  // trace readable; the same bundle built with `sourcemap` locally maps a position back.
  sourceMap: false,
  keepNames: true,
  target: 'node24',
  // ESM bundles need `require` for the few CommonJS dependencies.
  banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
  mainFields: ['module', 'main'],
  // The AWS SDK is bundled, not taken from the runtime: the version tested is the one deployed.
  externalModules: [],
} as const;

/**
 * Memory per handler, from the profile bench/cost.bench.ts and the bundle benchmark measure
 * (README, "Cost"). The receiver computes about half its time (signature, schema validation,
 * JSON): below 1769 MB (one vCPU) that part shrinks as memory grows at the same price, so it
 * keeps 1024 MB for the vendor's answer and its cold start. The worker waits about three
 * quarters of its time on Odoo (20 ms away) and DynamoDB, and its waiting is billed by memory:
 * 512 MB, several times what it uses (52 MiB loaded, 12 MiB more for a batch of 10); 256 MB would
 * save some 13 cents per million events and halve each container's throughput.
 */
export const HANDLER_MEMORY_MB: Readonly<Record<string, number>> = {
  'receiver.ts': 1024,
  'worker.ts': 512,
};

/**
 * A Spine Lambda with the defaults chosen once: Node 24 on arm64, a minified ESM bundle, its own
 * log group with retention, memory from a measured profile, the Powertools settings, and X-Ray
 * only when asked for.
 */
export class SpineFunction extends Construct {
  readonly function: NodejsFunction;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: SpineFunctionProps) {
    super(scope, id);
    this.logGroup = new LogGroup(this, 'Logs', {
      logGroupName: `/aws/lambda/${props.functionName}`,
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.DESTROY,
    });
    this.function = new NodejsFunction(this, 'Function', {
      functionName: props.functionName,
      description: props.description,
      entry: handlerEntry(props.handlerFile),
      handler: 'handler',
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? HANDLER_MEMORY_MB[props.handlerFile] ?? 1024,
      ...(props.reservedConcurrency !== undefined
        ? { reservedConcurrentExecutions: props.reservedConcurrency }
        : {}),
      timeout: props.timeout ?? Duration.seconds(30),
      logGroup: this.logGroup,
      environment: {
        POWERTOOLS_SERVICE_NAME: 'spine',
        POWERTOOLS_METRICS_NAMESPACE: 'Spine',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        ...props.environment,
      },
      bundling: {
        ...SPINE_BUNDLING,
        mainFields: [...SPINE_BUNDLING.mainFields],
        externalModules: [],
      },
    });
    Validations.of(this.function).acknowledge({
      id: 'cdk-validator-cfnguard::lambda_inside_vpc_check',
      reason:
        'Spine reaches Odoo and AWS over HTTPS, with every request authenticated; in a VPC it would need NAT gateways or endpoints (a fixed monthly cost per zone) and gain no protection, since Odoo is not in the VPC. A team whose Odoo is private adds the VPC with it.',
    });
    if (props.tracing) this.traceActively();
  }

  /**
   * Turns on active X-Ray tracing (the environment's `tracing` setting, applied to every
   * function by infra/aspects/active-tracing.ts): the function's segment, and the Tracer's
   * subsegments for each AWS and Odoo call.
   */
  traceActively(): void {
    if (this.tracingActive) return;
    this.tracingActive = true;
    (this.function.node.defaultChild as CfnFunction).tracingConfig = { mode: Tracing.ACTIVE };
    // What `tracing: Tracing.ACTIVE` grants: the two actions take no resource.
    this.function.addToRolePolicy(
      new PolicyStatement({
        actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
        resources: ['*'],
      }),
    );
    this.function.addEnvironment('SPINE_TRACING', 'active');
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason:
        'Active tracing grants xray:PutTraceSegments and xray:PutTelemetryRecords, which act on no resource, so IAM only takes "*" for them; every other action of this role names its table, queue, key or secret.',
    });
  }

  private tracingActive = false;

  /** Invocations that failed as a whole (an SQS worker's reported item failures are not errors). */
  metricErrors(options?: MetricOptions): Metric {
    return this.function.metricErrors({ period: Duration.minutes(5), ...options });
  }

  metricDuration(options?: MetricOptions): Metric {
    return this.function.metricDuration({ statistic: 'p90', ...options });
  }
}
