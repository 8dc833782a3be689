/** Synthesises an environment of cdk.json for template tests, without bundling the Lambdas. */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { compiledRegistry } from '../../functions/contracts/compiled/registry.ts';
import { buildSpine } from '../../infra/spine-app.ts';

export const cdkContext = JSON.parse(
  readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8'),
).context as { environments: Record<string, Record<string, unknown>> } & Record<string, unknown>;

/**
 * Builds an environment's stacks; `policyValidation` also runs cdk-nag and the Control Tower
 * controls when the app synthesises (slow: only the tests of those findings ask for it).
 */
export function synthEnvironment(
  name = 'dev',
  environments = cdkContext.environments,
  { policyValidation = false }: { policyValidation?: boolean } = {},
) {
  const outdir = mkdtempSync(join(tmpdir(), 'spine-cdk-'));
  const app = new App({
    outdir,
    // The template is what is under test here; npm run synth bundles every Lambda for real.
    context: { ...cdkContext, environments, env: name, 'aws:cdk:bundling-stacks': [] },
  });
  const built = buildSpine(app, compiledRegistry, name, { policyValidation });
  return {
    app,
    outdir,
    ...built,
    template: Template.fromStack(built.stateful),
    stateless: built.stateless,
    statelessTemplate: Template.fromStack(built.stateless),
  };
}
