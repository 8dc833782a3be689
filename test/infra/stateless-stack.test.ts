import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { compiledRegistry } from '../../functions/contracts/compiled/registry.ts';
import { REQUIRED_SETTINGS } from '../../functions/platform/config.ts';
import { arnText } from './arn-text.ts';
import { cdkContext, synthEnvironment } from './synth.ts';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;
interface Statement {
  Action: string | string[];
  Resource: unknown;
  Effect: string;
}

const dev = synthEnvironment('dev');
const stateless = dev.statelessTemplate;
const resources = stateless.toJSON().Resources as Resources;
const statefulResources = dev.template.toJSON().Resources as Resources;
const edge = Template.fromStack(dev.edge);
const edgeJson = edge.toJSON() as {
  Resources: Resources;
  Outputs: Record<string, { Value: unknown; Export?: { Name: string } }>;
};

/** How the stateless stack imports an edge resource: the export whose value is its Ref. */
function edgeImport(type: string, match: (props: Record<string, unknown>) => boolean) {
  const ids = Object.entries(edgeJson.Resources)
    .filter(([, r]) => r.Type === type && match(r.Properties))
    .map(([id]) => id);
  if (ids.length !== 1)
    throw new Error(`expected one ${type} in the edge stack, found ${ids.length}`);
  const exported = Object.values(edgeJson.Outputs).find(
    (o) => o.Export && JSON.stringify(o.Value) === JSON.stringify({ Ref: ids[0] }),
  );
  if (!exported?.Export) throw new Error(`the edge stack exports no Ref of ${ids[0]}`);
  return { 'Fn::ImportValue': exported.Export.Name };
}

function logicalId(type: string, match: (props: Record<string, unknown>) => boolean): string {
  const found = Object.entries(resources).filter(([, r]) => r.Type === type && match(r.Properties));
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return (found[0] as [string, unknown])[0];
}

function functionId(functionName: string): string {
  return logicalId('AWS::Lambda::Function', (p) => p.FunctionName === functionName);
}

