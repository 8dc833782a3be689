import { fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListMessageMoveTasksCommand,
  ListQueuesCommand,
  type MessageSystemAttributeName,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { Consumer } from 'sqs-consumer';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type LocalSqs, startLocalSqs } from '../../local/sqs/server.ts';
import { QueueStore } from '../../local/sqs/store.ts';

let sqs: LocalSqs;
let client: SQSClient;

/** The first message a receive returns, with the system attributes asked for. */
async function receiveOne(
  QueueUrl: string | undefined,
  attributes: MessageSystemAttributeName[] = ['ApproximateReceiveCount'],
) {
  const { Messages = [] } = await client.send(
    new ReceiveMessageCommand({ QueueUrl, MessageSystemAttributeNames: attributes }),
  );
  return Messages[0];
}
let dir: string;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'spine-sqs-'));
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

const arn = (name: string) => `arn:aws:sqs:us-east-1:000000000000:${name}`;

async function raw(target: string, body: string) {
  const response = await fetch(sqs.url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-amz-json-1.0', 'X-Amz-Target': target },
    body,
  });
  return {
    status: response.status,
    body: (await response.json()) as { __type?: string; message?: string },
    queryError: response.headers.get('x-amzn-query-error'),
  };
}

describe('local SQS with @aws-sdk/client-sqs', () => {
  it('creates, finds and lists queues, and reports their attributes', async () => {
    const { QueueUrl } = await client.send(
      new CreateQueueCommand({ QueueName: 'orders', Attributes: { VisibilityTimeout: '45' } }),
    );
    expect((await client.send(new GetQueueUrlCommand({ QueueName: 'orders' }))).QueueUrl).toBe(
      QueueUrl,
    );
    expect(
      (await client.send(new ListQueuesCommand({ QueueNamePrefix: 'ord' }))).QueueUrls,
    ).toEqual([QueueUrl]);
    await client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'one' }));
    const { Attributes } = await client.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }),
    );
    expect(Attributes).toMatchObject({
      VisibilityTimeout: '45',
      ApproximateNumberOfMessages: '1',
      QueueArn: arn('orders'),
    });
  });

  it('sends, receives with system and message attributes, hides in-flight messages, and deletes', async () => {
    const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: 'q' }));
    const sent = await client.send(
      new SendMessageCommand({
        QueueUrl,
        MessageBody: '{"hello":"world"}',
        MessageAttributes: {
          source: { DataType: 'String', StringValue: 'stripe' },
          n: { DataType: 'Number', StringValue: '3' },
        },
      }),
    );
    expect(sent.MD5OfMessageBody).toBe(createHash('md5').update('{"hello":"world"}').digest('hex'));
    const [message] =
      (
        await client.send(
          new ReceiveMessageCommand({
            QueueUrl,
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
        )
      ).Messages ?? [];
    expect(message).toMatchObject({
      MessageId: sent.MessageId,
      Body: '{"hello":"world"}',
      MD5OfMessageAttributes: sent.MD5OfMessageAttributes,
    });
    expect(message?.Attributes).toMatchObject({
      ApproximateReceiveCount: '1',
      SentTimestamp: expect.any(String),
      ApproximateFirstReceiveTimestamp: expect.any(String),
    });
    expect(message?.MessageAttributes?.source).toEqual({
      DataType: 'String',
      StringValue: 'stripe',
    });
    expect((await client.send(new ReceiveMessageCommand({ QueueUrl }))).Messages ?? []).toEqual([]);
    await client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl,
        ReceiptHandle: message?.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
    const again = await receiveOne(QueueUrl);
    expect(again?.Attributes?.ApproximateReceiveCount).toBe('2');
    // The first receipt handle is stale now: accepted, but it deletes nothing.
    await client.send(
      new DeleteMessageCommand({ QueueUrl, ReceiptHandle: message?.ReceiptHandle }),
    );
    expect(
      (
        await client.send(
          new GetQueueAttributesCommand({
            QueueUrl,
            AttributeNames: ['ApproximateNumberOfMessagesNotVisible'],
          }),
        )
      ).Attributes?.ApproximateNumberOfMessagesNotVisible,
    ).toBe('1');
    await client.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: again?.ReceiptHandle }));
    expect(
      (await client.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] })))
        .Attributes,
    ).toMatchObject({
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '0',
    });
  });

  it('wakes a long poll when a message arrives', async () => {
    const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: 'waiting' }));
    const poll = client.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 10 }));
    await new Promise((r) => setTimeout(r, 50));
    await client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'late' }));
    expect((await poll).Messages?.map((m) => m.Body)).toEqual(['late']);
  });

  it('moves a message to the dead-letter queue after maxReceiveCount, naming its source', async () => {
    const dlq = await client.send(
      new CreateQueueCommand({
        QueueName: 'work-dlq',
        Attributes: {
          RedriveAllowPolicy: JSON.stringify({
            redrivePermission: 'byQueue',
            sourceQueueArns: [arn('work')],
          }),
        },
      }),
    );
    const { QueueUrl } = await client.send(
      new CreateQueueCommand({
        QueueName: 'work',
        Attributes: {
          VisibilityTimeout: '0',
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: arn('work-dlq'),
            maxReceiveCount: 3,
          }),
        },
      }),
    );
    await client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'poison' }));
    for (let i = 1; i <= 3; i++) {
      const received = await client.send(
        new ReceiveMessageCommand({
          QueueUrl,
          MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        }),
      );
      expect(received.Messages?.[0]?.Attributes?.ApproximateReceiveCount).toBe(String(i));
    }
    expect((await client.send(new ReceiveMessageCommand({ QueueUrl }))).Messages ?? []).toEqual([]);
    const dead = await receiveOne(dlq.QueueUrl, ['All']);
    expect(dead?.Body).toBe('poison');
    expect(dead?.Attributes?.DeadLetterQueueSourceArn).toBe(arn('work'));
    // A queue the DLQ does not allow cannot use it.
    await expect(
      client.send(
        new CreateQueueCommand({
          QueueName: 'other',
          Attributes: {
            RedrivePolicy: JSON.stringify({
              deadLetterTargetArn: arn('work-dlq'),
              maxReceiveCount: 3,
            }),
          },
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidAttributeValue' });
  });

  it('moves dead letters back to their source with a message move task', async () => {
    await client.send(new CreateQueueCommand({ QueueName: 'src-dlq' }));
    const { QueueUrl } = await client.send(
      new CreateQueueCommand({
        QueueName: 'src',
        Attributes: {
          VisibilityTimeout: '0',
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: arn('src-dlq'),
            maxReceiveCount: 1,
          }),
        },
      }),
    );
    await client.send(
      new SendMessageBatchCommand({
        QueueUrl,
        Entries: [
          { Id: 'a', MessageBody: 'a' },
          { Id: 'b', MessageBody: 'b' },
        ],
      }),
    );
    await client.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }));
    await client.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }));
    await client.send(new StartMessageMoveTaskCommand({ SourceArn: arn('src-dlq') }));
    let status: string | undefined;
    for (let i = 0; i < 50 && status !== 'COMPLETED'; i++) {
      status = (await client.send(new ListMessageMoveTasksCommand({ SourceArn: arn('src-dlq') })))
        .Results?.[0]?.Status;
      await new Promise((r) => setTimeout(r, 20));
    }
    const [task] =
      (await client.send(new ListMessageMoveTasksCommand({ SourceArn: arn('src-dlq') }))).Results ??
      [];
    expect(task).toMatchObject({ Status: 'COMPLETED', ApproximateNumberOfMessagesMoved: 2 });
    const back = await client.send(
      new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }),
    );
    expect(back.Messages?.map((m) => m.Body).sort()).toEqual(['a', 'b']);
  });

  it('keeps FIFO order per group, holds a group while a message is in flight, and deduplicates for five minutes', async () => {
    const { QueueUrl } = await client.send(
      new CreateQueueCommand({
        QueueName: 'flow.fifo',
        Attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'true' },
      }),
    );
    const send = (body: string, group: string, dedup?: string) =>
      client.send(
        new SendMessageCommand({
          QueueUrl,
          MessageBody: body,
          MessageGroupId: group,
          ...(dedup ? { MessageDeduplicationId: dedup } : {}),
        }),
      );
    const first = await send('a1', 'a', 'evt-1');
    await send('b1', 'b');
    await send('a2', 'a');
    const duplicate = await send('a1-retry', 'a', 'evt-1');
    expect(duplicate.MessageId).toBe(first.MessageId);
    expect(duplicate.SequenceNumber).toBe(first.SequenceNumber);
    await send('b1', 'b'); // same body: content-based deduplication drops it

    const one = await client.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 1 }));
    expect(one.Messages?.map((m) => m.Body)).toEqual(['a1']);
    // Group a is held while a1 is in flight; b is free.
    const next = await client.send(
      new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }),
    );
    expect(next.Messages?.map((m) => m.Body)).toEqual(['b1']);
    await client.send(
      new DeleteMessageCommand({ QueueUrl, ReceiptHandle: one.Messages?.[0]?.ReceiptHandle }),
    );
    const last = await client.send(
      new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }),
    );
    expect(last.Messages?.map((m) => m.Body)).toEqual(['a2']);
  });

  it('answers bad requests in the AWS error shape and keeps serving', async () => {
    const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: 'strict' }));
    expect(await raw('AmazonSQS.Explode', '{}')).toMatchObject({
      status: 400,
      body: { __type: 'com.amazon.coral.service#UnknownOperationException' },
    });
    expect(await raw('AmazonSQS.SendMessage', '{"QueueUrl": ')).toMatchObject({
      status: 400,
      body: { __type: 'com.amazon.coral.service#SerializationException' },
    });
    expect(
      await raw(
        'AmazonSQS.ReceiveMessage',
        JSON.stringify({ QueueUrl, MaxNumberOfMessages: 'ten' }),
      ),
    ).toMatchObject({
      status: 400,
      body: { __type: 'com.amazon.coral.service#SerializationException' },
    });
    expect(
      await raw('AmazonSQS.ReceiveMessage', JSON.stringify({ QueueUrl, MaxNumberOfMessages: 11 })),
    ).toMatchObject({ status: 400, queryError: 'InvalidParameterValue;Sender' });
    await expect(
      client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'x'.repeat(262_145) })),
    ).rejects.toMatchObject({
      name: 'InvalidParameterValue',
      message:
        'One or more parameters are invalid. Reason: Message must be shorter than 262144 bytes.',
    });
    await expect(
      client.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: 'not-a-handle' })),
    ).rejects.toMatchObject({ name: 'ReceiptHandleIsInvalid' });
    await expect(
      client.send(
        new SendMessageCommand({ QueueUrl: `${sqs.url}/000000000000/missing`, MessageBody: 'x' }),
      ),
    ).rejects.toMatchObject({ name: 'QueueDoesNotExist', $metadata: { httpStatusCode: 400 } });
    await expect(
      client.send(
        new SendMessageBatchCommand({
          QueueUrl,
          Entries: [
            { Id: 'a', MessageBody: 'x' },
            { Id: 'a', MessageBody: 'y' },
          ],
        }),
      ),
    ).rejects.toMatchObject({ name: 'BatchEntryIdsNotDistinct' });
    await client.send(new PurgeQueueCommand({ QueueUrl }));
    await expect(client.send(new PurgeQueueCommand({ QueueUrl }))).rejects.toMatchObject({
      name: 'PurgeQueueInProgress',
    });
    expect(
      (await client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'still here' })))
        .MessageId,
    ).toBeTruthy();
  });

  it('refuses malformed receive lists before taking a message, so the message stays available', async () => {
    const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: 'lists' }));
    await client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'keep me' }));
    for (const list of [
      { MessageAttributeNames: [null] },
      { AttributeNames: [1, 2] },
      { MessageSystemAttributeNames: [{}] },
    ]) {
      expect(
        await raw('AmazonSQS.ReceiveMessage', JSON.stringify({ QueueUrl, ...list })),
      ).toMatchObject({
        status: 400,
        body: { __type: 'com.amazon.coral.service#SerializationException' },
      });
    }
    const message = await receiveOne(QueueUrl);
    expect(message?.Body).toBe('keep me');
    expect(message?.Attributes?.ApproximateReceiveCount).toBe('1');
  });

  it('answers bad attribute values, tokens and batch entries as AWS does', async () => {
    const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: 'picky' }));
    expect(
      await raw(
        'AmazonSQS.SetQueueAttributes',
        JSON.stringify({ QueueUrl, Attributes: { RedrivePolicy: 'null' } }),
      ),
    ).toMatchObject({
      status: 400,
      body: { __type: 'com.amazonaws.sqs#InvalidAttributeValue' },
      queryError: 'InvalidAttributeValue;Sender',
    });
    expect(
      await raw(
        'AmazonSQS.SetQueueAttributes',
        JSON.stringify({
          QueueUrl,
          Attributes: { RedrivePolicy: '{"deadLetterTargetArn":5,"maxReceiveCount":3}' },
        }),
      ),
    ).toMatchObject({ status: 400, body: { __type: 'com.amazonaws.sqs#InvalidAttributeValue' } });
    await expect(
      client.send(new ListQueuesCommand({ NextToken: 'abc', MaxResults: 10 })),
    ).rejects.toMatchObject({
      name: 'InvalidParameterValue',
      message: 'Invalid NextToken value.',
      $metadata: { httpStatusCode: 400 },
    });
    expect(
      await raw(
        'AmazonSQS.SendMessage',
        JSON.stringify({
          QueueUrl,
          MessageBody: 'x',
          MessageAttributes: { sig: { DataType: 'Binary', BinaryValue: 'not base64!' } },
        }),
      ),
    ).toMatchObject({ status: 400, queryError: 'InvalidParameterValue;Sender' });
    await client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'm' }));
    const [message] = (await client.send(new ReceiveMessageCommand({ QueueUrl }))).Messages ?? [];
    const changed = await raw(
      'AmazonSQS.ChangeMessageVisibilityBatch',
      JSON.stringify({ QueueUrl, Entries: [{ Id: 'a', ReceiptHandle: message?.ReceiptHandle }] }),
    );
    expect(changed.body).toMatchObject({
      Successful: [],
      Failed: [{ Id: 'a', Code: 'MissingParameter', SenderFault: true }],
    });
    // The message stays in flight: nothing reset its visibility to 0.
    expect((await client.send(new ReceiveMessageCommand({ QueueUrl }))).Messages ?? []).toEqual([]);
    const ok = await client.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl,
        Entries: [{ Id: 'a', ReceiptHandle: message?.ReceiptHandle, VisibilityTimeout: 0 }],
      }),
    );
    expect(ok.Successful).toEqual([{ Id: 'a' }]);
  });

  it('answers an invalid receipt handle and a missing move-task resource with 404, as the SDK model says', async () => {
    const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: 'statuses' }));
    await expect(
      client.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: 'not-a-handle' })),
    ).rejects.toMatchObject({ name: 'ReceiptHandleIsInvalid', $metadata: { httpStatusCode: 404 } });
    for (const [target, input] of [
      ['AmazonSQS.StartMessageMoveTask', { SourceArn: arn('nowhere') }],
      ['AmazonSQS.ListMessageMoveTasks', { SourceArn: arn('nowhere') }],
      ['AmazonSQS.CancelMessageMoveTask', { TaskHandle: 'gone' }],
    ] as const) {
      expect(await raw(target, JSON.stringify(input))).toMatchObject({
        status: 404,
        body: { __type: 'com.amazonaws.sqs#ResourceNotFoundException' },
        queryError: 'ResourceNotFoundException;Sender',
      });
    }
  });

  it('hands no message to a long poll whose client has gone', async () => {
    const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: 'abandoned' }));
    const waiting = () => sqs.store.events.listenerCount('change');
    const poll = request(sqs.url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-amz-json-1.0',
        'X-Amz-Target': 'AmazonSQS.ReceiveMessage',
      },
    });
    poll.on('error', () => {});
    poll.end(JSON.stringify({ QueueUrl, WaitTimeSeconds: 10 }));
    while (waiting() === 0) await new Promise((r) => setTimeout(r, 10));
    await new Promise((resolve) => poll.destroy().once('close', resolve));
    // A full request on a new connection: by its answer the server has read the hang-up.
    await client.send(new ListQueuesCommand({}));
    await client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'for the living' }));
    const message = await receiveOne(QueueUrl);
    expect(message?.Body).toBe('for the living');
    expect(message?.Attributes?.ApproximateReceiveCount).toBe('1');
  });

  it('survives a client that announces a long body and hangs up', async () => {
    const socket = connect(sqs.port, '127.0.0.1');
    await new Promise<void>((resolve) =>
      socket.write(
        'POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: AmazonSQS.ListQueues\r\nContent-Length: 100000\r\n\r\n{"Qu',
        () => resolve(),
      ),
    );
    socket.destroy();
    expect((await client.send(new ListQueuesCommand({}))).QueueUrls ?? []).toEqual([]);
  });

  it('is consumed by sqs-consumer, a third-party consumer library', async () => {
    const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: 'consumed' }));
    for (let i = 0; i < 5; i++)
      await client.send(new SendMessageCommand({ QueueUrl, MessageBody: `m${i}` }));
    const seen: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const consumer = Consumer.create({
        queueUrl: QueueUrl as string,
        sqs: client,
        waitTimeSeconds: 1,
        batchSize: 3,
        handleMessage: async (message) => {
          seen.push(message.Body as string);
          if (seen.length === 5) setImmediate(() => consumer.stop());
          return message;
        },
      });
      consumer.on('error', reject);
      consumer.on('stopped', () => resolve());
      consumer.start();
    });
    expect(seen.sort()).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    await new Promise((r) => setTimeout(r, 100));
    expect(
      (await client.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] })))
        .Attributes,
    ).toMatchObject({
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '0',
    });
  });
});

