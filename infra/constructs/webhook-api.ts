import { ArnFormat, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import {
  type CfnRoute,
  type CfnStage,
  DomainName,
  HttpApi,
  HttpMethod,
  type IDomainName,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import { MathExpression, type Metric, type MetricOptions } from 'aws-cdk-lib/aws-cloudwatch';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { type IFunction, Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** The receiver's function name, fixed so that the API can reach it without a reference. */
export function receiverFunctionName(stage: string): string {
  return `spine-${stage}-receiver`;
}

/** The path vendors POST to; `{source}` is the vendor (stripe, shopify, ...). */
export const WEBHOOK_ROUTE = '/webhooks/{source}';

export interface WebhookCustomDomain {
  /** The name vendors are given, e.g. `hooks.example.com`. */
  readonly domainName: string;
  /** An ACM certificate for it, in the API's region (a regional endpoint). */
  readonly certificateArn: string;
}

export interface WebhookApiProps {
  readonly stage: string;
  readonly logRetention: RetentionDays;
  /**
   * A domain of the team's own: vendors keep the webhook URL for years, and a domain survives
   * replacing the API, where the execute-api URL does not.
   * @default none: vendors are given the execute-api URL
   */
  readonly customDomain?: WebhookCustomDomain;
  /**
   * The sources that have contracts: each gets a route of its own, throttled on its own, so
   * that one vendor's burst (a bulk import, a replay from its dashboard) cannot take another's
   * share. @default none: every source shares the `{source}` route
   */
  readonly sources?: readonly string[];
  /** Requests per second of one source before API Gateway answers 429 (vendors retry it). @default 100 */
  readonly sourceRateLimit?: number;
  /** @default 200 */
  readonly sourceBurstLimit?: number;
  /**
   * Requests per second to the `{source}` route, which only names without a contract reach
   * (the receiver answers them 404). @default 10
   */
  readonly unknownSourceRateLimit?: number;
  /** @default RemovalPolicy.DESTROY */
  readonly accessLogRemovalPolicy?: RemovalPolicy;
}

/**
 * The HTTP API vendors call, POST /webhooks/{source}: throttled, with JSON access logs, and its
 * custom domain when there is one. It lives apart from the functions and reaches the receiver by
 * its fixed name, so that the stack of the functions can be replaced without changing the URL
 * vendors hold. Authentication is the vendor's signature, checked by the receiver.
 */
export class WebhookApi extends Construct {
  readonly httpApi: HttpApi;
  readonly accessLogs: LogGroup;
  readonly domainName?: IDomainName;
  private readonly customDomain?: WebhookCustomDomain;

  constructor(scope: Construct, id: string, props: WebhookApiProps) {
    super(scope, id);
    this.customDomain = props.customDomain;
    const stack = Stack.of(this);
    // By ARN, with no permission of its own (`sameEnvironment: false` keeps CDK from adding one):
    // the receiver is deployed after the API, and `allowInvokeFromRoute` gives the permission
    // from the receiver's side, where it lives and dies with the function.
    const receiver = LambdaFunction.fromFunctionAttributes(this, 'Receiver', {
      functionArn: stack.formatArn({
        service: 'lambda',
        resource: 'function',
        resourceName: receiverFunctionName(props.stage),
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
      sameEnvironment: false,
      skipPermissions: true,
    });
    if (props.customDomain)
      this.domainName = new DomainName(this, 'Domain', {
        domainName: props.customDomain.domainName,
        certificate: Certificate.fromCertificateArn(
          this,
          'Certificate',
          props.customDomain.certificateArn,
        ),
      });

    this.httpApi = new HttpApi(this, 'Api', {
      apiName: `spine-${props.stage}-webhooks`,
      description: 'Vendor webhooks into Spine: POST /webhooks/{source}',
      createDefaultStage: true,
      ...(this.domainName ? { defaultDomainMapping: { domainName: this.domainName } } : {}),
    });
    const integration = new HttpLambdaIntegration('Receiver', receiver);
    const sources = [...new Set(props.sources ?? [])].sort();
    const paths = [WEBHOOK_ROUTE, ...sources.map((source) => `/webhooks/${source}`)];
    for (const path of paths)
      for (const route of this.httpApi.addRoutes({
        path,
        methods: [HttpMethod.POST],
        integration,
      })) {
        // Said outright: the route takes no IAM, JWT or Lambda authorizer, on purpose.
        (route.node.defaultChild as CfnRoute).authorizationType = 'NONE';
        const reason =
          'Vendors cannot send IAM or JWT credentials: every webhook is authenticated by its signature (an HMAC of the raw body) in the receiver, and refused with 401 when it does not match.';
        Validations.of(route).acknowledge(
          { id: 'AwsSolutions::AwsSolutions-APIG4', reason },
          { id: 'cdk-validator-cfnguard::api_gw_v2_authorization_type_configured_check', reason },
        );
      }
    this.accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: props.accessLogRemovalPolicy ?? RemovalPolicy.DESTROY,
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
        integrationLatency: '$context.integrationLatency',
        integrationStatus: '$context.integrationStatus',
        error: '$context.error.message',
        errorType: '$context.error.responseType',
        integrationError: '$context.integrationErrorMessage',
        userAgent: '$context.identity.userAgent',
      }),
    };
    const sourceLimits = {
      throttlingRateLimit: props.sourceRateLimit ?? 100,
      throttlingBurstLimit: props.sourceBurstLimit ?? 200,
    };
    const unknownRate = props.unknownSourceRateLimit ?? 10;
    stage.defaultRouteSettings = sourceLimits;
    // A map CloudFormation reads as is: its values keep CloudFormation's own capitals.
    const routeLimits = (rate: number, burst: number) => ({
      ThrottlingRateLimit: rate,
      ThrottlingBurstLimit: burst,
    });
    stage.routeSettings = {
      [`POST ${WEBHOOK_ROUTE}`]: routeLimits(unknownRate, unknownRate * 2),
      ...Object.fromEntries(
        sources.map((s) => [
          `POST /webhooks/${s}`,
          routeLimits(sourceLimits.throttlingRateLimit, sourceLimits.throttlingBurstLimit),
        ]),
      ),
    };
  }

  /** The base URL; vendors are given `<apiEndpoint>/webhooks/<source>`. */
  get apiEndpoint(): string {
    return this.customDomain ? `https://${this.customDomain.domainName}` : this.httpApi.apiEndpoint;
  }

  /**
   * Lets API Gateway invoke the receiver for this API's webhook route, and for nothing else (the
   * permission is created beside the function, in its stack).
   */
  allowInvokeFromRoute(receiver: IFunction): void {
    receiver.addPermission('InvokeFromWebhookRoute', {
      principal: new ServicePrincipal('apigateway.amazonaws.com'),
      action: 'lambda:InvokeFunction',
      sourceArn: Stack.of(this).formatArn({
        service: 'execute-api',
        resource: this.httpApi.apiId,
        resourceName: '*/*/webhooks/*',
      }),
      sourceAccount: Stack.of(this).account,
    });
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
