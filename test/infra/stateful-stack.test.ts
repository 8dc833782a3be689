import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { compiledRegistry } from '../../functions/contracts/compiled/registry.ts';
import {
  DELIVERY_MEMORY_SECONDS,
  IdempotencyDeliveryLedger,
} from '../../functions/platform/delivery-ledger.ts';
import { arnText } from './arn-text.ts';
import { cdkContext as context, synthEnvironment as synth } from './synth.ts';

describe('stateful stack', () => {
  it('gives every flow queue a redrive policy to its own dead-letter queue, kept longer than the queue', () => {
    const { template, stateful } = synth();
    const queues = template.findResources('AWS::SQS::Queue');
    for (const flow of compiledRegistry.flows) {
      const suffix = flow.fifo ? '.fifo' : '';
      const [queueId, queue] =
        Object.entries(queues).find(
          ([, q]) => q.Properties.QueueName === `spine-dev-${flow.name}${suffix}`,
        ) ?? [];
      const [dlqId, dlq] =
        Object.entries(queues).find(
          ([, q]) => q.Properties.QueueName === `spine-dev-${flow.name}-dlq${suffix}`,
        ) ?? [];
      expect(queueId, flow.name).toBeDefined();
      expect(queue?.Properties.RedrivePolicy).toEqual({
        deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] },
        maxReceiveCount: stateful.flows.find((f) => f.flowName === flow.name)?.maxReceiveCount,
      });
      expect(dlq?.Properties.MessageRetentionPeriod).toBeGreaterThan(
        queue?.Properties.MessageRetentionPeriod,
      );
      expect(queue?.Properties.KmsMasterKeyId).toBeDefined();
      expect(Boolean(queue?.Properties.FifoQueue)).toBe(flow.fifo);
    }
  });

  it('has the idempotency table keyed on id with TTL on expiration, and the lineage table with its indexes and PITR', () => {
    const { template } = synth();
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: 'spine-dev-idempotency',
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
    });
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: 'spine-dev-lineage',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      GlobalSecondaryIndexes: Match.arrayWith([
        Match.objectLike({ IndexName: 'byRecord' }),
        Match.objectLike({ IndexName: 'byCorrelation' }),
        Match.objectLike({ IndexName: 'byContractDay' }),
      ]),
    });
  });

  it('lets only its own flow queue redrive into a DLQ, named so that neither queue waits on the other', () => {
    const { template } = synth();
    const queues = Object.values(template.findResources('AWS::SQS::Queue'));
    for (const flow of compiledRegistry.flows) {
      const suffix = flow.fifo ? '.fifo' : '';
      const dlq = queues.find(
        (q) => q.Properties.QueueName === `spine-dev-${flow.name}-dlq${suffix}`,
      );
      const policy = dlq?.Properties.RedriveAllowPolicy as {
        redrivePermission: string;
        sourceQueueArns: unknown[];
      };
      expect(policy.redrivePermission).toBe('byQueue');
      expect(policy.sourceQueueArns.map(arnText)).toEqual([
        `arn:aws:sqs:eu-west-1:111111111111:spine-dev-${flow.name}${suffix}`,
      ]);
    }
  });

  it('runs FIFO flows in high-throughput mode, their DLQ and parking queue too', () => {
    const { template } = synth();
    const queues = Object.values(template.findResources('AWS::SQS::Queue'));
    for (const flow of compiledRegistry.flows) {
      const own = queues.filter((q) =>
        String(q.Properties.QueueName).startsWith(`spine-dev-${flow.name}`),
      );
      expect(own, flow.name).toHaveLength(3);
      for (const q of own)
        expect(
          [q.Properties.DeduplicationScope, q.Properties.FifoThroughputLimit],
          String(q.Properties.QueueName),
        ).toEqual(flow.fifo ? ['messageGroup', 'perMessageGroupId'] : [undefined, undefined]);
    }
  });

  it('remembers a delivery longer than any DLQ keeps its event, so a replay after the longest wait is still recognised', () => {
    const { template } = synth('prod');
    const retentions = Object.values(template.findResources('AWS::SQS::Queue')).map((q) =>
      Number(q.Properties.MessageRetentionPeriod),
    );
    // Stripe retries for 3 days; a DLQ keeps an event 14, and replay may send it back on the last.
    expect(Math.max(...retentions)).toBe(14 * 86_400);
    expect(DELIVERY_MEMORY_SECONDS).toBeGreaterThan(Math.max(...retentions));
    let configured: number | undefined;
    new IdempotencyDeliveryLedger({
      configure: (options: { config?: { expiresAfterSeconds: number } }) => {
        configured = options.config?.expiresAfterSeconds;
      },
    } as unknown as ConstructorParameters<typeof IdempotencyDeliveryLedger>[0]);
    expect(configured).toBe(DELIVERY_MEMORY_SECONDS);
  });

  it('keeps data on prod and not on dev', () => {
    expect(
      Object.values(synth('prod').template.findResources('AWS::DynamoDB::Table')).every(
        (t) => t.DeletionPolicy === 'RetainExceptOnCreate' && t.UpdateReplacePolicy === 'Retain',
      ),
    ).toBe(true);
    expect(
      Object.values(synth('dev').template.findResources('AWS::DynamoDB::Table')).every(
        (t) => t.DeletionPolicy === 'Delete',
      ),
    ).toBe(true);
  });
});

