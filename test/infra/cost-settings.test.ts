/**
 * What each function and the lineage table cost per event, as the templates set it: no tracing
 * unless an environment asks for it, memory from the measured profile, no source maps, Node 24,
 * and lineage kept `lineageRetentionDays` in indexes that keep only what their readers use.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { compiledRegistry } from '../../functions/contracts/compiled/registry.ts';
import { LINEAGE_TABLE } from '../../functions/platform/tables.ts';
import { HANDLER_MEMORY_MB } from '../../infra/constructs/spine-function.ts';
import { readEnvironment } from '../../infra/environment.ts';
import { cdkContext, synthEnvironment } from './synth.ts';

type Resource = { Properties: Record<string, unknown> };
type Synthesised = Pick<Template, 'findResources'>;
const functionsOf = (template: Synthesised) =>
  (Object.values(template.findResources('AWS::Lambda::Function')) as Resource[]).filter((f) =>
    String(f.Properties.FunctionName ?? '').startsWith('spine-'),
  );
const variables = (fn: Resource) =>
  (fn.Properties.Environment as { Variables: Record<string, string> }).Variables;
/** X-Ray statements in the policies of the functions' roles (the replay state machine's own is apart). */
const xrayStatements = (template: Synthesised) => {
  const roles = new Set(
    functionsOf(template).map((f) => JSON.stringify((f.Properties.Role as object) ?? {})),
  );
  return (Object.values(template.findResources('AWS::IAM::Policy')) as Resource[])
    .filter((p) =>
      (p.Properties.Roles as object[]).some((r) =>
        roles.has(JSON.stringify({ 'Fn::GetAtt': [(r as { Ref: string }).Ref, 'Arn'] })),
      ),
    )
    .flatMap((p) =>
      (
        (p.Properties.PolicyDocument as { Statement: { Action: string | string[] }[] }).Statement ??
        []
      ).filter((s) => [s.Action].flat().some((a) => a.startsWith('xray:'))),
    );
};

describe('functions', () => {
  const { statelessTemplate } = synthEnvironment('dev');
  const functions = functionsOf(statelessTemplate);

  it('run Node 24 without tracing, source maps or their runtime flag by default', () => {
    expect(functions.length).toBeGreaterThan(4);
    for (const fn of functions) {
      expect(fn.Properties.Runtime).toBe('nodejs24.x');
      expect(fn.Properties.TracingConfig).toBeUndefined();
      expect(variables(fn).NODE_OPTIONS).toBeUndefined();
      expect(variables(fn).SPINE_TRACING).toBeUndefined();
      expect(variables(fn).SPINE_LINEAGE_RETENTION_DAYS).toBe('400');
    }
    expect(xrayStatements(statelessTemplate)).toEqual([]);
  });

  it('get the memory their measured profile chose', () => {
    const memoryOf = (name: string) =>
      functions.find((f) => f.Properties.FunctionName === name)?.Properties.MemorySize;
    expect(memoryOf('spine-dev-receiver')).toBe(HANDLER_MEMORY_MB['receiver.ts']);
    for (const flow of compiledRegistry.flows)
      expect(memoryOf(`spine-dev-worker-${flow.name}`)).toBe(HANDLER_MEMORY_MB['worker.ts']);
  });

  it('trace actively, with the Tracer told to capture, where an environment turns tracing on', () => {
    const traced = synthEnvironment(
      'dev',
      {
        ...cdkContext.environments,
        dev: { ...cdkContext.environments.dev, tracing: true, lineageRetentionDays: 731 },
      },
      { policyValidation: true },
    );
    const tracedFunctions = functionsOf(traced.statelessTemplate);
    for (const fn of tracedFunctions) {
      expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
      expect(variables(fn).SPINE_TRACING).toBe('active');
      expect(variables(fn).SPINE_LINEAGE_RETENTION_DAYS).toBe('731');
    }
    expect(xrayStatements(traced.statelessTemplate).length).toBeGreaterThanOrEqual(
      tracedFunctions.length,
    );
    // The X-Ray actions take no resource: acknowledged where tracing is on, with its reason.
    expect(() => traced.app.synth()).not.toThrow();
    const report = JSON.parse(
      readFileSync(join(traced.outdir, 'validation-report.json'), 'utf8'),
    ) as {
      pluginReports: {
        pluginName: string;
        violations: unknown[];
        suppressedViolations: { ruleName: string; reason: string }[];
      }[];
    };
    const nag = report.pluginReports.find((r) => r.pluginName === 'AwsSolutions');
    expect(nag?.violations).toEqual([]);
    expect(
      nag?.suppressedViolations.some(
        (v) => v.ruleName === 'AwsSolutions-IAM5[Resource::*]' && v.reason.includes('xray:'),
      ),
    ).toBe(true);
  });
});

describe('the environment', () => {
  const dev = cdkContext.environments.dev as Record<string, unknown>;
  const read = (entry: Record<string, unknown>) =>
    readEnvironment({ dev: entry }, 'dev', compiledRegistry);

  it('keeps lineage 400 days and traces nothing unless told', () => {
    expect(read(dev)).toMatchObject({ lineageRetentionDays: 400, tracing: false });
  });

  it('refuses a retention or a tracing setting it cannot use, naming the key', () => {
    expect(() => read({ ...dev, lineageRetentionDays: 0 })).toThrow(
      'cdk.json context.environments.dev.lineageRetentionDays: expected a whole number from 1 to 3653, got 0',
    );
    expect(() => read({ ...dev, tracing: 'yes' })).toThrow(
      'cdk.json context.environments.dev.tracing: expected true or false, got "yes"',
    );
  });
});

describe('the lineage table', () => {
  const { template } = synthEnvironment('dev');
  const [lineage] = Object.values(template.findResources('AWS::DynamoDB::Table')).filter(
    (t) => t.Properties.TableName === 'spine-dev-lineage',
  );

  it('expires items through expiresAt', () => {
    expect(lineage?.Properties.TimeToLiveSpecification).toEqual({
      AttributeName: 'expiresAt',
      Enabled: true,
    });
  });

  it('keeps in each index only what its readers use: keys for correlation, no arrival anywhere', () => {
    const indexes = Object.fromEntries(
      (
        (lineage?.Properties.GlobalSecondaryIndexes ?? []) as {
          IndexName: string;
          Projection: { ProjectionType: string; NonKeyAttributes?: string[] };
        }[]
      ).map((i) => [i.IndexName, i.Projection]),
    );
    expect(indexes.byCorrelation).toEqual({ ProjectionType: 'KEYS_ONLY' });
    for (const name of ['byRecord', 'byContractDay']) {
      expect(indexes[name]?.ProjectionType).toBe('INCLUDE');
      expect(indexes[name]?.NonKeyAttributes).not.toContain('arrival');
      expect(indexes[name]?.NonKeyAttributes).not.toContain('redacted');
    }
    expect(LINEAGE_TABLE.indexes.map((i) => i.name)).toEqual(Object.keys(indexes));
  });
});