/** Every statement of the policies attached to a function's role. */
function statementsOf(functionName: string): Statement[] {
  const role = resources[functionId(functionName)]?.Properties.Role;
  const roleId = (role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
  return Object.values(resources)
    .filter(
      (r) =>
        r.Type === 'AWS::IAM::Policy' &&
        (r.Properties.Roles as { Ref: string }[]).some((ref) => ref.Ref === roleId),
    )
    .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}

const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

/**
 * The stateful resources a statement's resource points at: through the stack exports (the
 * export's name holds the logical id), or by name (a queue's ARN, a secret's partial ARN).
 */
function statefulTargets(resource: unknown): string[] {
  const text = JSON.stringify(resource);
  return Object.entries(statefulResources)
    .filter(([id, r]) => {
      const name = r.Properties.QueueName ?? r.Properties.Name;
      return (
        new RegExp(`(Ref|GetAtt)${id}`).test(text) ||
        (typeof name === 'string' &&
          (text.includes(`:${name}"`) || text.includes(`:${name}-??????"`)))
      );
    })
    .map(([id]) => id);
}

function grantsOn(functionName: string, statefulId: string): string[] {
  return statementsOf(functionName)
    .filter((s) => statefulTargets(s.Resource).includes(statefulId))
    .flatMap(actions)
    .sort();
}

/** The redaction key's logical id in the stateful stack. */
function statefulRedactionKey(): string {
  return Object.entries(statefulResources).find(
    ([, r]) =>
      r.Type === 'AWS::SecretsManager::Secret' && r.Properties.Name === 'spine/dev/redaction-key',
  )?.[0] as string;
}

function statefulId(type: string, name: string): string {
  const found = Object.entries(statefulResources).find(
    ([, r]) =>
      r.Type === type && (r.Properties.QueueName === name || r.Properties.TableName === name),
  );
  if (!found) throw new Error(`no ${type} named ${name}`);
  return found[0];
}

const queueName = (flow: string, kind: '' | '-dlq' | '-parking') => {
  const fifo = compiledRegistry.flows.find((f) => f.name === flow)?.fifo ? '.fifo' : '';
  return `spine-dev-${flow}${kind}${fifo}`;
};
const queueId = (flow: string, kind: '' | '-dlq' | '-parking') =>
  statefulId('AWS::SQS::Queue', queueName(flow, kind));
const flows = compiledRegistry.flows.map((f) => f.name);

describe('stateless stack: least privilege', () => {
  it('gives the receiver no access to the idempotency table, and only appends to lineage', () => {
    const idempotency = statefulId('AWS::DynamoDB::Table', 'spine-dev-idempotency');
    const lineage = statefulId('AWS::DynamoDB::Table', 'spine-dev-lineage');
    expect(grantsOn('spine-dev-receiver', idempotency)).toEqual([]);
    expect(grantsOn('spine-dev-receiver', lineage)).toEqual(['dynamodb:BatchWriteItem']);
    // It queues to every flow and quarantines into every DLQ, and may not read either.
    for (const flow of flows) {
      expect(grantsOn('spine-dev-receiver', queueId(flow, ''))).toEqual(['sqs:SendMessage']);
      expect(grantsOn('spine-dev-receiver', queueId(flow, '-dlq'))).toEqual(['sqs:SendMessage']);
    }
  });

  it.each(flows)(
    'lets the %s worker consume only its own queue and dead-letter only into its own DLQ',
    (flow) => {
      const worker = `spine-dev-worker-${flow}`;
      for (const other of flows) {
        const send = (kind: '' | '-dlq' | '-parking') =>
          grantsOn(worker, queueId(other, kind)).filter((a) => a === 'sqs:SendMessage');
        expect(send(''), `${worker} → ${other} queue`).toEqual([]);
        expect(send('-parking'), `${worker} → ${other} parking`).toEqual([]);
        expect(send('-dlq'), `${worker} → ${other} DLQ`).toEqual(
          other === flow ? ['sqs:SendMessage'] : [],
        );
        if (other !== flow)
          expect(grantsOn(worker, queueId(other, '')), `${worker} reads ${other}`).toEqual([]);
      }
      // It holds a message back while the record it waits for is claimed.
      expect(grantsOn(worker, queueId(flow, ''))).toEqual(
        expect.arrayContaining([
          'sqs:ReceiveMessage',
          'sqs:DeleteMessage',
          'sqs:ChangeMessageVisibility',
        ]),
      );
      // It records each event's arrival, hashing the redacted view with the redaction key.
      expect(grantsOn(worker, statefulRedactionKey())).toEqual([
        'secretsmanager:DescribeSecret',
        'secretsmanager:GetSecretValue',
      ]);
    },
  );

  it('names an action and a resource in every statement; "*" only for actions IAM cannot scope', () => {
    const unscoped = new Set([
      'xray:PutTraceSegments',
      'xray:PutTelemetryRecords',
      'xray:GetSamplingRules',
      'xray:GetSamplingTargets',
      'secretsmanager:GetRandomPassword',
      'logs:CreateLogDelivery',
      'logs:GetLogDelivery',
      'logs:UpdateLogDelivery',
      'logs:DeleteLogDelivery',
      'logs:ListLogDeliveries',
      'logs:PutResourcePolicy',
      'logs:DescribeResourcePolicies',
      'logs:DescribeLogGroups',
    ]);
    const statements = Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
    expect(statements.length).toBeGreaterThan(10);
    for (const statement of statements) {
      for (const action of actions(statement)) expect(action).not.toMatch(/\*/);
      if (statement.Resource === '*')
        for (const action of actions(statement)) expect(unscoped, action).toContain(action);
      expect(JSON.stringify(statement.Resource)).not.toMatch(/\/\*"|:\*"/);
    }
  });
});

describe('stateless stack: functions', () => {
  const functions = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::Function');

  it('runs every Lambda on Node 22, arm64, traced, with its own log group kept for the environment', () => {
    expect(functions.map((f) => f.Properties.FunctionName).sort()).toEqual(
      [
        'spine-dev-receiver',
        'spine-dev-reconcile',
        'spine-dev-replay',
        'spine-dev-rotate-credentials',
        ...flows.map((f) => `spine-dev-worker-${f}`),
      ].sort(),
    );
    for (const fn of functions) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        LoggingConfig: { LogGroup: { Ref: expect.any(String) } },
      });
      const logGroupId = (fn.Properties.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup
        .Ref;
      expect(resources[logGroupId]?.Properties.RetentionInDays).toBe(14);
      const variables = (fn.Properties.Environment as { Variables: Record<string, unknown> })
        .Variables;
      for (const name of [
        ...REQUIRED_SETTINGS,
        'POWERTOOLS_SERVICE_NAME',
        'POWERTOOLS_METRICS_NAMESPACE',
      ])
        expect(variables[name], `${fn.Properties.FunctionName} ${name}`).toBeDefined();
      expect(variables.SPINE_STAGE).toBe('dev');
    }
  });

  it('feeds each worker from its queue in batches with partial failures and the environment concurrency cap', () => {
    const concurrency = cdkContext.environments.dev?.concurrency as Record<string, number>;
    for (const flow of compiledRegistry.flows) {
      const mapping = Object.values(resources).find(
        (r) =>
          r.Type === 'AWS::Lambda::EventSourceMapping' &&
          JSON.stringify(r.Properties.FunctionName).includes(
            functionId(`spine-dev-worker-${flow.name}`),
          ),
      );
      expect(mapping, flow.name).toBeDefined();
      expect(JSON.stringify(mapping?.Properties.EventSourceArn)).toContain(
        `:${queueName(flow.name, '')}"`,
      );
      expect(mapping?.Properties).toMatchObject({
        BatchSize: 10,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: concurrency[flow.name] },
      });
      // SQS FIFO sources take no batching window.
      expect(mapping?.Properties.MaximumBatchingWindowInSeconds).toBe(flow.fifo ? undefined : 1);
      const worker = resources[functionId(`spine-dev-worker-${flow.name}`)];
      const queue = statefulResources[queueId(flow.name, '')];
      expect(Number(queue?.Properties.VisibilityTimeout)).toBeGreaterThanOrEqual(
        6 * Number(worker?.Properties.Timeout),
      );
    }
  });

  it('rotates the Odoo credential every 30 days through the rotation function, not at deploy', () => {
    stateless.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      RotationLambdaARN: { 'Fn::GetAtt': [functionId('spine-dev-rotate-credentials'), 'Arn'] },
      RotationRules: { ScheduleExpression: 'rate(30 days)' },
      RotateImmediatelyOnUpdate: false,
    });
    stateless.hasResourceProperties('AWS::Lambda::Permission', {
      FunctionName: { 'Fn::GetAtt': [functionId('spine-dev-rotate-credentials'), 'Arn'] },
      Principal: 'secretsmanager.amazonaws.com',
    });
  });

  it('runs reconciliation daily, querying lineage only through its by-contract-day and by-record indexes', () => {
    stateless.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'cron(30 2 * * ? *)',
      Targets: [
        Match.objectLike({ Arn: { 'Fn::GetAtt': [functionId('spine-dev-reconcile'), 'Arn'] } }),
      ],
    });
    const queries = statementsOf('spine-dev-reconcile').filter((s) =>
      actions(s).includes('dynamodb:Query'),
    );
    expect(queries).toHaveLength(1);
    expect(JSON.stringify(queries[0]?.Resource)).toContain('/index/byContractDay');
    expect(JSON.stringify(queries[0]?.Resource)).toContain('/index/byRecord');
    expect(JSON.stringify(queries[0]?.Resource)).not.toContain('/index/byCorrelation');
    // Values are compared by keyed fingerprints; a differing record's newest change is read.
    const lineage = statefulId('AWS::DynamoDB::Table', 'spine-dev-lineage');
    expect(grantsOn('spine-dev-reconcile', lineage)).toEqual([
      'dynamodb:GetItem',
      'dynamodb:Query',
    ]);
    expect(grantsOn('spine-dev-reconcile', statefulRedactionKey())).toEqual([
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
    ]);
  });

  it('lets each worker claim entities and lock natural keys in lineage, item by item', () => {
    const lineage = statefulId('AWS::DynamoDB::Table', 'spine-dev-lineage');
    for (const flow of flows)
      expect(grantsOn(`spine-dev-worker-${flow}`, lineage)).toEqual([
        'dynamodb:BatchWriteItem',
        'dynamodb:DeleteItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
      ]);
  });
});

