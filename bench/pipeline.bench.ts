/**
 * The receiver and the worker, in-process against the local endpoints:
 * - receiver latency p50 / p99 against a bare handler that only sends to SQS (target ≤ 1.3× at p50);
 * - worker events/s end to end against the Odoo emulator, batches of 10 against one event per
 *   invocation (target ≥ 5× and ≥ 500 events/s), with DynamoDB and SQS calls per event.
 */
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { Envelope } from '../functions/ingest/envelope.ts';
import { signatureHeaders } from '../local/demo/sign.ts';
import { lambdaContext } from '../local/lambda-context.ts';
import { loadFixture } from '../test/support/fixtures.ts';
import { contractNamed, queuedEnvelope, sqsRecordOf } from '../test/support/queued-events.ts';
import type { Benchmark, Measurement } from './harness.ts';
import { startServicesThread } from './services.ts';
import { webhookEvent } from './webhook-event.ts';

const RECEIVER_CALLS = 300;
const WORKER_EVENTS = 300;
/** Fewer events where Odoo is given a network's latency, or one by one would take minutes. */
const REMOTE_EVENTS = 100;
/** New customers on the FIFO flow, each creating a partner. */
const FIFO_EVENTS = 200;
/** A nearby Odoo's round trip (same region), added by the emulator to every request. */
const REMOTE_ODOO_MS = 20;

const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[
    Math.min(values.length - 1, Math.floor((p / 100) * values.length))
  ] ?? 0;