describe('environments in cdk.json', () => {
  const withDev = (change: (dev: Record<string, unknown>) => void) => {
    const environments = structuredClone(context.environments);
    change(environments.dev as Record<string, unknown>);
    return environments;
  };

  it('refuses a missing or unknown environment, listing the known ones', () => {
    expect(() => synth('')).toThrow(
      'choose an environment with -c env=<name>; cdk.json knows dev, prod, staging',
    );
    expect(() => synth('qa')).toThrow(
      'unknown environment "qa"; cdk.json knows dev, prod, staging',
    );
  });

  it.each([
    [
      'a missing region',
      (dev: Record<string, unknown>) => delete dev.region,
      'context.environments.dev.region: expected an AWS region such as eu-west-1, got undefined',
    ],
    [
      'a bad alarm e-mail',
      (dev: Record<string, unknown>) => (dev.alarmEmail = 'oncall'),
      'context.environments.dev.alarmEmail: expected an e-mail address for alarms, got "oncall"',
    ],
    [
      'a flow no contract declares',
      (dev: Record<string, unknown>) => (dev.concurrency = { invoices: 2 }),
      'context.environments.dev.concurrency.invoices: expected a flow that a contract declares (customers, orders, payments), got "invoices"',
    ],
    [
      'a concurrency Lambda refuses',
      (dev: Record<string, unknown>) => (dev.concurrency = { payments: 1 }),
      'context.environments.dev.concurrency.payments: expected a whole number from 2 to 1000, got 1',
    ],
    [
      'a plain-HTTP Odoo',
      (dev: Record<string, unknown>) =>
        (dev.odoo = { url: 'http://odoo.example.com', database: 'x' }),
      'context.environments.dev.odoo.url: expected the https URL of Odoo',
    ],
    [
      'a misspelt key',
      (dev: Record<string, unknown>) => (dev.alarmEmial = 'oncall@example.com'),
      /context\.environments\.dev\.alarmEmial: expected one of the known keys \(account, region, odoo, alarmEmail, .*customDomain, budget.*\), got "alarmEmial"/,
    ],
    [
      'a budget of nothing',
      (dev: Record<string, unknown>) => (dev.budget = { monthlyUsd: 0 }),
      'context.environments.dev.budget.monthlyUsd: expected a whole number from 1 to 1000000, got 0',
    ],
    [
      'a custom domain that is no domain',
      (dev: Record<string, unknown>) =>
        (dev.customDomain = {
          domainName: 'https://hooks.example.com',
          certificateArn:
            'arn:aws:acm:eu-west-1:111111111111:certificate/0f3e5a5e-1b2c-4d5e-8f90-123456789abc',
        }),
      'context.environments.dev.customDomain.domainName: expected a lower-case domain name such as hooks.example.com, got "https://hooks.example.com"',
    ],
    [
      'a misspelt nested key',
      (dev: Record<string, unknown>) => (dev.replay = { maxReplay: 3 }),
      'context.environments.dev.replay.maxReplay: expected one of the known keys (maxReplays, ratePerSecond), got "maxReplay"',
    ],
    [
      'a retention CloudWatch does not offer',
      (dev: Record<string, unknown>) => (dev.logRetentionDays = 10),
      "context.environments.dev.logRetentionDays: expected one of CloudWatch's retention periods",
    ],
  ])('fails synth on %s, naming the key and what it expects', (_, change, message) => {
    expect(() => synth('dev', withDev(change as (dev: Record<string, unknown>) => void))).toThrow(
      message,
    );
  });
});
