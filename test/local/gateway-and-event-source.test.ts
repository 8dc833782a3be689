import { request } from 'node:http';
import { connect } from 'node:net';
import {
  CreateQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, SQSEvent } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { type BatchOutcome, startEventSource } from '../../local/event-source.ts';
import { type GatewayRequestLog, startGateway } from '../../local/gateway.ts';
import { startLocalSqs } from '../../local/sqs/server.ts';

const cleanups: (() => Promise<void>)[] = [];

type GatewayOptions = Parameters<typeof startGateway>[0];

/** A gateway with the receiver's route, POST /webhooks/{source}, stopped after the test. */
async function webhookGateway(
  handler: GatewayOptions['routes'][number]['handler'],
  options: Omit<GatewayOptions, 'routes'> = {},
) {
  const gateway = await startGateway({
    routes: [{ method: 'POST', path: '/webhooks/{source}', functionName: 'receiver', handler }],
    ...options,
  });
  cleanups.push(() => gateway.stop());
  return gateway;
}

/** Writes raw bytes to a server, then either reads the whole answer or drops the connection. */
function rawHttp(port: number, text: string | Buffer, hangUp = false): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
    socket.write(text, () => {
      if (hangUp) {
        socket.destroy();
        resolve('');
      }
    });
  });
}
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('local gateway', () => {
  it('hands the receiver an API Gateway payload v2 event and returns its answer', async () => {
    const events: APIGatewayProxyEventV2[] = [];
    const gateway = await webhookGateway(async (event) => {
      events.push(event);
      return {
        statusCode: 202,
        headers: { 'x-spine': 'yes' },
        body: JSON.stringify({ accepted: ['evt_1'] }),
      };
    });
    // node:http sends a repeated header twice, as a vendor's client may.
    const response = await new Promise<{
      status: number;
      headers: Record<string, unknown>;
      body: string;
    }>((resolve, reject) => {
      const req = request(
        `${gateway.url}/webhooks/stripe?x=1`,
        {
          method: 'POST',
          headers: {
            'Content-Type': 'application/json',
            'Stripe-Signature': 't=1,v1=abc',
            'X-Repeat': ['a', 'b'],
          },
        },
        (res) => {
          let body = '';
          res.on('data', (chunk) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        },
      );
      req.on('error', reject);
      req.end('{"id":"evt_1"}');
    });
    expect(response.status).toBe(202);
    expect(response.headers['x-spine']).toBe('yes');
    expect(JSON.parse(response.body)).toEqual({ accepted: ['evt_1'] });
    const [event] = events;
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'POST /webhooks/{source}',
      rawPath: '/webhooks/stripe',
      rawQueryString: 'x=1',
      pathParameters: { source: 'stripe' },
      body: '{"id":"evt_1"}',
      isBase64Encoded: false,
      requestContext: {
        http: { method: 'POST', path: '/webhooks/stripe' },
        stage: '$default',
        requestId: expect.any(String),
        timeEpoch: expect.any(Number),
      },
    });
    expect(event?.headers['stripe-signature']).toBe('t=1,v1=abc');
    expect(event?.headers['x-repeat']).toBe('a,b');
    expect(event?.requestContext.time).toMatch(/^\d{2}\/\w{3}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
  });

  it('base64-encodes binary bodies, answers 404 off-route and 500 when the handler fails', async () => {
    const bodies: { body?: string; isBase64Encoded: boolean }[] = [];
    const gateway = await webhookGateway(async (event) => {
      bodies.push({ body: event.body, isBase64Encoded: event.isBase64Encoded });
      if (event.pathParameters?.source === 'broken') throw new Error('boom');
      return { statusCode: 200, body: '' };
    });
    await fetch(`${gateway.url}/webhooks/x`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/octet-stream' },
      body: Buffer.from([0, 1, 2, 255]),
    });
    expect(bodies[0]).toEqual({
      body: Buffer.from([0, 1, 2, 255]).toString('base64'),
      isBase64Encoded: true,
    });
    expect((await fetch(`${gateway.url}/webhooks/x`)).status).toBe(404);
    expect((await fetch(`${gateway.url}/nowhere`, { method: 'POST' })).status).toBe(404);
    const failed = await fetch(`${gateway.url}/webhooks/broken`, { method: 'POST', body: '{}' });
    expect(failed.status).toBe(500);
    expect(await failed.json()).toEqual({ message: 'Internal Server Error' });
  });

  it('answers a malformed path with 400 and a half-sent body without dying, then keeps serving', async () => {
    const calls: string[] = [];
    const logs: GatewayRequestLog[] = [];
    let aborted: () => void = () => {};
    const abortLogged = new Promise<void>((resolve) => (aborted = resolve));
    const gateway = await webhookGateway(
      async (event) => {
        calls.push(event.pathParameters?.source ?? '');
        return { statusCode: 202, body: '{}' };
      },
      {
        onRequest: (log) => {
          logs.push(log);
          if (log.path === '/webhooks/cut') aborted();
        },
      },
    );
    const malformed = await rawHttp(
      gateway.port,
      'POST /webhooks/%E0%A4%A HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n',
    );
    expect(malformed).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(malformed.slice(malformed.indexOf('\r\n\r\n') + 4))).toEqual({
      message: 'Bad Request: the path is not valid percent-encoded UTF-8',
    });
    await rawHttp(
      gateway.port,
      'POST /webhooks/cut HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{"id"',
      true,
    );
    await abortLogged;
    expect(
      (await fetch(`${gateway.url}/webhooks/stripe`, { method: 'POST', body: '{}' })).status,
    ).toBe(202);
    expect(calls).toEqual(['stripe']);
    expect(logs.map((l) => [l.path, l.status])).toEqual([
      ['/webhooks/%E0%A4%A', 400],
      ['/webhooks/cut', 400],
      ['/webhooks/stripe', 202],
    ]);
  });

  it('answers 500 in JSON and logs it when the gateway itself fails, and keeps serving', async () => {
    const logs: GatewayRequestLog[] = [];
    const gateway = await startGateway({
      routes: [],
      local: {
        'GET /_spine/health': () => {
          throw new Error('health exploded');
        },
      },
      onRequest: (log) => logs.push(log),
    });
    cleanups.push(() => gateway.stop());
    const failed = await fetch(`${gateway.url}/_spine/health`);
    expect(failed.status).toBe(500);
    expect(await failed.json()).toEqual({ message: 'Internal Server Error' });
    expect(logs).toMatchObject([
      { path: '/_spine/health', status: 500, body: expect.stringContaining('health exploded') },
    ]);
    expect((await fetch(`${gateway.url}/nowhere`)).status).toBe(404);
  });

  it('passes a body that is not UTF-8 as base64 even when it claims to be JSON, and a domain prefix without the port', async () => {
    const events: APIGatewayProxyEventV2[] = [];
    const gateway = await webhookGateway(async (event) => {
      events.push(event);
      return { statusCode: 200, body: '' };
    });
    const bytes = Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]);
    await fetch(`http://localhost:${gateway.port}/webhooks/x`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: bytes,
    });
    await fetch(`${gateway.url}/webhooks/y`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"name":"Zoë"}',
    });
    expect(events[0]).toMatchObject({ body: bytes.toString('base64'), isBase64Encoded: true });
    expect(Buffer.from(events[0]?.body ?? '', 'base64')).toEqual(bytes);
    expect(events[0]?.requestContext.domainPrefix).toBe('localhost');
    expect(events[1]).toMatchObject({ body: '{"name":"Zoë"}', isBase64Encoded: false });
  });
});