export const pipelineBenchmark: Benchmark = {
  name: 'Receiver and worker in-process, against the local runtime in its own thread (dynalite, local SQS, Odoo emulator 18)',
  async run(): Promise<Measurement[]> {
    process.env.POWERTOOLS_LOG_LEVEL = 'ERROR';
    // The services run in a thread of their own, as other machines would in AWS: the handlers'
    // figures are the handlers' CPU and their waits, not the emulators' CPU on the same core.
    const runtime = await startServicesThread();
    const fetchOdoo = globalThis.fetch;
    try {
      const { handler: receiver } = await import('../functions/handlers/receiver.ts');
      const { handler: worker } = await import('../functions/handlers/worker.ts');
      const { getContainer } = await import('../functions/platform/container.ts');
      const calls = { dynamodb: 0, sqs: 0, odoo: 0 };
      // The Odoo client is the only caller of fetch in the handlers: each call is a round trip.
      globalThis.fetch = (...args: Parameters<typeof fetch>) => {
        calls.odoo++;
        return fetchOdoo(...args);
      };
      const container = getContainer();
      container.dynamodb.middlewareStack.add(
        (next) => (args) => {
          calls.dynamodb++;
          return next(args);
        },
        { step: 'initialize', name: 'countDynamoDb' },
      );
      container.sqs.middlewareStack.add(
        (next) => (args) => {
          calls.sqs++;
          return next(args);
        },
        { step: 'initialize', name: 'countSqs' },
      );

      // Receiver against a bare handler that only sends to SQS.
      const fixture = loadFixture('stripe/payment_intent.succeeded').raw;
      const secret = runtime.webhookSecrets.stripe as string;
      const payments = runtime.flows.find((f) => f.name === 'payments')?.queueUrl as string;
      const bareSqs = new SQSClient({
        endpoint: runtime.sqsUrl,
        region: 'us-east-1',
        credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
      });
      const bare = async (event: APIGatewayProxyEventV2) => {
        await bareSqs.send(
          new SendMessageCommand({ QueueUrl: payments, MessageBody: event.body as string }),
        );
        return { statusCode: 202, body: '{}' };
      };
      const receiverTimes: number[] = [];
      const bareTimes: number[] = [];
      const before = { ...calls };
      for (let i = 0; i < RECEIVER_CALLS + 20; i++) {
        const body = fixture
          .replaceAll('evt_3QkZCxLkdIwHu7ix0Wm4yJtF', `evt_bench_${i}`)
          .replaceAll('pi_3QkZCxLkdIwHu7ix0a8GzK1P', `pi_bench_${i}`);
        const headers = {
          'content-type': 'application/json',
          ...signatureHeaders({ scheme: 'stripe', secret, body, url: '' }),
        };
        let started = performance.now();
        const answer = await receiver(
          webhookEvent('stripe', body, headers),
          lambdaContext('receiver', 30_000),
        );
        const receiverMs = performance.now() - started;
        if (answer.statusCode !== 202)
          throw new Error(`receiver answered ${answer.statusCode}: ${answer.body}`);
        started = performance.now();
        await bare(webhookEvent('stripe', body, headers));
        const bareMs = performance.now() - started;
        // The first calls warm caches and connections, as a warm Lambda would have them.
        if (i >= 20) {
          receiverTimes.push(receiverMs);
          bareTimes.push(bareMs);
        }
      }
      const receiverCalls = {
        dynamodb: (calls.dynamodb - before.dynamodb) / (RECEIVER_CALLS + 20),
        sqs: (calls.sqs - before.sqs) / (RECEIVER_CALLS + 20),
      };

      // Worker: the customer exists; then payments, ten per invocation against one per invocation.
      const partner = (await runtime.orm(2, 'res.partner', 'create', [
        { name: 'Bench Customer' },
      ])) as number;
      await runtime.orm(2, 'ir.model.data', 'create', [
        {
          module: 'spine',
          name: 'stripe_customer_cus_RdrHvYMPzaRkCn',
          model: 'res.partner',
          res_id: partner,
        },
      ]);
      const paymentEvent = JSON.parse(fixture) as { data: { object: Record<string, unknown> } };
      const envelope = (i: number, tag: string): Envelope =>
        queuedEnvelope(
          contractNamed('stripe.payment-intent'),
          {
            ...paymentEvent,
            id: `evt_${tag}_${i}`,
            data: { object: { ...paymentEvent.data.object, id: `pi_${tag}_${i}` } },
          },
          { id: `evt_${tag}_${i}`, subject: `pi_${tag}_${i}`, type: 'payment_intent.succeeded' },
        );
      // New customers on the FIFO customers flow, each in its own message group.
      const customerEvent = JSON.parse(loadFixture('stripe/customer.created').raw) as {
        data: { object: Record<string, unknown> };
      };
      const customer = (i: number, tag: string): Envelope =>
        queuedEnvelope(
          contractNamed('stripe.customer'),
          {
            ...customerEvent,
            id: `evt_${tag}_${i}`,
            data: {
              object: {
                ...customerEvent.data.object,
                id: `cus_${tag}_${i}`,
                email: `${tag}.${i}@example.com`,
              },
            },
          },
          { id: `evt_${tag}_${i}`, subject: `cus_${tag}_${i}`, type: 'customer.created' },
        );
      const drive = async (
        tag: string,
        batchSize: number,
        count = WORKER_EVENTS,
        make: (i: number, tag: string) => Envelope = envelope,
      ) => {
        const events = Array.from({ length: count }, (_, i) => make(i, tag));
        const start = { ...calls };
        const started = performance.now();
        for (let i = 0; i < events.length; i += batchSize) {
          const result = await worker(
            { Records: events.slice(i, i + batchSize).map((e) => sqsRecordOf(e)) },
            lambdaContext('worker', 60_000),
          );
          if (result.batchItemFailures.length > 0)
            throw new Error(`worker failed ${result.batchItemFailures.length} records`);
        }
        return {
          perSecond: (count / (performance.now() - started)) * 1000,
          dynamodb: (calls.dynamodb - start.dynamodb) / count,
          sqs: (calls.sqs - start.sqs) / count,
          odoo: (calls.odoo - start.odoo) / count,
        };
      };
      await drive('warm', 10);
      const single = await drive('single', 1);
      const batched = await drive('batched', 10);
      // The same with Odoo a network away: what batching saves is then mostly Odoo's latency.
      await runtime.odooFaults({ latencyMs: REMOTE_ODOO_MS });
      const remoteSingle = await drive('remote-single', 1, REMOTE_EVENTS);
      const remoteBatched = await drive('remote-batched', 10, REMOTE_EVENTS);
      await runtime.odooFaults({});
      // A FIFO flow: records of different message groups are applied together too.
      const fifoSingle = await drive('fifo-single', 1, FIFO_EVENTS, customer);
      const fifoBatched = await drive('fifo-batched', 10, FIFO_EVENTS, customer);
      const odooPayments = await runtime.orm(2, 'account.payment', 'search_count', [[]]);
      const expected = WORKER_EVENTS * 3 + REMOTE_EVENTS * 2;
      if (odooPayments !== expected)
        throw new Error(`expected ${expected} payments in Odoo, found ${odooPayments}`);

      // What the local DynamoDB itself takes: conditional writes, ten at once, through the same
      // client. Divided by the worker's calls per event, it bounds the worker's events/s here.
      const table = process.env.SPINE_IDEMPOTENCY_TABLE as string;
      const write = (i: number) =>
        container.dynamodb.send(
          new PutItemCommand({
            TableName: table,
            Item: { id: { S: `bench#${i}` }, expiration: { N: String(i) } },
            ConditionExpression: 'attribute_not_exists(id) OR expiration < :now',
            ExpressionAttributeValues: { ':now': { N: String(i) } },
          }),
        );
      for (let i = 0; i < 100; i += 10)
        await Promise.all(Array.from({ length: 10 }, (_, j) => write(i + j)));
      const writesStarted = performance.now();
      for (let i = 100; i < 1100; i += 10)
        await Promise.all(Array.from({ length: 10 }, (_, j) => write(i + j)));
      const writesPerSecond = (1000 / (performance.now() - writesStarted)) * 1000;

      const p50 = percentile(receiverTimes, 50);
      const bareP50 = percentile(bareTimes, 50);
      return [
        {
          metric: 'receiver latency p50',
          case: 'stripe payment_intent.succeeded',
          value: p50,
          baseline: bareP50,
          baselineLabel: 'bare SQS send',
          unit: 'ms',
          target: '≤ 1.3× baseline',
          met: p50 <= bareP50 * 1.3,
        },
        {
          metric: 'receiver latency p99',
          case: 'stripe payment_intent.succeeded',
          value: percentile(receiverTimes, 99),
          baseline: percentile(bareTimes, 99),
          baselineLabel: 'bare SQS send',
          unit: 'ms',
        },
        {
          metric: 'receiver AWS calls per webhook',
          case: 'DynamoDB / SQS',
          value: receiverCalls.dynamodb,
          baseline: receiverCalls.sqs,
          baselineLabel: 'SQS',
          unit: 'calls',
        },
        {
          metric: 'worker throughput',
          case: 'batches of 10',
          value: batched.perSecond,
          baseline: single.perSecond,
          baselineLabel: 'one event per invocation',
          unit: 'events/s',
          target: '≥ 5× and ≥ 500',
          met: batched.perSecond >= 5 * single.perSecond && batched.perSecond >= 500,
        },
        {
          metric: `worker throughput, Odoo ${REMOTE_ODOO_MS} ms away`,
          case: 'batches of 10',
          value: remoteBatched.perSecond,
          baseline: remoteSingle.perSecond,
          baselineLabel: 'one event per invocation',
          unit: 'events/s',
        },
        {
          metric: 'worker throughput, FIFO flow (new customers)',
          case: 'batches of 10, one group each',
          value: fifoBatched.perSecond,
          baseline: fifoSingle.perSecond,
          baselineLabel: 'one event per invocation',
          unit: 'events/s',
        },
        {
          metric: 'local DynamoDB (dynalite) conditional writes',
          case: 'ten at once',
          value: writesPerSecond,
          unit: 'writes/s',
        },
        {
          metric: 'worker ceiling from DynamoDB alone',
          case: 'writes/s ÷ calls per event',
          value: writesPerSecond / batched.dynamodb,
          unit: 'events/s',
        },
        {
          metric: 'worker DynamoDB calls per event',
          case: 'batches of 10',
          value: batched.dynamodb,
          baseline: single.dynamodb,
          baselineLabel: 'one per invocation',
          unit: 'calls',
        },
        {
          metric: 'worker Odoo round trips per event',
          case: 'batches of 10',
          value: batched.odoo,
          baseline: single.odoo,
          baselineLabel: 'one per invocation',
          unit: 'calls',
        },
        {
          metric: 'worker SQS calls per event',
          case: 'batches of 10',
          value: batched.sqs,
          baseline: single.sqs,
          baselineLabel: 'one per invocation',
          unit: 'calls',
        },
      ];
    } finally {
      globalThis.fetch = fetchOdoo;
      await runtime.stop();
    }
  },
};
