/**
 * Cost per event: webhooks signed as their vendors sign them go through the receiver, the flow
 * queues, an event source mapping driven here (receive a batch, invoke the worker, delete what
 * it did), and the worker, against the local runtime in a thread of its own. Every AWS call they
 * make is counted in billing units (bench/capacity-meter.ts for DynamoDB, 64 KB chunks for SQS),
 * each invocation's time is split into computing and waiting, and the bytes they log are
 * counted; bench/cost-model.ts prices it all with bench/prices.json.
 *
 * At low volume (batches of 1) and at high volume (batches of 10), beside a bare pipeline in the
 * same run: a handler that only sends to SQS, and a worker that only returns. Half the events
 * are Stripe payments (a standard queue, a partner they refer to, a posting), half new Stripe
 * customers (a FIFO queue, a natural-key lock), with Odoo 20 ms away. A replay of dead letters counts the state
 * machine's transitions per event. The worker's and the receiver's memory profile (heap, CPU and
 * waiting time) is what HANDLER_MEMORY_MB in infra/constructs/spine-function.ts was chosen from.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { IDEMPOTENCY_TABLE, LINEAGE_TABLE } from '../functions/platform/tables.ts';
import { HANDLER_MEMORY_MB } from '../infra/constructs/spine-function.ts';
import { replayDefinition } from '../infra/replay/definition.ts';
import { signatureHeaders } from '../local/demo/sign.ts';
import { lambdaContext } from '../local/lambda-context.ts';
import type { FlowEndpoints } from '../local/runtime.ts';
import { loadFixture } from '../test/support/fixtures.ts';
import { CapacityMeter } from './capacity-meter.ts';
import {
  billedGbSeconds,
  type CountsPerEvent,
  dollarsPerMillionEvents,
  loadPrices,
  replayDollarsPerMillion,
  sqsRequestUnits,
} from './cost-model.ts';
import type { Benchmark, Measurement } from './harness.ts';
import { startServicesThread } from './services.ts';
import { webhookEvent } from './webhook-event.ts';

/** Events per case: half payments, half new customers. */
const EVENTS = 200;
const REPLAYED = 20;
/** A nearby Odoo's round trip (same region), added by the emulator to every request. */
const REMOTE_ODOO_MS = 20;
/** The budget per million events at high volume (DESIGN.md, "Cost per event"). */
const TARGET_DOLLARS = 5;
/** The memory of the bare pipeline's functions: the smallest a Node function runs well in. */
const BARE_MEMORY_MB = 128;

/** One invocation as Lambda would bill it. */
interface Invocation {
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly memoryMb: number;
  readonly logBytes: number;
}

/** What a case counted, before division by its events. */
class Tally {
  apiRequests = 0;
  sqsStandard = 0;
  sqsFifo = 0;
  readonly invocations: Invocation[] = [];

  perEvent(events: number, dynamodb: { write: number; read: number }): CountsPerEvent {
    const platformLogBytes = this.invocations.length * LAMBDA_PLATFORM_LOG_BYTES;
    return {
      apiRequests: this.apiRequests / events,
      lambdaInvocations: this.invocations.length / events,
      lambdaGbSeconds:
        this.invocations.reduce((sum, i) => sum + billedGbSeconds(i, i.memoryMb), 0) / events,
      sqsStandardRequests: this.sqsStandard / events,
      sqsFifoRequests: this.sqsFifo / events,
      dynamodbWriteUnits: dynamodb.write / events,
      dynamodbReadUnits: dynamodb.read / events,
      logBytes:
        (this.invocations.reduce((sum, i) => sum + i.logBytes, 0) +
          platformLogBytes +
          this.apiRequests * API_ACCESS_LOG_BYTES) /
        events,
      // Tracing is off unless an environment turns it on (cdk.json `tracing`).
      traces: 0,
    };
  }
}

/**
 * Lambda's own lines per invocation (START, END, REPORT), as it writes them in text format with
 * this run's kind of values.
 */
