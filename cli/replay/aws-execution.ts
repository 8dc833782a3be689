/**
 * `spine replay --env <name>`: starts the deployed replay state machine (StartExecution) and
 * follows it, reading each turn's totals from the execution history, until it ends.
 */
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { ReplayOutcome, ReplayTotals } from '../../functions/replay/replay.ts';

export interface DeployedReplay {
  /** The environment name, which is also the stage in resource names. */
  readonly name: string;
  readonly account: string;
  readonly region: string;
}

export interface ReplayTurnProgress {
  readonly turn: number;
  readonly totals: ReplayTotals;
}

/** The execution ended in any way but SUCCEEDED. */
export class ReplayExecutionFailed extends Error {
  constructor(
    readonly status: string,
    readonly error: string,
    readonly errorCause: string,
    readonly consoleUrl: string,
  ) {
    super(`the replay execution ended ${status}: ${error}${errorCause ? `: ${errorCause}` : ''}`);
    this.name = 'ReplayExecutionFailed';
  }
}

function partition(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.includes('-gov-')) return 'aws-us-gov';
  return 'aws';
}

/** The name infra/constructs/replay-state-machine.ts gives it: `spine-<stage>-replay`. */
export function replayStateMachineArn(environment: DeployedReplay): string {
  return `arn:${partition(environment.region)}:states:${environment.region}:${environment.account}:stateMachine:spine-${environment.name}-replay`;
}

export function executionConsoleUrl(region: string, executionArn: string): string {
  return `https://${region}.console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/${executionArn}`;
}

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']);

/** A Lambda error's cause is its JSON report; the message is what a person needs. */
function readableCause(cause: string | undefined): string {
  if (!cause) return '';
  try {
    const report = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof report.errorMessage === 'string') return report.errorMessage;
  } catch {
    // a plain text cause
  }
  return cause;
}

/** The totals a replay turn answered, from a task's success event (Lambda resource or lambda:invoke). */
function turnTotals(event: HistoryEvent): ReplayTotals | undefined {
  const output =
    event.lambdaFunctionSucceededEventDetails?.output ?? event.taskSucceededEventDetails?.output;
  if (!output) return undefined;
  try {
    const parsed = JSON.parse(output) as {
      totals?: ReplayTotals;
      Payload?: { totals?: ReplayTotals };
    };
    return parsed.totals ?? parsed.Payload?.totals;
  } catch {
    return undefined;
  }
}

export async function runReplayInAws(options: {
  readonly environment: DeployedReplay;
  readonly input: Record<string, unknown>;
  readonly client?: SFNClient;
  /** @default 2000 */
  readonly pollIntervalMs?: number;
  readonly onStarted?: (execution: { executionArn: string; consoleUrl: string }) => void;
  readonly onProgress?: (progress: ReplayTurnProgress) => void;
}): Promise<ReplayOutcome & { executionArn: string; consoleUrl: string }> {
  const { environment } = options;
  // Credentials from the default provider chain; AWS_ENDPOINT_URL_SFN points it elsewhere.
  const client = options.client ?? new SFNClient({ region: environment.region });
  const flow = typeof options.input.flow === 'string' ? options.input.flow : 'replay';
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const suffix = Math.random().toString(16).slice(2, 6);
  const stateMachineArn = replayStateMachineArn(environment);
  const { executionArn } = await client
    .send(
      new StartExecutionCommand({
        stateMachineArn,
        name: `${flow}-${stamp}-${suffix}`.slice(0, 80),
        input: JSON.stringify(options.input),
      }),
    )
    .catch((error: Error) => {
      throw new Error(startFailure(error, environment, stateMachineArn));
    });
  if (!executionArn) throw new Error('StartExecution answered without an execution ARN');
  const consoleUrl = executionConsoleUrl(environment.region, executionArn);
  options.onStarted?.({ executionArn, consoleUrl });

  let lastEventId = 0;
  let turn = 0;
  /** Reads the events after `lastEventId`, newest first, only as far back as needed. */
  const readNewEvents = async () => {
    const fresh: HistoryEvent[] = [];
    let nextToken: string | undefined;
    do {
      const page = await client.send(
        new GetExecutionHistoryCommand({
          executionArn,
          reverseOrder: true,
          maxResults: 1000,
          includeExecutionData: true,
          ...(nextToken ? { nextToken } : {}),
        }),
      );
      const events = page.events ?? [];
      const older = events.findIndex((e) => (e.id ?? 0) <= lastEventId);
      fresh.push(...(older >= 0 ? events.slice(0, older) : events));
      nextToken = older >= 0 ? undefined : page.nextToken;
    } while (nextToken);
    fresh.sort((a, b) => (a.id ?? 0) - (b.id ?? 0));
    for (const event of fresh) {
      lastEventId = Math.max(lastEventId, event.id ?? 0);
      const totals = turnTotals(event);
      if (totals) options.onProgress?.({ turn: ++turn, totals });
    }
  };

  const interval = options.pollIntervalMs ?? 2000;
  let described: DescribeExecutionCommandOutput;
  for (;;) {
    described = await client.send(new DescribeExecutionCommand({ executionArn }));
    await readNewEvents();
    if (TERMINAL.has(String(described.status))) break;
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
  if (described.status !== 'SUCCEEDED') {
    throw new ReplayExecutionFailed(
      String(described.status),
      described.error ?? 'no error given',
      readableCause(described.cause),
      consoleUrl,
    );
  }
  const outcome = JSON.parse(described.output ?? '{}') as ReplayOutcome;
  return { ...outcome, executionArn, consoleUrl };
}

/** Why StartExecution failed, and what to do about it, in the operator's words. */
function startFailure(
  error: Error,
  environment: { name: string; account: string; region: string },
  stateMachineArn: string,
): string {
  switch (error.name) {
    case 'CredentialsProviderError':
      return `no AWS credentials for ${environment.name} (account ${environment.account}, ${environment.region}): set AWS_PROFILE, run \`aws sso login\`, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`;
    case 'StateMachineDoesNotExist':
      return `${stateMachineArn} does not exist: deploy the environment first (\`npx cdk deploy -c env=${environment.name} --all\`), or check the account and region in cdk.json`;
    case 'AccessDeniedException':
    case 'UnrecognizedClientException':
      return `AWS refused StartExecution on ${stateMachineArn} (${error.name}): the credentials in use need states:StartExecution, states:DescribeExecution and states:GetExecutionHistory on it, in account ${environment.account}`;
    default:
      return `StartExecution on ${stateMachineArn} failed: ${error.name}: ${error.message}`;
  }
}
