/** The CDK app: `cdk deploy -c env=<dev|staging|prod>`. Only this file reads context and the environment. */
import { App } from 'aws-cdk-lib';
import { compiledRegistry } from '../functions/contracts/compiled/registry.ts';
import { EnvironmentError } from './environment.ts';
import { buildSpine } from './spine-app.ts';

const app = new App();
try {
  buildSpine(app, compiledRegistry, app.node.tryGetContext('env'));
} catch (error) {
  // A configuration mistake gets its message, not a stack trace.
  if (!(error instanceof EnvironmentError)) throw error;
  process.stderr.write(`spine: ${error.message}\n`);
  process.exit(1);
}
app.synth();
