/**
 * `npm run synth`: synthesises every environment in cdk.json into cdk.out/<env>, bundling each
 * Lambda and running cdk-nag (AwsSolutions) and AWS Control Tower's proactive controls
 * (cfn-guard), so that CI proves every environment deploys, also into a Control Tower account.
 */
import { existsSync, readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { compiledRegistry } from '../functions/contracts/compiled/registry.ts';
import { EnvironmentError } from './environment.ts';
import { buildSpine } from './spine-app.ts';

const context = JSON.parse(readFileSync(new URL('../cdk.json', import.meta.url), 'utf8'))
  .context as Record<string, unknown>;

/** `plugin: rule at path` for each violation the validation report still holds. */
function openFindings(outdir: string): string[] {
  const file = `${outdir}/validation-report.json`;
  if (!existsSync(file)) return [];
  const report = JSON.parse(readFileSync(file, 'utf8')) as {
    pluginReports: {
      pluginName: string;
      violations?: { ruleName: string; violatingConstructs: { constructPath: string }[] }[];
    }[];
  };
  return report.pluginReports.flatMap((plugin) =>
    (plugin.violations ?? []).flatMap((v) =>
      v.violatingConstructs.map((c) => `${plugin.pluginName}: ${v.ruleName} at ${c.constructPath}`),
    ),
  );
}
const names = Object.keys((context.environments ?? {}) as object);
for (const name of names) {
  const app = new App({ outdir: `cdk.out/${name}`, context: { ...context, env: name } });
  try {
    const { stateless } = buildSpine(app, compiledRegistry, name);
    const assembly = app.synth();
    // The validation plugins' own verdict is not trusted alone: any finding left fails synth.
    const open = openFindings(`cdk.out/${name}`);
    if (open.length > 0) {
      process.stderr.write(
        `spine: ${name}: ${open.length} validation finding(s) neither fixed nor acknowledged: ${open.join('; ')} (cdk.out/${name}/validation-report.json)\n`,
      );
      process.exit(1);
    }
    process.stdout.write(
      `${name}: ${assembly.stacks.map((s) => s.stackName).join(', ')} → cdk.out/${name} (${stateless.flows.length} flows, ${stateless.observability.alarms.length} alarms, cdk-nag and Control Tower controls clean)\n`,
    );
  } catch (error) {
    if (!(error instanceof EnvironmentError)) throw error;
    process.stderr.write(`spine: ${error.message}\n`);
    process.exit(1);
  }
}