describe('edge stack: webhook API', () => {
  it('routes POST /webhooks/{source} to the receiver, throttled, with JSON access logs', () => {
    edge.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: 'POST /webhooks/{source}',
    });
    edge.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AccessLogSettings: {
        DestinationArn: Match.anyValue(),
        Format: Match.stringLikeRegexp('"status":"\\$context.status"'),
      },
      // Per source; test/infra/webhook-api.test.ts checks each route's own throttle.
      DefaultRouteSettings: { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 },
    });
    edge.hasOutput('WebhookBaseUrl', Match.anyValue());
  });

  it('reaches the receiver of the stateless stack by its name, and only that route may invoke it', () => {
    // The API outlives the functions: it holds the receiver's ARN built from its fixed name, and
    // imports nothing, so the stateless stack can be replaced under it.
    const integrations = Object.values(edgeJson.Resources).filter(
      (r) => r.Type === 'AWS::ApiGatewayV2::Integration',
    );
    expect(
      integrations.map((r) => [r.Properties.IntegrationType, arnText(r.Properties.IntegrationUri)]),
    ).toEqual([['AWS_PROXY', 'arn:aws:lambda:eu-west-1:111111111111:function:spine-dev-receiver']]);
    expect(JSON.stringify(edgeJson)).not.toContain('Fn::ImportValue');
    expect(edge.findResources('AWS::Lambda::Permission')).toEqual({});
    const apiId = edgeImport('AWS::ApiGatewayV2::Api', (p) => p.Name === 'spine-dev-webhooks');
    const invokes = Object.values(resources).filter(
      (r) =>
        r.Type === 'AWS::Lambda::Permission' &&
        r.Properties.Principal === 'apigateway.amazonaws.com',
    );
    expect(
      invokes.map((r) => ({
        FunctionName: r.Properties.FunctionName,
        SourceAccount: r.Properties.SourceAccount,
        SourceArn: arnText(r.Properties.SourceArn),
      })),
    ).toEqual([
      {
        FunctionName: { 'Fn::GetAtt': [functionId('spine-dev-receiver'), 'Arn'] },
        SourceAccount: '111111111111',
        SourceArn: `arn:aws:execute-api:eu-west-1:111111111111:${JSON.stringify(apiId)}/*/*/webhooks/*`,
      },
    ]);
  });
});