describe('local SQS dead-lettering', () => {
  async function deadLetter(fifo: boolean) {
    let now = 1_000;
    const store = new QueueStore({ now: () => now });
    const suffix = fifo ? '.fifo' : '';
    const dlq = await store.createQueue(`dead${suffix}`, fifo ? { FifoQueue: 'true' } : {});
    const queue = await store.createQueue(`live${suffix}`, {
      ...(fifo ? { FifoQueue: 'true' } : {}),
      VisibilityTimeout: '0',
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arn(dlq.name), maxReceiveCount: 1 }),
    });
    await store.send(queue, {
      body: 'poison',
      ...(fifo ? { groupId: 'g', dedupId: 'd' } : {}),
    });
    now = 2_000;
    await store.receive(queue, { max: 1 });
    now = 3_000;
    await store.receive(queue, { max: 1 });
    const [dead] = await store.receive(dlq, { max: 1 });
    store.close();
    return dead?.message.sentAt;
  }

  it('keeps the original SentTimestamp of a standard queue message, so DLQ retention counts from the first send', async () => {
    expect(await deadLetter(false)).toBe(1_000);
  });

  it('restarts the SentTimestamp of a FIFO message when it reaches the DLQ', async () => {
    expect(await deadLetter(true)).toBe(3_000);
  });
});

