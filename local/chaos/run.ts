/**
 * `npm run chaos`: proves (or disproves) exactly once against the local runtime. Exit status 0
 * when every invariant held, 1 when one failed, 2 for a flag it refuses.
 */
import { Command, CommanderError } from 'commander';
import { runChaos } from './chaos.ts';
import { ChaosFlagError, FAULT_KINDS, parseChaosOptions, type RawChaosFlags } from './options.ts';
import { formatChaosReport } from './report.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const program = new Command('npm run chaos --')
  .description(
    'Drive the local runtime (spine local, in a child process) with vendor webhooks from every source and flow, under Odoo faults, a credential rotation and a kill -9; then drain, replay, and check exactly once against what Odoo holds.',
  )
  .option('--events <n>', 'unique vendor events to send (re-deliveries come on top)', '10000')
  .option('--seed <n>', 'seed of the traffic and of the faults: the same seed, the same run', '1')
  .option(
    '--duplicates <pct>',
    'share of events a vendor delivers twice: half at once (inside the FIFO dedup window), half after the first was processed',
    '10',
  )
  .option(
    '--out-of-order <pct>',
    'share of entities whose versions are sent newest first (Spine must skip the older ones)',
    '20',
  )
  .option('--fault-rate <pct>', 'share of Odoo calls each rate-based fault hits in its phase', '10')
  .option(
    '--faults <list>',
    `"all", "none", or a comma-separated list of: ${FAULT_KINDS.join(', ')}`,
    'all',
  )
  .option('--kill', 'kill -9 spine local halfway through the traffic and start it again (default)')
  .option('--no-kill', 'keep the runtime up the whole run')
  .option('--concurrency <n>', 'stories (one person or entity each) sent at the same time', '8')
  .option(
    '--data-dir <dir>',
    "the runtime's state folder (kept afterwards); default: a temporary one",
  )
  .option('--keep', 'keep the temporary state folder, to look at lineage and Odoo afterwards')
  .option('--drain-timeout <s>', 'longest wait for the queues to drain, each time', '900')
  .option('--json', 'print the report as JSON (progress still goes to stderr)')
  .addHelpText(
    'after',
    `
What a run does:
  1. starts \`spine local\` on free ports and a state folder of its own (child process);
  2. sends the traffic, signed as each vendor signs: Stripe customers whose address changes,
     their payments, cumulative refunds and invoices with lines; Shopify customers, orders with
     lines (two variant ids per SKU) and refunds; guest orders by the same new buyer at once; one
     person from Stripe and Clerk at the same moment (e-mail cased and spaced differently), then
     HubSpot property changes to them. Out-of-order entities are sent newest first;
  3. switches Odoo faults in phases through the emulator (POST /_emulator/faults): a calm start,
     each fault alone, then together; rotates the Odoo credential halfway through the phases;
     kill -9 the runtime once half the events were taken, restarts it on the same state, and
     re-sends whatever was not answered 2xx;
  4. turns faults off, drains the queues, re-delivers the "later" duplicates, replays the DLQs
     (spine replay) and drains again;
  5. judges: every event answered 2xx is applied, skipped with a reason, or in a DLQ / parking
     queue (else lost); one Odoo record per external id and per natural key (e-mail, SKU, order
     reference); order and invoice lines exactly as sent; every entity holds its newest event's
     values; and \`spine reconcile\` is clean for every day of the traffic.

The verdicts come from the harness's own ledger and Odoo's tables, not from Spine's lineage
(which only accounts for events that left no record). Progress goes to stderr.

Exit status: 0 when exactly once held, 1 when any invariant failed, 2 for a refused flag.

Examples:
  npm run chaos                                   # 10,000 events, every fault, one kill -9
  npm run chaos -- --events 1000 --seed 7
  npm run chaos -- --faults lock,commit-then-fail --no-kill --json
  npm run chaos -- --events 300 --keep            # then look at the state folder it prints`,
  )
  .exitOverride()
  .showHelpAfterError('(run with --help for usage)');

try {
  program.parse(process.argv);
} catch (error) {
  process.exit(error instanceof CommanderError && error.exitCode === 0 ? 0 : 2);
}

let options: ReturnType<typeof parseChaosOptions>;
try {
  options = parseChaosOptions(program.opts<RawChaosFlags>());
} catch (error) {
  if (!(error instanceof ChaosFlagError)) throw error;
  process.stderr.write(`chaos: ${error.message}\n`);
  process.exit(2);
}

// Ctrl-C: the exit handlers kill the runtime child.
process.once('SIGINT', () => process.exit(130));
process.once('SIGTERM', () => process.exit(143));

const started = Date.now();
const say = (line: string) =>
  process.stderr.write(
    `${String(Math.round((Date.now() - started) / 1000)).padStart(5)}s  ${line}\n`,
  );
try {
  const report = await runChaos(options, say);
  process.stdout.write(
    options.json
      ? `${JSON.stringify(report, null, 2)}\n`
      : `${formatChaosReport(report).join('\n')}\n`,
  );
  process.exitCode = report.ok ? 0 : 1;
} catch (error) {
  process.stderr.write(`chaos: the run could not finish: ${(error as Error).stack ?? error}\n`);
  process.exitCode = 1;
}
