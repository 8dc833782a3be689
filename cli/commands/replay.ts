/**
 * `spine replay`: moves a flow's dead letters back onto its queue through the replay state
 * machine, run locally against `spine local`, or started and followed in AWS with --env.
 */
import type { Command } from 'commander';
import { parseFilterTime } from '../../functions/replay/filter-time.ts';
import type { ReplayOutcome, ReplayTotals } from '../../functions/replay/replay.ts';
import { findProjectRoot } from '../contracts/project.ts';
import {
  defaultGatewayUrl,
  GATEWAY_OPTION_HELP,
  type LocalHealth,
  readLocalHealth,
} from '../local-runtime.ts';
import { printError, printLine } from './output.ts';

interface ReplayOptions {
  flow: string;
  type?: string;
  contract?: string;
  reason?: string;
  olderThan?: string;
  newerThan?: string;
  dryRun?: boolean;
  max?: string;
  maxReplays?: string;
  rate?: string;
  json?: boolean;
  gateway?: string;
  env?: string;
}

function positiveInteger(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) <= 0)
    throw new Error(`${name} takes a positive whole number, got "${value}"`);
  return Number(value);
}

/** An absolute time goes to the run as ISO 8601; a duration (2h) is counted back from the run's start. */
function filterTime(value: string | undefined, name: string): string | undefined {
  if (value === undefined) return undefined;
  const at = parseFilterTime(value, Date.now(), name);
  return /^\d+[mhdw]$/.test(value) ? value : new Date(at).toISOString();
}

/** The execution input, the same locally and in AWS: only what differs from the defaults. */
function replayInput(options: ReplayOptions): Record<string, unknown> {
  const filter = Object.fromEntries(
    Object.entries({
      type: options.type,
      contract: options.contract,
      reason: options.reason,
      olderThan: filterTime(options.olderThan, '--older-than'),
      newerThan: filterTime(options.newerThan, '--newer-than'),
    }).filter(([, v]) => v !== undefined),
  );
  const max = positiveInteger(options.max, '--max');
  const maxReplays = positiveInteger(options.maxReplays, '--max-replays');
  const rate = positiveInteger(options.rate, '--rate');
  return {
    flow: options.flow,
    ...(max !== undefined ? { max } : {}),
    ...(maxReplays !== undefined ? { maxReplays } : {}),
    ...(Object.keys(filter).length > 0 ? { filter } : {}),
    ...(options.dryRun ? { dryRun: true } : {}),
    ...(rate !== undefined ? { ratePerSecond: rate } : {}),
  };
}

function progressLine(turn: number, totals: ReplayTotals, dryRun: boolean): string {
  return dryRun
    ? `  turn ${turn}: so far ${totals.replayed} would replay, ${totals.skipped} left alone, ${totals.parked} would park`
    : `  turn ${turn}: so far ${totals.replayed} replayed, ${totals.skipped} left alone, ${totals.parked} parked`;
}

function printOutcome(flow: string, result: ReplayOutcome, dryRun: boolean): void {
  printLine(
    `${dryRun ? 'dry run: would replay' : 'replayed'} ${result.replayed} from the ${flow} DLQ; ${result.skipped} did not match and stay; ${result.parked} ${dryRun ? 'would be' : 'were'} parked; ${result.remaining} remain in the DLQ`,
  );
  if (result.stopped) printLine(result.stopped);
}

async function replayLocally(
  options: ReplayOptions,
  input: Record<string, unknown>,
): Promise<ReplayOutcome> {
  const health: LocalHealth = await readLocalHealth(
    options.gateway ?? defaultGatewayUrl(),
    ', or pass --env <name> to replay in a deployed environment',
  );
  if (!health.flows.some((f) => f.name === options.flow)) {
    throw new Error(
      `unknown flow "${options.flow}"; the flows are ${health.flows.map((f) => f.name).join(', ')}`,
    );
  }
  const names = await import('../../functions/platform/names.ts');
  // The replay handler is Lambda code: it finds the local endpoints the way it finds AWS's.
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_SQS: health.sqs,
    AWS_ENDPOINT_URL_DYNAMODB: health.dynamodb,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: health.secretsmanager,
    SPINE_STAGE: 'local',
    SPINE_FLOWS: JSON.stringify(Object.fromEntries(health.flows.map((f) => [f.name, f]))),
    SPINE_IDEMPOTENCY_TABLE: names.idempotencyTableName('local'),
    SPINE_LINEAGE_TABLE: names.lineageTableName('local'),
    SPINE_ODOO_SECRET: names.odooSecretName('local'),
    SPINE_REDACTION_SECRET: names.redactionKeySecretName('local'),
    SPINE_WEBHOOK_SECRET_PREFIX: 'spine/local/webhooks/',
    POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'ERROR',
    // The turn function's CloudWatch metrics mean nothing here, and would land amid the output.
    POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED ?? 'true',
  });
  const { runReplayLocally } = await import('../../local/replay.ts');
  return runReplayLocally({
    flows: health.flows,
    input,
    onProgress: (p) => {
      if (!options.json) printLine(progressLine(p.turn, p.totals, Boolean(options.dryRun)));
    },
  });
}