describe('local SQS durability', () => {
  it('keeps every acknowledged send across kill -9 and a restart', async () => {
    await sqs.stop();
    const child = fork(new URL('./sqs-child.ts', import.meta.url).pathname, [dir], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    const url = await new Promise<string>((resolve) =>
      child.once('message', (m) => resolve(String(m))),
    );
    const childClient = new SQSClient({
      endpoint: url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
    });
    const { QueueUrl } = await childClient.send(
      new CreateQueueCommand({ QueueName: 'durable.fifo', Attributes: { FifoQueue: 'true' } }),
    );
    const acknowledged: string[] = [];
    for (let i = 0; i < 50; i++) {
      await childClient.send(
        new SendMessageCommand({
          QueueUrl,
          MessageBody: `event ${i}`,
          MessageGroupId: `g${i % 3}`,
          MessageDeduplicationId: `d${i}`,
        }),
      );
      acknowledged.push(`event ${i}`);
    }
    const received = await childClient.send(
      new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 1 }),
    );
    await childClient.send(
      new DeleteMessageCommand({ QueueUrl, ReceiptHandle: received.Messages?.[0]?.ReceiptHandle }),
    );
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));

    sqs = await startLocalSqs({ dataDir: dir });
    client = new SQSClient({
      endpoint: sqs.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
    });
    const queueUrl = (await client.send(new GetQueueUrlCommand({ QueueName: 'durable.fifo' })))
      .QueueUrl;
    const bodies: string[] = [];
    for (let i = 0; i < 20; i++) {
      const batch = await client.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }),
      );
      for (const m of batch.Messages ?? []) {
        bodies.push(m.Body as string);
        await client.send(
          new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }),
        );
      }
    }
    expect(bodies.sort()).toEqual(
      acknowledged.filter((b) => b !== received.Messages?.[0]?.Body).sort(),
    );
    // Deduplication ids survive too: a retried send after the restart is still a duplicate.
    const retry = await client.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: 'event 7',
        MessageGroupId: 'g1',
        MessageDeduplicationId: 'd7',
      }),
    );
    expect(retry.MessageId).toBeTruthy();
    expect(
      (await client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl }))).Messages ?? [],
    ).toEqual([]);
  });
});
