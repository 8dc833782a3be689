import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { Metric, MetricOptions } from 'aws-cdk-lib/aws-cloudwatch';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
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
  /** @default 1024 (MB; Lambda gives CPU in proportion, and the JSON work is CPU-bound) */
  readonly memorySize?: number;
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
  sourceMap: true,
  keepNames: true,
  target: 'node22',
  // ESM bundles need `require` for the few CommonJS dependencies.
  banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
  mainFields: ['module', 'main'],
  // The AWS SDK is bundled, not taken from the runtime: the version tested is the one deployed.
  externalModules: [],
} as const;

/**
 * A Spine Lambda with the defaults chosen once: Node 22 on arm64, a minified ESM bundle with
 * source maps, its own log group with retention, X-Ray tracing and the Powertools settings.
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
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 1024,
      timeout: props.timeout ?? Duration.seconds(30),
      tracing: Tracing.ACTIVE,
      logGroup: this.logGroup,
      environment: {
        POWERTOOLS_SERVICE_NAME: 'spine',
        POWERTOOLS_METRICS_NAMESPACE: 'Spine',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      bundling: {
        ...SPINE_BUNDLING,
        mainFields: [...SPINE_BUNDLING.mainFields],
        externalModules: [],
      },
    });
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason:
        'Active tracing grants xray:PutTraceSegments and xray:PutTelemetryRecords, which act on no resource, so IAM only takes "*" for them; every other action of this role names its table, queue, key or secret.',
    });
  }

  /** Invocations that failed as a whole (an SQS worker's reported item failures are not errors). */
  metricErrors(options?: MetricOptions): Metric {
    return this.function.metricErrors({ period: Duration.minutes(5), ...options });
  }

  metricDuration(options?: MetricOptions): Metric {
    return this.function.metricDuration({ statistic: 'p90', ...options });
  }
}
