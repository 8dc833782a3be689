/**
 * `spine replay --env <name>` with the real @aws-sdk/client-sfn, pointed by
 * AWS_ENDPOINT_URL_SFN at a small Step Functions endpoint that speaks AWS JSON 1.0, records
 * each call and answers as AWS does.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runSpine } from './run-spine.ts';

interface Call {
  readonly target: string;
  readonly body: Record<string, unknown>;
  /** The SigV4 credential scope: date/region/service/aws4_request. */
  readonly scope: string;
}

interface Execution {
  /** What each DescribeExecution answers, in turn; the last one sticks. */
  readonly statuses: readonly Record<string, unknown>[];
  /** The turn outputs the history holds after each DescribeExecution. */
  readonly turnsSeen: readonly (readonly Record<string, unknown>[])[];
}

let server: Server;
let endpoint: string;
let calls: Call[] = [];
let script: Execution;

function historyEvents(turns: readonly Record<string, unknown>[]) {
  const epoch = 1_795_334_400;
  const events: Record<string, unknown>[] = [
    { id: 1, previousEventId: 0, timestamp: epoch, type: 'ExecutionStarted' },
  ];
  for (const totals of turns) {
    const id = events.length + 1;
    events.push(
      { id, previousEventId: id - 1, timestamp: epoch, type: 'TaskStateEntered' },
      { id: id + 1, previousEventId: id, timestamp: epoch, type: 'LambdaFunctionScheduled' },
      {
        id: id + 2,
        previousEventId: id + 1,
        timestamp: epoch,
        type: 'LambdaFunctionSucceeded',
        lambdaFunctionSucceededEventDetails: {
          output: JSON.stringify({ config: { flow: 'payments' }, totals, hidden: [], done: false }),
        },
      },
    );
  }
  return events;
}

