/** Builds the stacks of one environment into an app (used by infra/app.ts, npm run synth and the tests). */

import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { type App, Aspects, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { CompiledRegistry } from '../functions/contracts/model.ts';
import { ActiveTracing } from './aspects/active-tracing.ts';
import { CostAllocationTags } from './aspects/cost-allocation-tags.ts';
import { EncryptedLogGroups } from './aspects/encrypted-log-groups.ts';
import { KeyGrantsForAwsServicesOnly } from './aspects/key-grants-for-aws-services.ts';
import { readEnvironment } from './environment.ts';
import { EdgeStack } from './stacks/edge-stack.ts';
import { StatefulStack } from './stacks/stateful-stack.ts';
import { StatelessStack } from './stacks/stateless-stack.ts';

export function buildSpine(
  app: App,
  registry: CompiledRegistry,
  envName: unknown,
  options: {
    /**
     * Run cdk-nag and the Control Tower controls at synth. Template tests that check other
     * things turn it off: the controls take seconds on every synth. @default true
     */
    readonly policyValidation?: boolean;
  } = {},
) {
  const environment = readEnvironment(app.node.tryGetContext('environments'), envName, registry);
  // cdk-nag's AWS Solutions rules, and AWS Control Tower's proactive controls (cfn-guard) as a
  // Control Tower account would enforce them at deploy.
  if (options.policyValidation ?? true)
    Validations.of(app).addPlugins(
      new AwsSolutionsChecks(app),
      new CfnGuardValidator({ controlTowerRulesEnabled: true }),
    );
  const env = { account: environment.account, region: environment.region };
  const edge = new EdgeStack(app, `spine-${environment.name}-edge`, {
    env,
    environment,
    sources: registry.contracts.map((c) => c.source.system),
    description: `Spine ${environment.name}: the webhook API and its domain, the alarm topic and the budget`,
  });
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
    edge,
    description: `Spine ${environment.name}: functions, replay, schedules, dashboard and alarms`,
  });
  // Said outright, though references imply it: the queues are referenced by name, and deploying
  // the functions before what they use would fail.
  stateless.addStackDependency(stateful);
  stateless.addStackDependency(edge);
  for (const [stack, component] of [
    [edge, 'edge'],
    [stateful, 'stateful'],
    [stateless, 'stateless'],
  ] as const)
    Aspects.of(stack).add(new CostAllocationTags({ environment: environment.name, component }));
  if (environment.tracing) Aspects.of(stateless).add(new ActiveTracing());
  // CT.CLOUDWATCH.PR.1 asks for a year of logs; an environment that keeps less says so in
  // cdk.json, and is told it here.
  if (environment.logRetentionDays < 365)
    for (const stack of [edge, stateless])
      Validations.of(stack).acknowledge({
        id: 'cdk-validator-cfnguard::cloudwatch_log_group_retention_period_check',
        reason: `cdk.json keeps the ${environment.name} environment's logs ${environment.logRetentionDays} days (logRetentionDays): a short retention chosen for an environment whose logs are not an audit record; prod keeps 365.`,
      });
  Aspects.of(edge).add(new EncryptedLogGroups(edge.logKey.key));
  Aspects.of(stateless).add(new EncryptedLogGroups(stateless.logKey.key));
  Aspects.of(app).add(new KeyGrantsForAwsServicesOnly());
  return { environment, edge, stateful, stateless };
}
