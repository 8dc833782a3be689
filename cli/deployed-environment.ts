/** A deployed environment for commands that act in AWS (`--env <name>`): cdk.json, checked as synth checks it. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SpineEnvironment } from '../infra/environment.ts';

export async function readDeployedEnvironment(
  root: string,
  name: string,
): Promise<SpineEnvironment> {
  const file = join(root, 'cdk.json');
  if (!existsSync(file))
    throw new Error(`--env reads the environments from cdk.json, and ${root} has none`);
  const context = (JSON.parse(readFileSync(file, 'utf8')) as { context?: Record<string, unknown> })
    .context;
  const { readEnvironment } = await import('../infra/environment.ts');
  const { compiledRegistry } = await import('../functions/contracts/compiled/registry.ts').catch(
    () => {
      throw new Error('the contracts are not compiled; run `npm run contracts:build` first');
    },
  );
  return readEnvironment(context?.environments, name, compiledRegistry);
}