async function replayInAws(
  options: ReplayOptions & { env: string },
  input: Record<string, unknown>,
  root: string,
): Promise<(ReplayOutcome & { executionArn: string }) | undefined> {
  const [{ readDeployedEnvironment }, { ReplayExecutionFailed, runReplayInAws }] =
    await Promise.all([import('../deployed-environment.ts'), import('../replay/aws-execution.ts')]);
  // First: it says so when the contracts are not compiled.
  const environment = await readDeployedEnvironment(root, options.env);
  const { compiledRegistry } = await import('../../functions/contracts/compiled/registry.ts');
  const flows = compiledRegistry.flows.map((f) => f.name);
  if (!flows.includes(options.flow))
    throw new Error(`unknown flow "${options.flow}"; the flows are ${flows.join(', ')}`);
  try {
    return await runReplayInAws({
      environment,
      input,
      onStarted: ({ executionArn, consoleUrl }) => {
        if (options.json) return;
        printLine(`started ${executionArn}`);
        printLine(`  ${consoleUrl}`);
      },
      onProgress: (p) => {
        if (!options.json) printLine(progressLine(p.turn, p.totals, Boolean(options.dryRun)));
      },
    });
  } catch (error) {
    if (!(error instanceof ReplayExecutionFailed)) throw error;
    printError(`spine: ${error.message}`);
    printError(`  ${error.consoleUrl}`);
    process.exitCode = 1;
    return undefined;
  }
}

export function registerReplayCommand(program: Command): void {
  program
    .command('replay')
    .description(
      "replay a flow's dead-letter queue into the flow through the replay state machine: locally against spine local, or in AWS with --env",
    )
    .requiredOption(
      '--flow <name>',
      'the flow whose DLQ to replay (customers, orders, payments, ...)',
    )
    .option('--type <event type>', 'only events of this vendor type, e.g. payment_intent.succeeded')
    .option('--contract <id>', 'only events of this contract (id or id@version)')
    .option(
      '--reason <reason>',
      'only dead letters with this reason (contract-violation, relation-not-found, max-receives, ...)',
    )
    .option(
      '--older-than <time>',
      'only messages first sent before this time (SQS SentTimestamp; see below)',
    )
    .option('--newer-than <time>', 'only messages first sent after this time (SentTimestamp)')
    .option('--dry-run', 'count what would be replayed or parked, change nothing')
    .option('--max <n>', 'replay at most this many events (default 1000)')
    .option('--max-replays <n>', 'park events replayed this many times already (default 3)')
    .option(
      '--rate <per second>',
      'send at most this many events per second back to the flow (default: as fast as the flow takes them)',
    )
    .option('--gateway <url>', GATEWAY_OPTION_HELP)
    .option(
      '--env <name>',
      'replay in this deployed environment of cdk.json (dev, staging, prod): StartExecution of spine-<env>-replay, followed until it ends',
    )
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
Without --env it runs the state machine against the running \`spine local\` (start it with
\`npm start\`; --gateway finds one on another port). With --env it starts the execution in
AWS with credentials from the default AWS provider chain (AWS_PROFILE, SSO, ...) and shows
each turn's progress until it ends; it exits 1 if the execution fails.

Replayed events go back onto the flow queue with their replay count + 1 and a "replayed"
lineage entry; the worker's idempotency makes replaying an event that was in fact applied a
no-op. A run takes only the dead letters that were in the DLQ when it started, each at most
once: an event that fails again waits for the next run. Dead letters that do not match the
filter stay in the DLQ. Events past --max-replays are moved to the parking queue.

--older-than and --newer-than compare the time the message was first sent (SQS
SentTimestamp). For a standard queue it survives redrive, so it is when the event entered the
flow; for a letter the receiver or the worker sent to the DLQ, or a FIFO redrive, it is when
it reached the DLQ. They take an ISO 8601 date (2026-11-22, midnight UTC) or date-time with
its offset (2026-11-22T08:00:00Z), or a duration back from now (30m, 2h, 3d, 1w).

Examples:
  spine replay --flow payments --dry-run
  spine replay --flow payments --reason relation-not-found
  spine replay --flow customers --type customer.updated --older-than 2026-11-22T00:00:00Z --json
  spine replay --flow payments --older-than 2h --gateway http://127.0.0.1:4000
  spine replay --flow payments --env prod --dry-run`,
    )
    .action(async (options: ReplayOptions, command: Command) => {
      if (options.env && options.gateway)
        throw new Error(
          '--env replays in AWS and --gateway against a spine local; give one or the other',
        );
      const input = replayInput(options);
      const dryRun = Boolean(options.dryRun);
      if (options.env) {
        const root = command.optsWithGlobals<{ root?: string }>().root ?? findProjectRoot();
        const result = await replayInAws({ ...options, env: options.env }, input, root);
        if (!result) return;
        if (options.json)
          printLine(
            JSON.stringify({ flow: options.flow, env: options.env, input, ...result }, null, 2),
          );
        else printOutcome(options.flow, result, dryRun);
        return;
      }
      const result = await replayLocally(options, input);
      if (options.json)
        printLine(JSON.stringify({ flow: options.flow, input, ...result }, null, 2));
      else printOutcome(options.flow, result, dryRun);
    });
}
