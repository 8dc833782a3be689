/**
 * `npm run synth`: synthesises every environment in cdk.json into cdk.out/<env>, bundling each
 * Lambda and running cdk-nag (AwsSolutions), so that CI proves every environment deploys.
 */
import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { compiledRegistry } from '../functions/contracts/compiled/registry.ts';
import { EnvironmentError } from './environment.ts';
import { buildSpine } from './spine-app.ts';

const context = JSON.parse(readFileSync(new URL('../cdk.json', import.meta.url), 'utf8'))
  .context as Record<string, unknown>;
const names = Object.keys((context.environments ?? {}) as object);
for (const name of names) {
  const app = new App({ outdir: `cdk.out/${name}`, context: { ...context, env: name } });
  try {
    const { stateless } = buildSpine(app, compiledRegistry, name);
    const assembly = app.synth();
    process.stdout.write(
      `${name}: ${assembly.stacks.map((s) => s.stackName).join(', ')} → cdk.out/${name} (${stateless.flows.length} flows, ${stateless.observability.alarms.length} alarms, cdk-nag clean)\n`,
    );
  } catch (error) {
    if (!(error instanceof EnvironmentError)) throw error;
    process.stderr.write(`spine: ${error.message}\n`);
    process.exit(1);
  }
}