describe('stateless stack: alarms and dashboard', () => {
  const alarms = Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
  const alarmNamed = (name: string) => {
    const alarm = alarms.find((a) => a.Properties.AlarmName === name);
    if (!alarm)
      throw new Error(
        `no alarm ${name}; there are ${alarms.map((a) => a.Properties.AlarmName).join(', ')}`,
      );
    return alarm.Properties;
  };
  /** The one metric an alarm watches, however CDK rendered it (a label makes it a Metrics list). */
  const watched = (name: string) => {
    const props = alarmNamed(name);
    if (props.MetricName) return props;
    const stats = (props.Metrics as { MetricStat?: { Metric: Record<string, unknown> } }[]).flatMap(
      (m) => (m.MetricStat ? [m.MetricStat.Metric] : []),
    );
    if (stats.length !== 1) throw new Error(`${name} watches ${stats.length} metrics`);
    return { ...props, ...stats[0] };
  };

  it('alarms on each flow: a dead letter, a stale queue, worker errors and reconciliation mismatches', () => {
    for (const flow of compiledRegistry.flows) {
      expect(watched(`spine-dev-${flow.name}-dead-letters`)).toMatchObject({
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Namespace: 'AWS/SQS',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
      expect(watched(`spine-dev-${flow.name}-dead-letters`).Dimensions).toEqual([
        { Name: 'QueueName', Value: queueName(flow.name, '-dlq') },
      ]);
      expect(watched(`spine-dev-${flow.name}-oldest-event`)).toMatchObject({
        MetricName: 'ApproximateAgeOfOldestMessage',
        Threshold: flow.maxAgeSeconds,
      });
      expect(watched(`spine-dev-${flow.name}-worker-errors`)).toMatchObject({
        MetricName: 'Errors',
        Namespace: 'AWS/Lambda',
      });
      const mismatch = alarmNamed(`spine-dev-${flow.name}-reconciliation-mismatch`);
      const contracts = new Set(
        compiledRegistry.contracts.filter((c) => c.flow === flow.name).map((c) => c.id),
      );
      const metrics = (
        mismatch.Metrics as {
          MetricStat?: {
            Metric: { MetricName: string; Dimensions: { Name: string; Value: string }[] };
          };
        }[]
      ).flatMap((m) => (m.MetricStat ? [m.MetricStat.Metric] : []));
      expect(
        metrics.map((m) => m.Dimensions.find((d) => d.Name === 'contract')?.Value).sort(),
      ).toEqual([...contracts].sort());
      for (const m of metrics) expect(m.MetricName).toBe('reconciliation-mismatches');
    }
  });

  it('alarms on receiver 5xx rate, rotation, replay and reconciliation failures, and every alarm notifies the topic', () => {
    expect(alarmNamed('spine-dev-receiver5xx').Metrics).toEqual(
      expect.arrayContaining([
        // The 503s of a source with no secret stored are left out: they alarm on their own.
        expect.objectContaining({
          Expression:
            'IF(requests > 0, 100 * IF(errors > unconfigured, errors - unconfigured, 0) / requests, 0)',
        }),
      ]),
    );
    expect(watched('spine-dev-rotation-failure')).toMatchObject({
      MetricName: 'Errors',
      Namespace: 'AWS/Lambda',
    });
    expect(JSON.stringify(watched('spine-dev-rotation-failure').Dimensions)).toContain(
      functionId('spine-dev-rotate-credentials'),
    );
    expect(watched('spine-dev-replay-failure')).toMatchObject({
      MetricName: 'ExecutionsFailed',
      Namespace: 'AWS/States',
    });
    expect(JSON.stringify(watched('spine-dev-reconciliation-failure').Dimensions)).toContain(
      functionId('spine-dev-reconcile'),
    );
    // The topic is the edge stack's: replacing this stack loses no confirmed subscription.
    const topic = edgeImport('AWS::SNS::Topic', (p) => p.TopicName === 'spine-dev-alarms');
    expect(stateless.findResources('AWS::SNS::Topic')).toEqual({});
    // test/infra/alarms.test.ts checks each: 15 of the environment, 3 a source, 7 a flow, and
    // one more a flow whose contracts enrich thin events (its vendor credential).
    const sources = new Set(compiledRegistry.contracts.map((c) => c.source.system));
    const enriching = new Set(
      compiledRegistry.contracts.filter((c) => c.enrich).map((c) => c.flow),
    );
    expect(enriching.size).toBeGreaterThan(0);
    expect(alarms).toHaveLength(15 + 3 * sources.size + 7 * flows.length + enriching.size);
    for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toEqual([topic]);
    // No alarm reads a SEARCH expression: CloudWatch refuses them in alarms.
    expect(JSON.stringify(alarms)).not.toContain('SEARCH(');
  });

  it('alarms on what finance watches, from the last reconciliation run over every contract and currency', () => {
    for (const [name, metric, threshold] of [
      ['unposted-invoices', 'reconciliation-unposted-invoices', 1],
      ['unmatched-payments', 'reconciliation-unmatched-payments', 1],
      ['unconfirmed-paid-orders', 'reconciliation-unconfirmed-paid-orders', 1],
      // Any difference the run rounds to a currency's smallest unit, a thousandth at the least.
      ['amount-difference', 'reconciliation-amount-difference', 0.001],
    ] as const) {
      const alarm = watched(`spine-dev-${name}`);
      expect(alarm).toMatchObject({
        MetricName: metric,
        Namespace: 'Spine',
        Threshold: threshold,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      });
      // The series over everything the handler publishes: no contract, no currency.
      expect(alarm.Dimensions).toEqual([{ Name: 'service', Value: 'spine' }]);
      expect(String(alarm.AlarmDescription)).toContain('spine reconcile --env dev');
    }
  });

  it('e-mails the alarms through an encrypted topic that CloudWatch may publish to, for this account only', () => {
    edge.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'integrations-dev@example.com',
    });
    const topic = Object.values(edgeJson.Resources).find(
      (r) => r.Type === 'AWS::SNS::Topic' && r.Properties.TopicName === 'spine-dev-alarms',
    );
    const key = topic?.Properties.KmsMasterKeyId as { 'Fn::GetAtt': [string] } | undefined;
    const keyId = key?.['Fn::GetAtt'][0] ?? 'no key';
    const policy = edgeJson.Resources[keyId]?.Properties.KeyPolicy as
      | { Statement: { Principal: unknown; Condition?: unknown }[] }
      | undefined;
    const statements = policy?.Statement ?? [];
    const cloudwatch = statements.filter(
      (st) => JSON.stringify(st.Principal) === '{"Service":"cloudwatch.amazonaws.com"}',
    );
    expect(cloudwatch).toHaveLength(1);
    const condition = cloudwatch[0]?.Condition as {
      StringEquals: Record<string, unknown>;
      ArnLike: Record<string, unknown>;
    };
    expect(condition.StringEquals).toEqual({ 'aws:SourceAccount': '111111111111' });
    expect(Object.keys(condition.ArnLike)).toEqual(['aws:SourceArn']);
    expect(arnText(condition.ArnLike['aws:SourceArn'])).toBe(
      'arn:aws:cloudwatch:eu-west-1:111111111111:alarm:*',
    );
  });

  it('has a finance row: each figure over everything, and per contract and currency', () => {
    const join = Object.values(resources).find((r) => r.Type === 'AWS::CloudWatch::Dashboard')
      ?.Properties.DashboardBody as { 'Fn::Join': [string, unknown[]] };
    const body = JSON.parse(
      join['Fn::Join'][1].map((p) => (typeof p === 'string' ? p : 'TOKEN')).join(''),
    ) as {
      widgets: { properties: { title?: string; markdown?: string; metrics?: unknown[][] } }[];
    };
    expect(body.widgets.some((w) => w.properties.markdown?.startsWith('## Finance'))).toBe(true);
    for (const [panel, metric] of [
      ['unposted invoices', 'reconciliation-unposted-invoices'],
      ['unmatched payments', 'reconciliation-unmatched-payments'],
      ['unconfirmed paid orders', 'reconciliation-unconfirmed-paid-orders'],
      ['amount difference per currency', 'reconciliation-amount-difference'],
    ]) {
      const widget = body.widgets.find((w) => w.properties.title === `Finance: ${panel}`);
      if (!widget) throw new Error(`no widget "Finance: ${panel}"`);
      const [overall, perCurrency] = widget.properties.metrics ?? [];
      // The series the alarm reads, and every contract and currency's beside it.
      expect(overall?.slice(0, 4)).toEqual(['Spine', metric, 'service', 'spine']);
      expect(perCurrency).toEqual([
        expect.objectContaining({
          expression: `SEARCH('{Spine,contract,currency,flow,service} MetricName="${metric}"', 'Maximum', 86400)`,
        }),
      ]);
    }
  });

  it('has a dashboard row per flow with every panel an operator needs', () => {
    const body = JSON.stringify(
      Object.values(resources).find((r) => r.Type === 'AWS::CloudWatch::Dashboard')?.Properties
        .DashboardBody,
    );
    for (const flow of flows) {
      expect(body).toContain(`## ${flow}`);
      for (const panel of [
        'received / accepted / rejected',
        'queue depth and oldest event',
        'DLQ depth',
        'worker errors and duration',
        'Odoo latency',
        'duplicates suppressed, stale skipped',
        'replays and reconciliation mismatches',
      ])
        expect(body).toContain(`${flow}: ${panel}`);
    }
  });
});
