import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { type CfnStage, HttpApi, HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { MathExpression, type Metric, type MetricOptions } from 'aws-cdk-lib/aws-cloudwatch';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { FlowQueues } from './flow-queues.ts';
import { SpineFunction } from './spine-function.ts';
import type { SpineTables } from './spine-tables.ts';

export interface WebhookApiProps {
  readonly stage: string;
  /** Every flow: the receiver queues to each, and quarantines into each DLQ. */
  readonly flows: readonly FlowQueues[];
  readonly tables: SpineTables;
  /** The signing secret of each source. */
  readonly webhookSecrets: readonly ISecret[];
  /** The key of the pseudonyms in lineage and logs. */
  readonly redactionKey: ISecret;
  /** Spine's configuration for the receiver. */
  readonly environment: Readonly<Record<string, string>>;
  readonly logRetention: RetentionDays;
  /** Requests per second across all sources before API Gateway answers 429. @default 200 */
  readonly rateLimit?: number;
  /** @default 400 */
  readonly burstLimit?: number;
}

/**
 * The HTTP API vendors call, POST /webhooks/{source}, and the receiver behind it: throttled,
 * with JSON access logs. Authentication is the vendor's signature, checked by the receiver.
 */
export class WebhookApi extends Construct {
  readonly httpApi: HttpApi;
  readonly receiver: SpineFunction;
  readonly accessLogs: LogGroup;

  constructor(scope: Construct, id: string, props: WebhookApiProps) {
    super(scope, id);
    this.receiver = new SpineFunction(this, 'Receiver', {
      handlerFile: 'receiver.ts',
      functionName: `spine-${props.stage}-receiver`,
      description: 'Verifies, validates and queues vendor webhooks',
      environment: props.environment,
      logRetention: props.logRetention,
      // Vendors wait for the answer; API Gateway gives up after 30 s.
      timeout: Duration.seconds(10),
    });
    const fn = this.receiver.function;
    for (const flow of props.flows) {
      flow.grantSendToQueue(fn);
      flow.grantSendToDeadLetterQueue(fn);
    }
    props.tables.grantLineageAppend(fn);
    props.redactionKey.grantRead(fn);
    for (const secret of props.webhookSecrets) secret.grantRead(fn);

    this.httpApi = new HttpApi(this, 'Api', {
      apiName: `spine-${props.stage}-webhooks`,
      description: 'Vendor webhooks into Spine: POST /webhooks/{source}',
      createDefaultStage: true,
    });
    const [route] = this.httpApi.addRoutes({
      path: '/webhooks/{source}',
      methods: [HttpMethod.POST],
      integration: new HttpLambdaIntegration('Receiver', fn),
    });
    if (route)
      Validations.of(route).acknowledge({
        id: 'AwsSolutions::AwsSolutions-APIG4',
        reason:
          'Vendors cannot send IAM or JWT credentials: every webhook is authenticated by its signature (an HMAC of the raw body) in the receiver, and refused with 401 when it does not match.',
      });
    this.accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const stage = this.httpApi.defaultStage?.node.defaultChild as CfnStage;
    stage.accessLogSettings = {
      destinationArn: this.accessLogs.logGroupArn,
      format: JSON.stringify({
        requestId: '$context.requestId',
        ip: '$context.identity.sourceIp',
        time: '$context.requestTime',
        route: '$context.routeKey',
        path: '$context.path',
        status: '$context.status',
        latency: '$context.responseLatency',
        integrationError: '$context.integrationErrorMessage',
      }),
    };
    stage.defaultRouteSettings = {
      throttlingRateLimit: props.rateLimit ?? 200,
      throttlingBurstLimit: props.burstLimit ?? 400,
    };
  }

  /** The base URL; vendors are given `<apiEndpoint>/webhooks/<source>`. */
  get apiEndpoint(): string {
    return this.httpApi.apiEndpoint;
  }

  /** Requests answered 5xx (the receiver failed or a queue was unreachable). */
  metricServerErrors(options?: MetricOptions): Metric {
    return this.httpApi.metricServerError({
      statistic: 'Sum',
      period: Duration.minutes(5),
      ...options,
    });
  }

  /** Requests answered 4xx (bad signatures, unknown sources, oversize or unreadable bodies). */
  metricClientErrors(options?: MetricOptions): Metric {
    return this.httpApi.metricClientError({
      statistic: 'Sum',
      period: Duration.minutes(5),
      ...options,
    });
  }

  metricRequests(options?: MetricOptions): Metric {
    return this.httpApi.metricCount({ statistic: 'Sum', period: Duration.minutes(5), ...options });
  }

  /** Percentage of requests answered 5xx (0 when there were none). */
  metricServerErrorRate(options?: MetricOptions): MathExpression {
    return new MathExpression({
      expression: 'IF(requests > 0, 100 * errors / requests, 0)',
      usingMetrics: {
        errors: this.metricServerErrors(options),
        requests: this.metricRequests(options),
      },
      label: 'receiver 5xx (%)',
      period: options?.period ?? Duration.minutes(5),
    });
  }
}
