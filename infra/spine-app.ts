/** Builds the stacks of one environment into an app (used by infra/app.ts, npm run synth and the tests). */
import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { CompiledRegistry } from '../functions/contracts/model.ts';
import { readEnvironment } from './environment.ts';
import { StatefulStack } from './stacks/stateful-stack.ts';
import { StatelessStack } from './stacks/stateless-stack.ts';

export function buildSpine(app: App, registry: CompiledRegistry, envName: unknown) {
  const environment = readEnvironment(app.node.tryGetContext('environments'), envName, registry);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const env = { account: environment.account, region: environment.region };
  const stateful = new StatefulStack(app, `spine-${environment.name}-stateful`, {
    env,
    environment,
    registry,
    description: `Spine ${environment.name}: tables, queues and secrets`,
  });
  const stateless = new StatelessStack(app, `spine-${environment.name}-stateless`, {
    env,
    environment,
    registry,
    stateful,
    description: `Spine ${environment.name}: API, functions, replay, schedules, dashboard and alarms`,
  });
  return { environment, stateful, stateless };
}
