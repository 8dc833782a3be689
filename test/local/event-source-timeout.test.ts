/**
 * A worker past its timeout, locally as in Lambda (issue 12): the invocation is stopped, so it
 * writes nothing after its retry; its batch comes back after the visibility timeout; the retry
 * runs in a fresh execution environment. And the runtime's clock can be compressed for a drill.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type BatchOutcome,
  type EventSourceMapping,
  startEventSource,
} from '../../local/event-source.ts';
import { handlerModule } from '../../local/execution-environment.ts';
import type { RuntimeLogLine } from '../../local/runtime.ts';
import { startLocalSqs } from '../../local/sqs/server.ts';
import { localSqsClient, startTestRuntime, waitFor } from '../support/local-runtime.ts';
import { type SleepyWorkerLine, handler as sleepyWorker } from './sleepy-worker.ts';

const SLEEPY_WORKER = handlerModule(new URL('./sleepy-worker.ts', import.meta.url));

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A fresh file the sleepy worker writes to, in this process and in its threads. */
function workerLog(): () => SleepyWorkerLine[] {
  const dir = mkdtempSync(join(tmpdir(), 'spine-sleepy-'));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'worker.log');
  vi.stubEnv('SLEEPY_WORKER_LOG', file);
  return () => {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return [];
    }
    return text
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line));
  };
}

async function localQueue(visibilityTimeoutSeconds: number) {
  const sqs = await startLocalSqs();
  cleanups.push(() => sqs.stop());
  const client = new SQSClient({
    endpoint: sqs.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
  });
  const { QueueUrl } = await client.send(
    new CreateQueueCommand({
      QueueName: 'flow',
      Attributes: { VisibilityTimeout: String(visibilityTimeoutSeconds) },
    }),
  );
  const send = async (order: object) =>
    (await client.send(new SendMessageCommand({ QueueUrl, MessageBody: JSON.stringify(order) })))
      .MessageId as string;
  return { client, queueUrl: QueueUrl as string, send };
}

