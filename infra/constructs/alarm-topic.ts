import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { type ITopic, Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface AlarmTopicProps {
  readonly stage: string;
  /** Who is e-mailed (the subscription must be confirmed once). */
  readonly alarmEmail: string;
  /** @default RemovalPolicy.DESTROY */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The encrypted SNS topic every alarm of an environment notifies, with its e-mail subscription.
 * It outlives the functions' stack, so a confirmed subscription (and any other one the team
 * adds, a pager, a chat) is not lost when that stack is replaced.
 */
export class AlarmTopic extends Construct {
  readonly topic: ITopic;
  readonly key: Key;

  constructor(scope: Construct, id: string, props: AlarmTopicProps) {
    super(scope, id);
    const { stage } = props;
    const stack = Stack.of(this);
    // CloudWatch cannot publish to a topic under the AWS managed SNS key: it gets a key of its own.
    this.key = new Key(this, 'Key', {
      description: `Spine ${stage}: the alarm topic`,
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.DESTROY,
    });
    // Only for alarms of this account and region: CloudWatch acting for anyone else (the
    // confused deputy) gets nothing from this key.
    this.key.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: {
            'aws:SourceArn': stack.formatArn({
              service: 'cloudwatch',
              resource: 'alarm',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
    const topic = new Topic(this, 'Topic', {
      topicName: `spine-${stage}-alarms`,
      displayName: `Spine ${stage} alarms`,
      enforceSSL: true,
      masterKey: this.key,
    });
    topic.applyRemovalPolicy(props.removalPolicy ?? RemovalPolicy.DESTROY);
    topic.addSubscription(new EmailSubscription(props.alarmEmail));
    this.topic = topic;
  }
}
