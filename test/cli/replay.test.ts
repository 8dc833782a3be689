/**
 * `spine replay` and `spine reconcile` against a spine local on a port of its own, found with
 * --gateway only (no PORT, no SPINE_GATEWAY_URL), and their answers when there is none.
 */
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFixture } from '../support/fixtures.ts';
import { sendFixture, startTestRuntime, waitFor } from '../support/local-runtime.ts';
import { closedPort, runSpine } from './run-spine.ts';

type Runtime = Awaited<ReturnType<typeof startTestRuntime>>;
let runtime: Runtime;

beforeAll(async () => {
  runtime = await startTestRuntime();
  const sqs = new SQSClient({
    endpoint: runtime.sqsUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
  });
  const payments = runtime.flows.find((f) => f.name === 'payments');
  if (!payments) throw new Error('no payments flow');
  // An authentic payment that breaks its contract: the receiver puts it in the DLQ.
  const payment = loadFixture('stripe/payment_intent.succeeded');
  await sendFixture(runtime, {
    ...payment,
    raw: payment.raw.replace('"currency": "eur"', '"currency": "euros"'),
  });
  await waitFor('the dead letter', async () => {
    const { Attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: payments.deadLetterQueueUrl,
        AttributeNames: ['ApproximateNumberOfMessages'],
      }),
    );
    return Attributes.ApproximateNumberOfMessages === '1';
  });
}, 60_000);
afterAll(() => runtime.dispose());

describe('spine replay', { timeout: 60_000 }, () => {
  it('finds the spine local given by --gateway and, in a dry run, says "would replay" turn by turn', async () => {
    const run = await runSpine([
      'replay',
      '--flow',
      'payments',
      '--dry-run',
      '--gateway',
      runtime.gatewayUrl,
    ]);

    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const turns = run.stdout.split('\n').filter((line) => /^\s+turn \d+:/.test(line));
    expect(turns[0]).toBe('  turn 1: so far 1 would replay, 0 left alone, 0 would park');
    // Nothing but the command's own lines: no handler logs or metrics.
    expect(run.stdout).not.toContain('_aws');
    for (const line of turns) expect(line).not.toMatch(/replayed|parked/);
    expect(run.stdout).toContain('dry run: would replay 1 from the payments DLQ');
  });

  it('says how to start a spine local, or which flag finds one, when none answers', async () => {
    const port = await closedPort();
    const run = await runSpine([
      'replay',
      '--flow',
      'payments',
      '--gateway',
      `http://127.0.0.1:${port}`,
    ]);

    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(`no spine local answers at http://127.0.0.1:${port}`);
    expect(run.stderr).toContain('start it with `npm start`');
    expect(run.stderr).toContain('--gateway <url>');
    expect(run.stderr).toContain('--env <name>');
  });

  it('documents --gateway, --env and what the time filters compare in --help', async () => {
    const run = await runSpine(['replay', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/--gateway <url>\s+the gateway of the running spine local/);
    expect(run.stdout).toContain('$SPINE_GATEWAY_URL, else');
    expect(run.stdout).toMatch(/--env <name>/);
    expect(run.stdout).toContain('SentTimestamp');
    expect(run.stdout).toContain('survives redrive');
  });

  it('refuses an --older-than that is not a time before it touches anything', async () => {
    const port = await closedPort();
    const run = await runSpine([
      'replay',
      '--flow',
      'payments',
      '--older-than',
      '5',
      '--gateway',
      `http://127.0.0.1:${port}`,
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--older-than must be an ISO 8601 date .*, got "5"/);
    expect(run.stderr).not.toContain('no spine local');
  });
});

describe('spine reconcile', { timeout: 60_000 }, () => {
  it('takes --gateway and --env, documented in --help', async () => {
    const run = await runSpine(['reconcile', '--help']);
    expect(run.stdout).toMatch(/--gateway <url>\s+the gateway of the running spine local/);
    expect(run.stdout).toMatch(/--env <name>\s+a deployed environment of cdk\.json/);
  });

  it('says how to start a spine local, or which flag finds one, when none answers', async () => {
    const port = await closedPort();
    const run = await runSpine(['reconcile', '--gateway', `http://127.0.0.1:${port}`]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(`no spine local answers at http://127.0.0.1:${port}`);
    expect(run.stderr).toContain('--gateway <url>');
    expect(run.stderr).toContain('--env <name>');
  });

  it('still takes --stage as the former name of --env, and names the known environments', async () => {
    for (const flag of ['--env', '--stage']) {
      const run = await runSpine(['reconcile', flag, 'nope']);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('unknown environment "nope"; cdk.json knows dev, prod, staging');
    }
  });

  it('refuses a day that is not on the calendar before it looks for a runtime', async () => {
    for (const day of ['2026-13-45', '2025-02-29', 'yesterday']) {
      const run = await runSpine(['reconcile', '--day', day]);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`--day takes a calendar date as YYYY-MM-DD, got "${day}"`);
      expect(run.stderr).not.toContain('no spine local');
    }
  });
});