const LAMBDA_PLATFORM_LOG_BYTES = [
  `START RequestId: ${randomUUID()} Version: $LATEST\n`,
  `END RequestId: ${randomUUID()}\n`,
  `REPORT RequestId: ${randomUUID()}\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 512 MB\tMax Memory Used: 98 MB\t\n`,
].reduce((sum, line) => sum + Buffer.byteLength(line), 0);

/** One access log line of the HTTP API, in the format infra/constructs/webhook-api.ts sets. */
const API_ACCESS_LOG_BYTES = Buffer.byteLength(
  `${JSON.stringify({
    requestId: 'Ab1CdEfGhIjKlMn=',
    ip: '203.0.113.10',
    time: '02/Dec/2026:10:00:00 +0000',
    route: 'POST /webhooks/{source}',
    path: '/webhooks/stripe',
    status: '202',
    latency: '23',
    integrationError: '-',
  })}\n`,
);

/** Counts what a client asks SQS, in billing units, into the tally of the moment. */
function countSqs(client: SQSClient, tally: () => Tally): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as {
        QueueUrl?: string;
        MessageBody?: string;
        Entries?: { MessageBody?: string }[];
      };
      const result = await next(args);
      const sent =
        Buffer.byteLength(input.MessageBody ?? '') +
        (input.Entries ?? []).reduce((sum, e) => sum + Buffer.byteLength(e.MessageBody ?? ''), 0);
      const received = ((result.output as { Messages?: Message[] }).Messages ?? []).reduce(
        (sum, m) => sum + Buffer.byteLength(m.Body ?? ''),
        0,
      );
      const units =
        context.commandName === 'ReceiveMessageCommand'
          ? sqsRequestUnits(received)
          : sqsRequestUnits(sent);
      if (input.QueueUrl?.endsWith('.fifo')) tally().sqsFifo += units;
      else tally().sqsStandard += units;
      return result;
    },
    { step: 'build', name: 'countSqsRequests' },
  );
}

/** Runs a handler as one invocation: its time, what of it was computing, and what it logged. */
async function invoke<T>(
  tally: Tally,
  memoryMb: number,
  run: () => Promise<T>,
): Promise<{ result: T; invocation: Invocation }> {
  const write = process.stdout.write.bind(process.stdout);
  let logBytes = 0;
  // The handlers log through Powertools, which writes to stdout: counted, and kept off the table.
  process.stdout.write = ((chunk: string | Uint8Array) => {
    logBytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
    return true;
  }) as typeof process.stdout.write;
  const loop = performance.eventLoopUtilization();
  const started = performance.now();
  try {
    const result = await run();
    const wallMs = performance.now() - started;
    // The thread's event loop was busy this long: the handler's computing (the services run in
    // a thread of their own), the rest of the time it waited on them.
    const cpuMs = performance.eventLoopUtilization(loop).active;
    const invocation = { wallMs, cpuMs, memoryMb, logBytes };
    tally.invocations.push(invocation);
    return { result, invocation };
  } finally {
    process.stdout.write = write;
  }
}

