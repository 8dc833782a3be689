/** The worker's queue adapter against the local SQS, through the real AWS SDK client. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { SqsEnvelopeQueues } from '../../functions/platform/queues.ts';
import { type LocalSqs, startLocalSqs } from '../../local/sqs/server.ts';

let sqs: LocalSqs;
let client: SQSClient;
let dir: string;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'spine-queues-'));
  sqs = await startLocalSqs({ dataDir: dir });
  client = new SQSClient({
    endpoint: sqs.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
  });
});
afterEach(async () => {
  await sqs.stop();
  rmSync(dir, { recursive: true, force: true });
});

it('holds a failed message back for the time it must wait, instead of the visibility timeout', async () => {
  const { QueueUrl } = await client.send(
    new CreateQueueCommand({
      QueueName: 'spine-test-payments',
      Attributes: { VisibilityTimeout: '1' },
    }),
  );
  const queues = new SqsEnvelopeQueues(client, {
    payments: { queueUrl: QueueUrl as string, deadLetterQueueUrl: 'unused', fifo: false },
  });
  await client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'waits for a claim' }));
  const receive = async () =>
    (await client.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 0 }))).Messages ?? [];
  const [message] = await receive();
  await queues.delayRedelivery('arn:aws:sqs:us-east-1:000000000000:spine-test-payments', [
    { receiptHandle: message?.ReceiptHandle as string, seconds: 30 },
  ]);
  // Past the queue's own visibility timeout, the message is still held back.
  await sleep(1_500);
  expect(await receive()).toEqual([]);
});
