import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { COST_ALLOCATION_TAG_KEYS } from '../aspects/cost-allocation-tags.ts';
import { AlarmTopic } from '../constructs/alarm-topic.ts';
import { LogEncryptionKey } from '../constructs/log-encryption-key.ts';
import { SpendingBudget } from '../constructs/spending-budget.ts';
import { WebhookApi } from '../constructs/webhook-api.ts';
import type { SpineEnvironment } from '../environment.ts';

export interface EdgeStackProps extends StackProps {
  readonly environment: SpineEnvironment;
  /** The sources the contracts name: each gets a webhook route, throttled on its own. */
  readonly sources: readonly string[];
}

/**
 * What the outside world holds on to, so it must outlive every deploy: the webhook API whose URL
 * vendors keep for years (on the team's own domain when cdk.json gives one), the alarm topic
 * people subscribe to, and the environment's budget. It depends on no other stack: the API
 * reaches the receiver by its fixed function name.
 */
export class EdgeStack extends Stack {
  readonly api: WebhookApi;
  readonly alarms: AlarmTopic;
  readonly budget: SpendingBudget;
  /** Encrypts the access logs. */
  readonly logKey: LogEncryptionKey;

  constructor(scope: Construct, id: string, props: EdgeStackProps) {
    super(scope, id, props);
    const { environment: env } = props;
    const removalPolicy =
      env.removalPolicy === 'retain'
        ? RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE
        : RemovalPolicy.DESTROY;
    this.logKey = new LogEncryptionKey(this, 'LogKey', { stage: env.name, removalPolicy });
    this.api = new WebhookApi(this, 'WebhookApi', {
      stage: env.name,
      logRetention: env.logRetentionDays as RetentionDays,
      accessLogRemovalPolicy: removalPolicy,
      sources: props.sources,
      ...(env.customDomain ? { customDomain: env.customDomain } : {}),
    });
    this.alarms = new AlarmTopic(this, 'Alarms', {
      stage: env.name,
      alarmEmail: env.alarmEmail,
      removalPolicy,
    });
    this.budget = new SpendingBudget(this, 'Budget', {
      stage: env.name,
      monthlyLimitUsd: env.budget.monthlyUsd,
      email: env.alarmEmail,
      costAllocationTag: { key: COST_ALLOCATION_TAG_KEYS.environment, value: env.name },
    });

    new CfnOutput(this, 'WebhookBaseUrl', {
      description:
        'Give each vendor <this><source> (stripe, shopify, ...) as its webhook URL; it does not change when the other stacks are replaced',
      value: `${this.api.apiEndpoint}/webhooks/`,
    });
    if (this.api.domainName) {
      // The DNS record is the team's to make, in whatever zone holds the domain.
      new CfnOutput(this, 'CustomDomainTarget', {
        description: `Point ${this.api.domainName.name} here: a CNAME, or a Route 53 alias with CustomDomainHostedZoneId`,
        value: this.api.domainName.regionalDomainName,
      });
      new CfnOutput(this, 'CustomDomainHostedZoneId', {
        value: this.api.domainName.regionalHostedZoneId,
      });
    }
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarms.topic.topicArn });
  }
}
