/**
 * AWS Control Tower's proactive controls (cfn-guard, through CDK policy validation) on the
 * synthesised templates: what they found is fixed, or acknowledged with a reason that names why,
 * and nothing else is acknowledged.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { compiledRegistry } from '../../functions/contracts/compiled/registry.ts';
import { buildSpine } from '../../infra/spine-app.ts';
import { cdkContext } from './synth.ts';

interface Finding {
  readonly ruleName: string;
  readonly violatingConstructs: { readonly constructPath: string }[];
  readonly reason?: string;
}
interface Report {
  readonly pluginReports: {
    readonly pluginName: string;
    readonly violations: Finding[];
    readonly suppressedViolations?: Finding[];
  }[];
}

function validate(name: string) {
  const outdir = mkdtempSync(join(tmpdir(), 'spine-controls-'));
  const app = new App({
    outdir,
    context: { ...cdkContext, env: name, 'aws:cdk:bundling-stacks': [] },
  });
  const built = buildSpine(app, compiledRegistry, name);
  let failure: unknown;
  try {
    app.synth();
  } catch (error) {
    failure = error;
  }
  const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as Report;
  const guard = report.pluginReports.find((p) => p.pluginName === 'cdk-validator-cfnguard');
  if (!guard) throw new Error('the Control Tower controls did not run');
  const acknowledged = (guard.suppressedViolations ?? []).map((v) => ({
    rule: v.ruleName,
    paths: v.violatingConstructs.map((c) => c.constructPath),
    reason: v.reason ?? '',
  }));
  return { failure, guard, acknowledged, built, outdir };
}

const SPINE_FUNCTIONS = 7;

describe('AWS Control Tower proactive controls', { timeout: 180_000 }, () => {
  const prod = validate('prod');

  it('pass on prod, with no finding left open', () => {
    expect(prod.failure).toBeUndefined();
    expect(prod.guard.violations).toEqual([]);
  });

  it('acknowledge only the three controls Spine departs from on purpose, each with its reason', () => {
    const rules = [...new Set(prod.acknowledged.map((a) => a.rule))].sort();
    expect(rules).toEqual([
      'api_gw_v2_authorization_type_configured_check',
      'lambda_inside_vpc_check',
      'sqs_dlq_check',
    ]);
    const count = (rule: string) =>
      prod.acknowledged.filter((a) => a.rule === rule).flatMap((a) => a.paths).length;
    // Every Spine function, every parking queue, every webhook route (one per source, one for
    // names without a contract).
    const sources = new Set(compiledRegistry.contracts.map((c) => c.source.system));
    expect(count('lambda_inside_vpc_check')).toBe(SPINE_FUNCTIONS);
    expect(count('sqs_dlq_check')).toBe(compiledRegistry.flows.length);
    expect(count('api_gw_v2_authorization_type_configured_check')).toBe(sources.size + 1);
    for (const a of prod.acknowledged) expect(a.reason.length, a.rule).toBeGreaterThan(80);
    expect(
      prod.acknowledged
        .filter((a) => a.rule === 'sqs_dlq_check')
        .flatMap((a) => a.paths)
        .every((path) => path.includes('/ParkingQueue/')),
    ).toBe(true);
  });

  it('fix, rather than acknowledge, key grants and log encryption (CT.KMS.PR.3, CT.CLOUDWATCH.PR.3)', () => {
    const templates = [prod.built.edge, prod.built.stateful, prod.built.stateless].map(
      (stack) =>
        JSON.parse(
          readFileSync(join(prod.outdir, `${stack.artifactId}.template.json`), 'utf8'),
        ) as { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> },
    );
    const resources = templates.flatMap((t) => Object.values(t.Resources));
    const keys = resources.filter((r) => r.Type === 'AWS::KMS::Key');
    expect(keys.length).toBeGreaterThanOrEqual(4);
    for (const key of keys)
      expect(
        (key.Properties.KeyPolicy as { Statement: Record<string, unknown>[] }).Statement,
      ).toContainEqual(
        expect.objectContaining({
          Effect: 'Deny',
          Action: 'kms:CreateGrant',
          Condition: {
            BoolIfExists: {
              'kms:GrantIsForAWSResource': 'false',
              'aws:PrincipalIsAWSService': 'false',
            },
          },
        }),
      );
    const logGroups = resources.filter((r) => r.Type === 'AWS::Logs::LogGroup');
    expect(logGroups).toHaveLength(SPINE_FUNCTIONS + 2);
    // A key of the same stack: an imported ARN would tie the stacks together.
    for (const group of logGroups)
      expect(group.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [expect.any(String), 'Arn'] });
  });

  it('acknowledge a short log retention only where cdk.json chose it', () => {
    const dev = validate('dev');
    expect(dev.failure).toBeUndefined();
    const retention = dev.acknowledged.filter(
      (a) => a.rule === 'cloudwatch_log_group_retention_period_check',
    );
    expect(retention.flatMap((a) => a.paths)).toHaveLength(SPINE_FUNCTIONS + 2);
    expect(retention[0]?.reason).toContain('14 days');
    expect(
      prod.acknowledged.some((a) => a.rule === 'cloudwatch_log_group_retention_period_check'),
    ).toBe(false);
  });
});