beforeAll(async () => {
  let described = 0;
  const started = new Map<string, string>();
  server = createServer((request, response) => {
    let raw = '';
    request.on('data', (chunk) => (raw += chunk));
    request.on('end', () => {
      const target = String(request.headers['x-amz-target']).replace('AWSStepFunctions.', '');
      const body = JSON.parse(raw || '{}') as Record<string, unknown>;
      const scope = /Credential=[^/]+\/([^,]+)/.exec(String(request.headers.authorization))?.[1];
      calls.push({ target, body, scope: scope ?? '' });
      const answer = (status: number, value: unknown) => {
        response.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
        response.end(JSON.stringify(value));
      };
      if (target === 'StartExecution' && String(body.stateMachineArn).includes(':222222222222:'))
        return answer(400, {
          __type: 'StateMachineDoesNotExist',
          message: `State Machine Does Not Exist: '${body.stateMachineArn}'`,
        });
      if (target === 'StartExecution') {
        described = 0;
        const executionArn = `${String(body.stateMachineArn).replace(':stateMachine:', ':execution:')}:${body.name}`;
        started.set(executionArn, String(body.stateMachineArn));
        return answer(200, { executionArn, startDate: 1_795_334_400 });
      }
      const executionArn = String(body.executionArn);
      const stateMachineArn = started.get(executionArn);
      if (!stateMachineArn)
        return answer(400, {
          __type: 'ExecutionDoesNotExist',
          message: `Execution Does Not Exist: '${executionArn}'`,
        });
      if (target === 'DescribeExecution') {
        const at = Math.min(described++, script.statuses.length - 1);
        return answer(200, {
          executionArn,
          stateMachineArn,
          startDate: 1_795_334_400,
          ...script.statuses[at],
        });
      }
      if (target === 'GetExecutionHistory') {
        const turns = script.turnsSeen[Math.min(described - 1, script.turnsSeen.length - 1)] ?? [];
        const events = historyEvents(turns);
        return answer(200, { events: body.reverseOrder ? events.reverse() : events });
      }
      return answer(400, { __type: 'UnknownOperationException', message: target });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));
beforeEach(() => {
  calls = [];
});

const aws = () => ({
  AWS_ENDPOINT_URL_SFN: endpoint,
  AWS_ACCESS_KEY_ID: 'AKIDTEST',
  AWS_SECRET_ACCESS_KEY: 'secret',
});

describe('spine replay --env', { timeout: 60_000 }, () => {
  it('starts spine-<env>-replay in the environment account and region with the local input, shows each turn, and prints the result', async () => {
    script = {
      statuses: [
        { status: 'RUNNING' },
        { status: 'RUNNING' },
        {
          status: 'SUCCEEDED',
          output: JSON.stringify({
            replayed: 2,
            skipped: 1,
            parked: 0,
            remaining: 1,
            dryRun: true,
          }),
        },
      ],
      turnsSeen: [
        [{ replayed: 1, skipped: 0, parked: 0 }],
        [{ replayed: 1, skipped: 0, parked: 0 }],
        [
          { replayed: 1, skipped: 0, parked: 0 },
          { replayed: 2, skipped: 1, parked: 0 },
        ],
      ],
    };

    const run = await runSpine(
      [
        'replay',
        '--env',
        'dev',
        '--flow',
        'payments',
        '--type',
        'charge.refunded',
        '--older-than',
        '2026-11-22',
        '--max',
        '5',
        '--dry-run',
      ],
      aws(),
    );

    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const start = calls.find((c) => c.target === 'StartExecution');
    expect(start?.body.stateMachineArn).toBe(
      'arn:aws:states:eu-west-1:111111111111:stateMachine:spine-dev-replay',
    );
    expect(JSON.parse(String(start?.body.input))).toEqual({
      flow: 'payments',
      max: 5,
      filter: { type: 'charge.refunded', olderThan: '2026-11-22T00:00:00.000Z' },
      dryRun: true,
    });
    expect(calls.filter((c) => c.target === 'DescribeExecution')).toHaveLength(3);
    // Signed for the environment's region from cdk.json, with the default credential chain.
    expect(calls.every((c) => /^\d{8}\/eu-west-1\/states\/aws4_request$/.test(c.scope))).toBe(true);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toMatch(
      /^started arn:aws:states:eu-west-1:111111111111:execution:spine-dev-replay:payments-/,
    );
    expect(lines.filter((l) => /^\s+turn/.test(l))).toEqual([
      '  turn 1: so far 1 would replay, 0 left alone, 0 would park',
      '  turn 2: so far 2 would replay, 1 left alone, 0 would park',
    ]);
    expect(run.stdout).toContain(
      'dry run: would replay 2 from the payments DLQ; 1 did not match and stay; 0 would be parked; 1 remain in the DLQ',
    );
  });

  it('prints the result as JSON with --json', async () => {
    script = {
      statuses: [
        {
          status: 'SUCCEEDED',
          output: JSON.stringify({
            replayed: 4,
            skipped: 0,
            parked: 1,
            remaining: 0,
            dryRun: false,
          }),
        },
      ],
      turnsSeen: [[{ replayed: 4, skipped: 0, parked: 1 }]],
    };
    const run = await runSpine(['replay', '--env', 'prod', '--flow', 'orders', '--json'], aws());
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(result).toMatchObject({
      flow: 'orders',
      env: 'prod',
      input: { flow: 'orders' },
      replayed: 4,
      skipped: 0,
      parked: 1,
      remaining: 0,
    });
    expect(String(result.executionArn)).toMatch(
      /^arn:aws:states:eu-west-1:333333333333:execution:spine-prod-replay:orders-/,
    );
    expect(calls.find((c) => c.target === 'StartExecution')?.body.stateMachineArn).toBe(
      'arn:aws:states:eu-west-1:333333333333:stateMachine:spine-prod-replay',
    );
  });

  it('exits 1 with the execution error, its cause and the console address when the execution fails', async () => {
    script = {
      statuses: [
        {
          status: 'FAILED',
          error: 'ReplayInputError',
          cause: JSON.stringify({
            errorType: 'ReplayInputError',
            errorMessage: 'filter.olderThan must be an ISO 8601 date, got "garbage"',
            trace: [],
          }),
        },
      ],
      turnsSeen: [[]],
    };
    const run = await runSpine(['replay', '--env', 'dev', '--flow', 'payments'], aws());
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      'the replay execution ended FAILED: ReplayInputError: filter.olderThan must be an ISO 8601 date, got "garbage"',
    );
    expect(run.stderr).toMatch(
      /https:\/\/eu-west-1\.console\.aws\.amazon\.com\/states\/home\?region=eu-west-1#\/v2\/executions\/details\/arn:aws:states:eu-west-1:111111111111:execution:spine-dev-replay:payments-/,
    );
  });

  it('names the environments cdk.json knows when --env is not one, and starts nothing', async () => {
    const run = await runSpine(['replay', '--env', 'qa', '--flow', 'payments'], aws());
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('unknown environment "qa"; cdk.json knows dev, prod, staging');
    expect(calls).toEqual([]);
  });

  it('says to deploy first when the environment has no replay state machine yet', async () => {
    // The fake answers StateMachineDoesNotExist for staging's account, as AWS does before a deploy.
    const run = await runSpine(['replay', '--env', 'staging', '--flow', 'payments'], aws());
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(
      'arn:aws:states:eu-west-1:222222222222:stateMachine:spine-staging-replay does not exist: deploy the environment first (`npx cdk deploy -c env=staging --all`)',
    );
  });

  it('says how to give credentials when there are none', async () => {
    const run = await runSpine(['replay', '--env', 'dev', '--flow', 'payments'], {
      AWS_ENDPOINT_URL_SFN: endpoint,
      AWS_CONFIG_FILE: '/nonexistent',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
      AWS_SESSION_TOKEN: '',
    });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('no AWS credentials for dev (account 111111111111, eu-west-1)');
    expect(calls).toEqual([]);
  });
});