/** One poller over the queue; each outcome is kept with the time it was reported. */
function worker(
  client: SQSClient,
  queueUrl: string,
  mapping: Pick<EventSourceMapping, 'handler' | 'timeoutSeconds'>,
) {
  const outcomes: (BatchOutcome & { reportedAt: number })[] = [];
  const source = startEventSource(
    client,
    {
      functionName: 'spine-local-worker-payments',
      queueUrl,
      queueArn: 'arn:aws:sqs:us-east-1:000000000000:flow',
      maximumConcurrency: 1,
      ...mapping,
    },
    (outcome) => outcomes.push({ ...outcome, reportedAt: Date.now() }),
  );
  cleanups.push(() => source.stop());
  return outcomes;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

describe('the local event source, when a worker reaches its timeout', { timeout: 60_000 }, () => {
  it('stops the invocation, so it does nothing more; its batch comes back after the visibility timeout and the retry starts cold', async () => {
    const log = workerLog();
    const queue = await localQueue(2);
    const messageId = await queue.send({ stallMs: 3_000 });
    const outcomes = worker(queue.client, queue.queueUrl, {
      handler: SLEEPY_WORKER,
      timeoutSeconds: 1,
    });

    const retry = await waitFor('the retry to succeed', async () =>
      outcomes.find((o) => o.failed.length === 0),
    );
    const [stopped] = outcomes;
    expect(stopped).toMatchObject({
      failed: [messageId],
      error: { message: 'Task timed out after 1 seconds' },
      timedOut: { timeoutSeconds: 1, stopped: true },
    });
    expect(retry.records.map((r) => r.messageId)).toEqual([messageId]);
    const [first, second, ...more] = log().filter((l) => l.at === 'start');
    expect(more).toEqual([]);
    expect(first?.receives).toEqual(['1']);
    expect(second?.receives).toEqual(['2']);
    expect(second?.environment).not.toBe(first?.environment);
    // The handler is told the time it has, as Lambda's context tells it.
    expect(first?.remainingMs).toBeGreaterThan(0);
    expect(first?.remainingMs).toBeLessThanOrEqual(1_000);

    // Give the stalled invocation the rest of its stall, and a second more, to show itself.
    await sleep((first?.ms ?? 0) + 3_000 + 1_000 - Date.now());
    const zombie = log().filter((l) => l.environment === first?.environment && l.at !== 'start');
    expect(zombie.filter((l) => l.at === 'after-stall')).toEqual([]);
    expect(zombie.filter((l) => l.ms >= (stopped as { reportedAt: number }).reportedAt)).toEqual(
      [],
    );
  });

  it('keeps an environment warm between invocations that end in time, a thrown error included', async () => {
    const log = workerLog();
    const queue = await localQueue(30);
    const outcomes = worker(queue.client, queue.queueUrl, {
      handler: SLEEPY_WORKER,
      timeoutSeconds: 5,
    });
    await queue.send({});
    await waitFor('the first batch', async () => outcomes.length === 1);
    const failing = await queue.send({ fail: 'Odoo said no' });
    const failed = await waitFor('the failing batch', async () => outcomes[1]);
    expect(failed).toMatchObject({ failed: [failing], error: { message: 'Odoo said no' } });
    expect(failed.timedOut).toBeUndefined();
    await queue.send({});
    await waitFor('the third batch', async () => outcomes.length === 3);
    const environments = new Set(log().map((l) => l.environment));
    expect(environments.size).toBe(1);
  });

  it('cannot stop a handler given as a function: its batch fails at the timeout, but its code runs on', async () => {
    const log = workerLog();
    const queue = await localQueue(30);
    await queue.send({ stallMs: 1_500 });
    const outcomes = worker(queue.client, queue.queueUrl, {
      handler: sleepyWorker,
      timeoutSeconds: 1,
    });
    const timedOut = await waitFor('the timeout', async () => outcomes[0]);
    expect(timedOut.timedOut).toEqual({ timeoutSeconds: 1, stopped: false });
    // The same observation that shows the threaded worker stopped sees this one run on.
    await waitFor('the stalled handler to carry on', async () =>
      log().some((l) => l.at === 'after-stall'),
    );
  });
});

describe('the runtime on a compressed clock', { timeout: 120_000 }, () => {
  it('stops a stalled worker at its timeout, delivers again after the visibility timeout, and dead-letters after maxReceiveCount receives', async () => {
    const log = workerLog();
    const lines: RuntimeLogLine[] = [];
    const runtime = await startTestRuntime({
      workerTimeoutSeconds: 1,
      visibilityTimeoutSeconds: 2,
      maxReceiveCount: 2,
      maximumConcurrency: 1,
      handlers: async () => ({
        receiver: (async () => ({ statusCode: 503, body: '' })) as never,
        worker: SLEEPY_WORKER,
      }),
      log: (line) => lines.push(line),
    });
    cleanups.push(() => runtime.dispose());
    expect(runtime.health()).toMatchObject({
      worker: { timeoutSeconds: 1, visibilityTimeoutSeconds: 2, maxReceiveCount: 2 },
    });
    const payments = runtime.flows.find((f) => f.name === 'payments');
    const sqs = localSqsClient(runtime);
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: payments?.queueUrl,
        MessageBody: JSON.stringify({ stallMs: 60_000, stallReceives: 2 }),
      }),
    );

    await waitFor('the event in the payments DLQ', async () => {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: payments?.deadLetterQueueUrl, WaitTimeSeconds: 1 }),
      );
      return Messages.length > 0;
    });
    const starts = log().filter((l) => l.at === 'start');
    expect(starts.map((l) => l.receives)).toEqual([['1'], ['2']]);
    expect(new Set(starts.map((l) => l.environment)).size).toBe(2);
    // The worker learns where its queue's redrive limit is.
    expect(starts.map((l) => l.maxReceiveCount)).toEqual(['2', '2']);
    const batches = lines.flatMap((l) => (l.kind === 'batch' ? [l.outcome] : []));
    expect(batches.map((b) => b.timedOut)).toEqual([
      { timeoutSeconds: 1, stopped: true },
      { timeoutSeconds: 1, stopped: true },
    ]);
    expect(log().filter((l) => l.at === 'after-stall')).toEqual([]);
  });

  it('refuses a visibility timeout shorter than the worker timeout, before starting anything', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spine-clock-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const dataDir = join(dir, 'state');
    await expect(
      startTestRuntime({ dataDir, workerTimeoutSeconds: 10, visibilityTimeoutSeconds: 5 }),
    ).rejects.toThrow(
      'visibilityTimeoutSeconds (5 s) must be at least workerTimeoutSeconds (10 s), as AWS requires',
    );
    expect(existsSync(dataDir)).toBe(false);
  });

  it('starts again over its state with another clock, and the flow queues take it', async () => {
    const first = await startTestRuntime();
    cleanups.push(async () => rmSync(first.dataDir, { recursive: true, force: true }));
    await first.stop();
    const second = await startTestRuntime({
      dataDir: first.dataDir,
      workerTimeoutSeconds: 5,
      visibilityTimeoutSeconds: 7,
      maxReceiveCount: 3,
    });
    cleanups.push(() => second.dispose());
    const { Attributes = {} } = await localSqsClient(second).send(
      new GetQueueAttributesCommand({
        QueueUrl: second.flows[0]?.queueUrl,
        AttributeNames: ['VisibilityTimeout', 'RedrivePolicy'],
      }),
    );
    expect(Attributes.VisibilityTimeout).toBe('7');
    expect(JSON.parse(Attributes.RedrivePolicy ?? '{}')).toMatchObject({ maxReceiveCount: 3 });
  });
});
