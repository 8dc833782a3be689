/** The `spine` command. Each subcommand lives in cli/commands/ and registers itself here. */
import { Command, CommanderError } from 'commander';
import { registerContractsCommand } from './commands/contracts.ts';
import { registerLineageCommand } from './commands/lineage.ts';
import { registerLocalCommand } from './commands/local.ts';
import { registerReconcileCommand } from './commands/reconcile.ts';
import { registerReferenceCommand } from './commands/reference.ts';
import { registerReplayCommand } from './commands/replay.ts';

const program = new Command('spine')
  .description(
    'Spine keeps Odoo in agreement with the SaaS systems around it: contract-checked webhooks, ' +
      'applied to Odoo exactly once, traced, replayable and reconciled.',
  )
  .option(
    '--root <dir>',
    'the project folder (default: the nearest folder above with contracts/flows.yaml)',
  )
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

registerContractsCommand(program);
registerLocalCommand(program);
registerLineageCommand(program);
registerReconcileCommand(program);
registerReferenceCommand(program);
registerReplayCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Help and version exit 0; a usage mistake exits 2 so scripts can tell it from a refusal (1).
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  } else {
    process.stderr.write(`spine: ${(error as Error).message}\n`);
    process.exitCode = 2;
  }
}
