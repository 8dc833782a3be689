/**
 * What makes a first `cdk deploy` succeed and keeps a later one from breaking the environment:
 * removal policies that survive a failed create, references that let a flow go, a credential
 * secret the template never writes again, the long-lived edge stack, tags and the budget.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { compiledRegistry } from '../../functions/contracts/compiled/registry.ts';
import type { CompiledRegistry } from '../../functions/contracts/model.ts';
import { COST_ALLOCATION_TAG_KEYS } from '../../infra/aspects/cost-allocation-tags.ts';
import { DEFAULT_MONTHLY_BUDGET_USD } from '../../infra/environment.ts';
import { buildSpine } from '../../infra/spine-app.ts';
import { cdkContext } from './synth.ts';

type Resources = Record<
  string,
  {
    Type: string;
    Properties: Record<string, unknown>;
    DeletionPolicy?: string;
    UpdateReplacePolicy?: string;
  }
>;
type Environment = Record<string, unknown>;

function synth(
  name: string,
  options: {
    registry?: CompiledRegistry;
    change?: (env: Environment) => void;
    policyValidation?: boolean;
  } = {},
) {
  const environments = structuredClone(cdkContext.environments);
  options.change?.(environments[name] as Environment);
  const outdir = mkdtempSync(join(tmpdir(), 'spine-redeploy-'));
  const app = new App({
    outdir,
    context: { ...cdkContext, environments, env: name, 'aws:cdk:bundling-stacks': [] },
  });
  const built = buildSpine(app, options.registry ?? compiledRegistry, name, {
    policyValidation: options.policyValidation ?? false,
  });
  const json = (stack: Stack) =>
    Template.fromStack(stack).toJSON() as {
      Resources: Resources;
      Outputs?: Record<string, { Value: unknown; Export?: { Name: string } }>;
    };
  // The stateless stack first: the exports it needs are made while it resolves.
  const stateless = json(built.stateless);
  return { app, outdir, built, stateless, stateful: json(built.stateful), edge: json(built.edge) };
}

const importsOf = (template: object) =>
  new Set(
    [...JSON.stringify(template).matchAll(/"Fn::ImportValue":"([^"]+)"/g)].map(
      (m) => m[1] as string,
    ),
  );
const exportsOf = (...templates: { Outputs?: Record<string, { Export?: { Name: string } }> }[]) =>
  new Set(
    templates.flatMap((t) =>
      Object.values(t.Outputs ?? {}).flatMap((o) => (o.Export ? [o.Export.Name] : [])),
    ),
  );

describe('references between the stacks', () => {
  const prod = synth('prod');
  const imported = importsOf(prod.stateless);

  it('import only what every flow shares: the key, the tables, the Odoo and redaction secrets, the API and the alarm topic', () => {
    const exportedBy = new Map<string, string>();
    for (const t of [prod.stateful, prod.edge])
      for (const o of Object.values(t.Outputs ?? {})) {
        const target = JSON.stringify(o.Value).match(/"(?:Ref|Fn::GetAtt)":\[?"([A-Za-z0-9]+)"/);
        if (o.Export && target?.[1]) exportedBy.set(o.Export.Name, target[1]);
      }
    const resources = { ...prod.stateful.Resources, ...prod.edge.Resources };
    const kinds = [...imported].map((name) => {
      const resource = resources[exportedBy.get(name) ?? ''];
      return `${resource?.Type} ${resource?.Properties.Name ?? resource?.Properties.TableName ?? ''}`.trim();
    });
    expect(kinds.sort()).toEqual(
      [
        'AWS::ApiGatewayV2::Api spine-prod-webhooks',
        'AWS::DynamoDB::Table spine-prod-idempotency',
        'AWS::DynamoDB::Table spine-prod-idempotency',
        'AWS::DynamoDB::Table spine-prod-lineage',
        'AWS::DynamoDB::Table spine-prod-lineage',
        'AWS::KMS::Key',
        'AWS::SNS::Topic',
        'AWS::SecretsManager::Secret spine/prod/odoo',
        'AWS::SecretsManager::Secret spine/prod/redaction-key',
      ].sort(),
    );
  });

  it('leave every export the functions import in place when a flow (and the sources only it had) is removed', () => {
    const without = synth('prod', {
      registry: {
        ...compiledRegistry,
        flows: compiledRegistry.flows.filter((f) => f.name !== 'customers'),
        contracts: compiledRegistry.contracts.filter((c) => c.flow !== 'customers'),
      },
      change: (env) => {
        delete (env.concurrency as Record<string, number>).customers;
      },
    });
    // Clerk and HubSpot only send customers: their signing secrets go too.
    expect(JSON.stringify(without.stateful)).not.toContain('spine/prod/webhooks/clerk');
    expect(JSON.stringify(without.stateful)).not.toContain('spine-prod-customers');
    const remaining = exportsOf(without.stateful, without.edge);
    for (const name of imported) expect(remaining, name).toContain(name);
  });

  it('leave every export in place when a standard flow turns FIFO (a new queue under a new name)', () => {
    const fifo = synth('prod', {
      registry: {
        ...compiledRegistry,
        flows: compiledRegistry.flows.map((f) =>
          f.name === 'payments' ? { ...f, fifo: true } : f,
        ),
      },
    });
    expect(JSON.stringify(fifo.stateful)).toContain('spine-prod-payments.fifo');
    const remaining = exportsOf(fifo.stateful, fifo.edge);
    for (const name of imported) expect(remaining, name).toContain(name);
  });

  it('leave the edge stack importing nothing, so that the functions can be replaced under it', () => {
    expect(importsOf(prod.edge)).toEqual(new Set());
    expect(prod.built.stateless.dependencies.map((s) => s.stackName).sort()).toEqual([
      'spine-prod-edge',
      'spine-prod-stateful',
    ]);
  });
});

describe('removal policies', () => {
  const named = ['AWS::SQS::Queue', 'AWS::DynamoDB::Table', 'AWS::SecretsManager::Secret'];
  const policies = (resources: Resources, types: string[]) =>
    Object.values(resources)
      .filter((r) => types.includes(r.Type))
      .map((r) => `${r.DeletionPolicy}/${r.UpdateReplacePolicy}`);

  it('keep named resources, the key and the logs on a delete or replacement where the environment retains, but not after a failed create', () => {
    const prod = synth('prod');
    const kept = policies(prod.stateful.Resources, [...named, 'AWS::KMS::Key']);
    expect(kept.length).toBeGreaterThan(12);
    // RETAIN_ON_UPDATE_OR_DELETE: a first create that rolls back deletes them, and the retry
    // does not fail on a name that "already exists".
    expect(new Set(kept)).toEqual(new Set(['RetainExceptOnCreate/Retain']));
    const logs = [prod.stateless, prod.edge].flatMap((t) =>
      policies(t.Resources, ['AWS::Logs::LogGroup']),
    );
    expect(logs.length).toBeGreaterThan(5);
    expect(new Set(logs)).toEqual(new Set(['RetainExceptOnCreate/Retain']));
  });

  it('delete everything of an environment that does not retain', () => {
    const dev = synth('dev');
    const all = [dev.stateful, dev.stateless, dev.edge].flatMap((t) =>
      policies(t.Resources, [...named, 'AWS::KMS::Key', 'AWS::Logs::LogGroup']),
    );
    expect(new Set(all)).toEqual(new Set(['Delete/Delete']));
  });

  it('protect the tables from deletion where the environment retains', () => {
    const tables = (t: { Resources: Resources }) =>
      Object.values(t.Resources)
        .filter((r) => r.Type === 'AWS::DynamoDB::Table')
        .map((r) => r.Properties.DeletionProtectionEnabled);
    expect(tables(synth('prod').stateful)).toEqual([true, true]);
    expect(tables(synth('dev').stateful)).toEqual([false, false]);
  });
});

describe('the Odoo credential secret', () => {
  const secretOf = (t: { Resources: Resources }) =>
    Object.values(t.Resources).find(
      (r) => r.Type === 'AWS::SecretsManager::Secret' && r.Properties.Name === 'spine/dev/odoo',
    );

  it('is created without a credential, and with nothing cdk.json says: a changed Odoo never rewrites it', () => {
    const before = synth('dev');
    const moved = synth('dev', {
      change: (env) => {
        env.odoo = { url: 'https://erp2.example.com', database: 'other', protocol: 'jsonrpc' };
      },
    });
    expect(secretOf(before.stateful)?.Properties.SecretString).toBe('{}');
    // CloudFormation writes a secret's value again only when the template's value changes.
    expect(secretOf(moved.stateful)).toEqual(secretOf(before.stateful));
    // The functions get Odoo's address from their environment instead.
    const variables = Object.values(moved.stateless.Resources)
      .filter((r) => r.Type === 'AWS::Lambda::Function')
      .map((r) => (r.Properties.Environment as { Variables: Record<string, unknown> }).Variables);
    expect(variables.length).toBeGreaterThan(4);
    for (const v of variables)
      expect(v).toMatchObject({
        SPINE_ODOO_URL: 'https://erp2.example.com',
        SPINE_ODOO_DATABASE: 'other',
        SPINE_ODOO_PROTOCOL: 'jsonrpc',
      });
  });

  it('may be rotated by Secrets Manager only for this secret, in this account', () => {
    const dev = synth('dev');
    const permissions = Object.values(dev.stateless.Resources).filter(
      (r) =>
        r.Type === 'AWS::Lambda::Permission' &&
        r.Properties.Principal === 'secretsmanager.amazonaws.com',
    );
    expect(permissions).toHaveLength(1);
    const exported = Object.values(dev.stateful.Outputs ?? {}).find((o) =>
      JSON.stringify(o.Value).includes('OdooCredential'),
    );
    expect(permissions[0]?.Properties).toMatchObject({
      SourceAccount: '111111111111',
      SourceArn: { 'Fn::ImportValue': exported?.Export?.Name },
    });
  });
});

describe('the edge stack', () => {
  it('gives vendors the execute-api URL when cdk.json names no domain', () => {
    const dev = synth('dev');
    expect(Object.values(dev.edge.Resources).map((r) => r.Type)).not.toContain(
      'AWS::ApiGatewayV2::DomainName',
    );
    expect(JSON.stringify(dev.edge.Outputs?.WebhookBaseUrl?.Value)).toContain('ApiEndpoint');
  });

  it('serves the webhooks on the custom domain cdk.json names, with its certificate', () => {
    const certificateArn =
      'arn:aws:acm:eu-west-1:111111111111:certificate/0f3e5a5e-1b2c-4d5e-8f90-123456789abc';
    const dev = synth('dev', {
      change: (env) => {
        env.customDomain = { domainName: 'hooks.example.com', certificateArn };
      },
    });
    const edge = Template.fromJSON(dev.edge);
    edge.hasResourceProperties('AWS::ApiGatewayV2::DomainName', {
      DomainName: 'hooks.example.com',
      DomainNameConfigurations: [Match.objectLike({ CertificateArn: certificateArn })],
    });
    edge.hasResourceProperties('AWS::ApiGatewayV2::ApiMapping', { Stage: '$default' });
    expect(JSON.stringify(dev.edge.Outputs?.WebhookBaseUrl?.Value)).toContain(
      'https://hooks.example.com/webhooks/',
    );
    expect(dev.edge.Outputs?.CustomDomainTarget).toBeDefined();
  });

  it('refuses a certificate of another region, naming the key', () => {
    expect(() =>
      synth('dev', {
        change: (env) => {
          env.customDomain = {
            domainName: 'hooks.example.com',
            certificateArn:
              'arn:aws:acm:us-east-1:111111111111:certificate/0f3e5a5e-1b2c-4d5e-8f90-123456789abc',
          };
        },
      }),
    ).toThrow(
      /context\.environments\.dev\.customDomain\.certificateArn: expected the ARN of an ACM certificate in eu-west-1/,
    );
  });

  it('budgets each environment per month on its own costs, e-mailing the alarm address', () => {
    const prod = Template.fromJSON(synth('prod').edge);
    prod.hasResourceProperties('AWS::Budgets::Budget', {
      Budget: {
        BudgetName: 'spine-prod-monthly',
        BudgetType: 'COST',
        TimeUnit: 'MONTHLY',
        BudgetLimit: {
          Amount: (cdkContext.environments.prod as { budget: { monthlyUsd: number } }).budget
            .monthlyUsd,
          Unit: 'USD',
        },
        CostFilters: { TagKeyValue: ['user:spine:environment$prod'] },
      },
      NotificationsWithSubscribers: [
        {
          Notification: Match.objectLike({ NotificationType: 'ACTUAL', Threshold: 80 }),
          Subscribers: [{ SubscriptionType: 'EMAIL', Address: 'integrations-oncall@example.com' }],
        },
        {
          Notification: Match.objectLike({ NotificationType: 'FORECASTED', Threshold: 100 }),
          Subscribers: [{ SubscriptionType: 'EMAIL', Address: 'integrations-oncall@example.com' }],
        },
      ],
    });
    const unset = synth('dev', {
      change: (env) => {
        delete env.budget;
      },
    });
    Template.fromJSON(unset.edge).hasResourceProperties('AWS::Budgets::Budget', {
      Budget: Match.objectLike({
        BudgetLimit: { Amount: DEFAULT_MONTHLY_BUDGET_USD, Unit: 'USD' },
      }),
    });
  });
});

describe('cost-allocation tags', () => {
  it('tag every taggable resource with its environment and stack part, and what a flow owns with the flow', () => {
    const prod = synth('prod');
    const tagsOf = (r: { Properties: Record<string, unknown> }) => {
      const tags = r.Properties.Tags;
      if (Array.isArray(tags))
        return Object.fromEntries(
          (tags as { Key: string; Value: string }[]).map((t) => [t.Key, t.Value]),
        );
      return (tags ?? {}) as Record<string, string>;
    };
    for (const [component, template] of [
      ['edge', prod.edge],
      ['stateful', prod.stateful],
      ['stateless', prod.stateless],
    ] as const) {
      const tagged = Object.values(template.Resources).filter((r) => r.Properties?.Tags);
      expect(tagged.length, component).toBeGreaterThan(2);
      for (const r of tagged)
        expect(tagsOf(r), `${component} ${r.Type}`).toMatchObject({
          [COST_ALLOCATION_TAG_KEYS.environment]: 'prod',
          [COST_ALLOCATION_TAG_KEYS.component]: component,
        });
    }
    const flowOf = (t: { Resources: Resources }, type: string, name: string) =>
      tagsOf(
        Object.values(t.Resources).find(
          (r) =>
            r.Type === type &&
            (r.Properties.QueueName === name || r.Properties.FunctionName === name),
        ) ?? { Properties: {} },
      )[COST_ALLOCATION_TAG_KEYS.flow];
    expect(flowOf(prod.stateful, 'AWS::SQS::Queue', 'spine-prod-payments-dlq')).toBe('payments');
    expect(flowOf(prod.stateless, 'AWS::Lambda::Function', 'spine-prod-worker-orders')).toBe(
      'orders',
    );
    expect(flowOf(prod.stateless, 'AWS::Lambda::Function', 'spine-prod-receiver')).toBeUndefined();
  });
});

describe('cdk-nag acknowledgements', () => {
  it('say what AWSLambdaBasicExecutionRole grants: CreateLogGroup too, on every log group', () => {
    const { app, outdir } = synth('dev', { policyValidation: true });
    app.synth();
    const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: { suppressedViolations: { ruleName: string; reason: string }[] }[];
    };
    const reasons = new Set(
      report.pluginReports
        .flatMap((r) => r.suppressedViolations)
        .filter((v) => v.ruleName.startsWith('AwsSolutions-IAM4'))
        .map((v) => v.reason),
    );
    expect(reasons.size).toBe(1);
    const [reason] = reasons;
    for (const action of ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'])
      expect(reason).toContain(action);
    expect(reason).toContain('"*"');
  });
});