describe('local event source mapping', () => {
  it('delivers SQSEvent batches, deletes successes, redelivers reported failures, and lets redrive dead-letter them', async () => {
    const sqs = await startLocalSqs();
    cleanups.push(() => sqs.stop());
    const client = new SQSClient({
      endpoint: sqs.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
    });
    const dlq = await client.send(new CreateQueueCommand({ QueueName: 'w-dlq' }));
    const { QueueUrl } = await client.send(
      new CreateQueueCommand({
        QueueName: 'w',
        Attributes: {
          VisibilityTimeout: '1',
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:w-dlq',
            maxReceiveCount: 2,
          }),
        },
      }),
    );
    for (const body of ['ok-1', 'bad', 'ok-2'])
      await client.send(new SendMessageCommand({ QueueUrl, MessageBody: body }));
    const events: SQSEvent[] = [];
    const outcomes: BatchOutcome[] = [];
    const source = startEventSource(
      client,
      {
        functionName: 'worker',
        queueUrl: QueueUrl as string,
        queueArn: 'arn:aws:sqs:us-east-1:000000000000:w',
        batchSize: 10,
        maximumBatchingWindowSeconds: 1,
        maximumConcurrency: 1,
        handler: async (event, context) => {
          expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0);
          events.push(event);
          return {
            batchItemFailures: event.Records.filter((r) => r.body === 'bad').map((r) => ({
              itemIdentifier: r.messageId,
            })),
          };
        },
      },
      (outcome) => outcomes.push(outcome),
    );
    cleanups.push(() => source.stop());
    let dead: string[] = [];
    for (let i = 0; i < 100 && dead.length === 0; i++) {
      dead = (
        (
          await client.send(
            new ReceiveMessageCommand({ QueueUrl: dlq.QueueUrl, WaitTimeSeconds: 0 }),
          )
        ).Messages ?? []
      ).map((m) => m.Body as string);
      if (dead.length === 0) await new Promise((r) => setTimeout(r, 50));
    }
    expect(dead).toEqual(['bad']);
    const record = events[0]?.Records[0];
    expect(record).toMatchObject({
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:w',
      awsRegion: 'us-east-1',
      attributes: { ApproximateReceiveCount: '1' },
    });
    const delivered = events.flatMap((e) => e.Records.map((r) => r.body));
    expect(delivered.filter((b) => b === 'bad')).toHaveLength(2);
    expect(delivered.filter((b) => b.startsWith('ok'))).toHaveLength(2);
    expect(outcomes.flatMap((o) => o.failed)).toHaveLength(2);
  });
});