/** The SQS event Lambda's event source mapping makes of received messages. */
function sqsEvent(flow: FlowEndpoints, messages: readonly Message[]): SQSEvent {
  return {
    Records: messages.map((m) => ({
      messageId: m.MessageId as string,
      receiptHandle: m.ReceiptHandle as string,
      body: m.Body as string,
      attributes: {
        ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? '1',
        SentTimestamp: m.Attributes?.SentTimestamp ?? String(Date.now()),
        SenderId: 'bench',
        ApproximateFirstReceiveTimestamp: String(Date.now()),
        ...(m.Attributes?.MessageGroupId ? { MessageGroupId: m.Attributes.MessageGroupId } : {}),
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: `arn:aws:sqs:us-east-1:000000000000:${flow.queueUrl.split('/').pop()}`,
      awsRegion: 'us-east-1',
    })),
  };
}

const kib = (bytes: number) => Math.round(bytes / 1024);

export const costBenchmark: Benchmark = {
  name: 'Cost per event: AWS calls counted in a local run, priced at list prices (bench/prices.json)',
  async run(): Promise<Measurement[]> {
    // As deployed: INFO logs and CloudWatch metrics (EMF lines), both billed as log bytes.
    process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
    const runtime = await startServicesThread();
    process.env.POWERTOOLS_METRICS_DISABLED = 'false';
    process.env.POWERTOOLS_METRICS_NAMESPACE = 'Spine';
    try {
      const { handler: receiver } = await import('../functions/handlers/receiver.ts');
      const { handler: worker } = await import('../functions/handlers/worker.ts');
      const { getContainer } = await import('../functions/platform/container.ts');
      const container = getContainer();
      const meter = new CapacityMeter(
        {
          [container.config.lineageTable]: LINEAGE_TABLE,
          [container.config.idempotencyTable]: IDEMPOTENCY_TABLE,
        },
        process.env.AWS_ENDPOINT_URL_DYNAMODB as string,
      );
      meter.attach(container.dynamodb as DynamoDBClient);
      let current = new Tally();
      countSqs(container.sqs, () => current);
      const mapping = new SQSClient({
        endpoint: runtime.sqsUrl,
        region: 'us-east-1',
        credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
      });
      countSqs(mapping, () => current);
      const flowNamed = (name: string) =>
        runtime.flows.find((f) => f.name === name) as FlowEndpoints;
      const secret = runtime.webhookSecrets.stripe as string;

      const payment = JSON.parse(loadFixture('stripe/payment_intent.succeeded').raw) as {
        id: string;
        data: { object: Record<string, unknown> };
      };
      const customer = JSON.parse(loadFixture('stripe/customer.created').raw) as typeof payment;
      // The customer the payments refer to exists, as it would after its own event.
      const partner = (await runtime.orm(2, 'res.partner', 'create', [
        { name: 'Bench' },
      ])) as number;
      await runtime.orm(2, 'ir.model.data', 'create', [
        {
          module: 'spine',
          name: `stripe_customer_${payment.data.object.customer}`,
          model: 'res.partner',
          res_id: partner,
        },
      ]);
      const webhook = (tag: string, i: number) => {
        const event =
          i % 2 === 0
            ? {
                ...payment,
                id: `evt_${tag}_${i}`,
                data: { object: { ...payment.data.object, id: `pi_${tag}_${i}` } },
              }
            : {
                ...customer,
                id: `evt_${tag}_${i}`,
                data: {
                  object: {
                    ...customer.data.object,
                    id: `cus_${tag}_${i}`,
                    email: `${tag}.${i}@example.com`,
                  },
                },
              };
        const body = JSON.stringify(event);
        return webhookEvent('stripe', body, {
          'content-type': 'application/json',
          ...signatureHeaders({ scheme: 'stripe', secret, body, url: '' }),
        });
      };

      /** The event source mapping: receive a batch, invoke, delete what the worker did. */
      const drain = async (
        tally: Tally,
        flow: FlowEndpoints,
        batchSize: number,
        invokeWorker: (event: SQSEvent) => Promise<{ batchItemFailures: unknown[] }>,
        memoryMb: number,
        profile?: { heapBytes: number[]; waitShare: number[] },
      ) => {
        for (;;) {
          const { Messages = [] } = await mapping.send(
            new ReceiveMessageCommand({
              QueueUrl: flow.queueUrl,
              MaxNumberOfMessages: batchSize,
              MessageSystemAttributeNames: ['All'],
              WaitTimeSeconds: 0,
            }),
          );
          if (Messages.length === 0) return;
          const heapBefore = getHeapStatistics().used_heap_size;
          const { result, invocation } = await invoke(tally, memoryMb, () =>
            invokeWorker(sqsEvent(flow, Messages)),
          );
          if (profile && Messages.length === batchSize) {
            profile.heapBytes.push(getHeapStatistics().used_heap_size - heapBefore);
            profile.waitShare.push(1 - invocation.cpuMs / invocation.wallMs);
          }
          if (result.batchItemFailures.length > 0)
            throw new Error(`the worker failed ${result.batchItemFailures.length} records`);
          await mapping.send(
            new DeleteMessageBatchCommand({
              QueueUrl: flow.queueUrl,
              Entries: Messages.map((m, i) => ({
                Id: String(i),
                ReceiptHandle: m.ReceiptHandle as string,
              })),
            }),
          );
        }
      };

      const receiverProfile = { cpuMs: [] as number[], wallMs: [] as number[] };
      const workerProfile = { heapBytes: [] as number[], waitShare: [] as number[] };
      const pipeline = async (tag: string, batchSize: number, profiled: boolean) => {
        const tally = new Tally();
        current = tally;
        const writes = meter.totalWrites();
        const reads = meter.totalReads();
        const kinds = meter.writesByKind();
        for (let i = 0; i < EVENTS; i++) {
          tally.apiRequests++;
          const { result, invocation } = await invoke(
            tally,
            HANDLER_MEMORY_MB['receiver.ts'] as number,
            () =>
              receiver(webhook(tag, i), lambdaContext('receiver', 30_000)) as Promise<{
                statusCode: number;
              }>,
          );
          if (result.statusCode !== 202)
            throw new Error(`the receiver answered ${result.statusCode}`);
          if (profiled) {
            receiverProfile.cpuMs.push(invocation.cpuMs);
            receiverProfile.wallMs.push(invocation.wallMs);
          }
        }
        for (const flow of [flowNamed('payments'), flowNamed('customers')])
          await drain(
            tally,
            flow,
            batchSize,
            (event) => worker(event, lambdaContext('worker', 60_000)),
            HANDLER_MEMORY_MB['worker.ts'] as number,
            profiled && batchSize === 10 ? workerProfile : undefined,
          );
        if (meter.enabled)
          for (const [kind, units] of Object.entries(meter.writesByKind())) {
            const added = (units - (kinds[kind] ?? 0)) / EVENTS;
            if (added > 0) writesByKind.set(`${batchSize}|${kind}`, added);
          }
        return tally.perEvent(EVENTS, {
          write: meter.totalWrites() - writes,
          read: meter.totalReads() - reads,
        });
      };
      /** Per case (its batch size) and kind of item, the write units per event. */
      const writesByKind = new Map<string, number>();
      /** The calls counted with the meter on; the time taken, in a second run, with it off. */
      const spine = async (tag: string, batchSize: number): Promise<CountsPerEvent> => {
        meter.enabled = true;
        const counted = await pipeline(`${tag}c`, batchSize, false);
        meter.enabled = false;
        const timed = await pipeline(`${tag}t`, batchSize, true);
        meter.enabled = true;
        return { ...counted, lambdaGbSeconds: timed.lambdaGbSeconds };
      };

      const bareSqs = new SQSClient({
        endpoint: runtime.sqsUrl,
        region: 'us-east-1',
        credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
      });
      countSqs(bareSqs, () => current);
      const bare = async (tag: string, batchSize: number) => {
        const tally = new Tally();
        current = tally;
        const flow = flowNamed('payments');
        for (let i = 0; i < EVENTS; i++) {
          tally.apiRequests++;
          await invoke(tally, BARE_MEMORY_MB, async () => {
            await bareSqs.send(
              new SendMessageCommand({
                QueueUrl: flow.queueUrl,
                MessageBody: webhook(tag, i).body as string,
              }),
            );
            return { statusCode: 202 };
          });
        }
        await drain(
          tally,
          flow,
          batchSize,
          async () => ({ batchItemFailures: [] }),
          BARE_MEMORY_MB,
        );
        return tally.perEvent(EVENTS, { write: 0, read: 0 });
      };

      await pipeline('warm', 10, false);
      // Odoo a network away, as a customer's Odoo is: the worker's waiting is billed too.
      await runtime.odooFaults({ latencyMs: REMOTE_ODOO_MS });
      const prices = loadPrices();
      const cases = [
        { label: 'low volume (batches of 1)', size: 1 },
        { label: 'high volume (batches of 10)', size: 10 },
      ];
      const results: Measurement[] = [];
      const priced: { label: string; spine: CountsPerEvent; bare: CountsPerEvent }[] = [];
      for (const { label, size } of cases)
        priced.push({
          label,
          spine: await spine(`s${size}`, size),
          bare: await bare(`b${size}`, size),
        });

      for (const { label, spine: counts, bare: baseline } of priced) {
        const cost = dollarsPerMillionEvents(counts, prices);
        const base = dollarsPerMillionEvents(baseline, prices);
        const high = label.startsWith('high');
        results.push({
          metric: `$ per million events (${prices.region}, priced ${prices.priced})`,
          case: label,
          value: cost.total,
          baseline: base.total,
          baselineLabel: 'bare SQS-to-Lambda pipeline',
          unit: '$',
          ...(high ? { target: `≤ ${TARGET_DOLLARS}`, met: cost.total <= TARGET_DOLLARS } : {}),
        });
        for (const [line, dollars] of Object.entries(cost.lines))
          results.push({
            metric: `  ${line}`,
            case: label,
            value: dollars,
            baseline: base.lines[line as keyof typeof base.lines],
            baselineLabel: 'bare',
            unit: '$',
          });
        const perEvent: [string, keyof CountsPerEvent, string][] = [
          ['API Gateway requests', 'apiRequests', 'requests'],
          ['Lambda invocations', 'lambdaInvocations', 'invocations'],
          ['Lambda GB-seconds', 'lambdaGbSeconds', 'GB-s'],
          ['SQS requests (standard)', 'sqsStandardRequests', 'requests'],
          ['SQS requests (FIFO)', 'sqsFifoRequests', 'requests'],
          ['DynamoDB write units', 'dynamodbWriteUnits', 'WRU'],
          ['DynamoDB read units', 'dynamodbReadUnits', 'RRU'],
          ['log bytes', 'logBytes', 'bytes'],
          ['X-Ray traces (tracing off)', 'traces', 'traces'],
        ];
        for (const [metric, key, unit] of perEvent) {
          results.push({
            metric: `  per event: ${metric}`,
            case: label,
            value: counts[key],
            baseline: baseline[key],
            baselineLabel: 'bare',
            unit,
            ...(key === 'dynamodbWriteUnits' && high
              ? { target: '≤ 6', met: counts[key] <= 6 }
              : {}),
          });
          // Where the write units go: each kind of item, with the index entries it makes.
          if (key === 'dynamodbWriteUnits')
            for (const [caseAndKind, units] of writesByKind) {
              const [size, kind] = caseAndKind.split('|');
              if (Number(size) === (high ? 10 : 1))
                results.push({
                  metric: `    write units: ${kindLabel(kind as string)}`,
                  case: label,
                  value: units,
                  unit: 'WRU',
                });
            }
        }
      }

      // Traced, each invocation Lambda samples would be a trace (5 % past the first each second).
      const highCounts = priced[1]?.spine as CountsPerEvent;
      const traced = dollarsPerMillionEvents(
        { ...highCounts, traces: highCounts.lambdaInvocations * 0.05 },
        prices,
      );
      results.push({
        metric: '$ per million events with tracing on (cdk.json `tracing`)',
        case: 'high volume (batches of 10)',
        value: traced.total,
        unit: '$',
      });

      results.push(...(await replayCost(runtime.flows, flowNamed('payments'), prices)));

      const median = (values: number[]) =>
        [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
      const heap = getHeapStatistics();
      results.push(
        {
          metric: 'profile: receiver computing share of its time',
          case: 'one webhook, median',
          value: median(receiverProfile.cpuMs.map((c, i) => c / (receiverProfile.wallMs[i] ?? 1))),
          unit: '',
        },
        {
          metric: 'profile: receiver computing time',
          case: 'one webhook, median',
          value: median(receiverProfile.cpuMs),
          unit: 'ms',
        },
        {
          metric: 'profile: worker waiting share of its time (Odoo, DynamoDB, SQS)',
          case: 'batch of 10, median',
          value: median(workerProfile.waitShare),
          unit: '',
        },
        {
          metric: 'profile: worker heap growth during a batch',
          case: 'batch of 10, largest',
          value: kib(Math.max(0, ...workerProfile.heapBytes)),
          unit: 'KiB',
        },
        {
          metric: 'profile: heap of the handlers loaded and warm',
          case: 'this thread, after the run',
          value: kib(heap.used_heap_size),
          unit: 'KiB',
        },
      );
      return results;
    } finally {
      await runtime.stop();
    }
  },
};

/** What a kind of item the meter counted is, for a reader of the bench. */
function kindLabel(kind: string): string {
  const [table = '', item = ''] = kind.split(': ');
  if (table.endsWith('idempotency'))
    return 'idempotency records (Powertools: in progress, then done)';
  const labels: Record<string, string> = {
    ENTITY: 'stale-guard claims (one conditional put per event)',
    NATURALKEY: 'natural-key locks (taken and ended, per record created by a natural key)',
    applied: 'applied outcomes (the item and its byRecord, byCorrelation, byContractDay entries)',
    related: 'records an event created or linked (the item and its byRecord entry)',
  };
  return labels[item] ?? `lineage ${item} items`;
}

/** Dead letters replayed by the state machine CDK deploys, its transitions counted. */
async function replayCost(
  flows: readonly FlowEndpoints[],
  flow: FlowEndpoints,
  prices: ReturnType<typeof loadPrices>,
): Promise<Measurement[]> {
  const { getContainer } = await import('../functions/platform/container.ts');
  const { handler } = await import('../functions/handlers/replay.ts');
  const { StateMachine } = await import('aws-local-stepfunctions');
  const container = getContainer();
  const payment = JSON.parse(loadFixture('stripe/payment_intent.succeeded').raw) as {
    data: { object: Record<string, unknown> };
  };
  for (let i = 0; i < REPLAYED; i++)
    await container.queues.deadLetter(
      flow.name,
      {
        specversion: '1.0',
        id: `evt_replay_${i}`,
        source: '/webhooks/stripe',
        type: 'payment_intent.succeeded',
        time: new Date().toISOString(),
        subject: `pi_replay_${i}`,
        datacontenttype: 'application/json',
        spinecontract: 'stripe.payment-intent@1.2.0',
        spineflow: flow.name,
        spinesource: 'stripe',
        correlationid: randomUUID(),
        spinereceivedat: new Date().toISOString(),
        spinereplaycount: 0,
        data: payment.data.object,
      } as never,
      { reason: 'odoo-unavailable', message: 'bench' },
    );
  // aws-local-stepfunctions needs Promise.withResolvers, which Node 20 lacks.
  const promise = Promise as unknown as { withResolvers?: unknown };
  promise.withResolvers ??= () => {
    let resolve!: (value: unknown) => void;
    let reject!: (reason?: unknown) => void;
    const created = new Promise((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise: created, resolve, reject };
  };
  const machine = new StateMachine(
    replayDefinition({
      functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:spine-local-replay',
      flows,
    }) as never,
    { validationOptions: { checkArn: true } },
  );
  const run = async (input: unknown) => (await handler(input as never)) as never;
  const execution = machine.run({ flow: flow.name, ratePerSecond: 0 } as never, {
    overrides: {
      taskResourceLocalHandlers: { ReplayTurn: run, Finish: run, RevealAfterFailure: run },
    },
  });
  let transitions = 0;
  const counted = (async () => {
    for await (const event of execution.eventLogs)
      if (event.type === 'StateEntered' || event.type === 'MapIterationStarted') transitions++;
  })();
  const outcome = (await execution.result) as unknown as { replayed: number };
  await counted;
  const perEvent = transitions / Math.max(1, outcome.replayed);
  return [
    {
      metric: 'replay: Step Functions transitions per replayed event',
      case: `${outcome.replayed} dead letters`,
      value: perEvent,
      unit: 'transitions',
    },
    {
      metric: '$ per million replayed events (transitions only)',
      case: `${outcome.replayed} dead letters`,
      value: replayDollarsPerMillion(perEvent, prices),
      unit: '$',
    },
  ];
}
