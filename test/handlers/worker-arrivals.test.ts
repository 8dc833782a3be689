/**
 * The worker records each event's arrival (received, queued) with its outcome: whatever the
 * outcome, and without the redacted view when the redaction key cannot be read.
 */
import { randomUUID } from 'node:crypto';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadContractRegistry, minimise } from '../../functions/contracts/index.ts';
import type { Envelope } from '../../functions/ingest/envelope.ts';
import { DynamoDbLineageStore } from '../../functions/lineage/dynamodb-store.ts';
import { resetContainer } from '../../functions/platform/container.ts';
import { localDynamoDbClient } from '../../local/dynamodb.ts';
import { lambdaContext } from '../../local/lambda-context.ts';
import { loadFixture } from '../support/fixtures.ts';
import { startTestRuntime } from '../support/local-runtime.ts';

type Runtime = Awaited<ReturnType<typeof startTestRuntime>>;
let runtime: Runtime;
let worker: typeof import('../../functions/handlers/worker.ts').handler;

beforeAll(async () => {
  runtime = await startTestRuntime({ pollers: false });
  worker = (await import('../../functions/handlers/worker.ts')).handler;
  // The payments refer to this Stripe customer.
  const orm = runtime.odooEmulator?.orm;
  const partner = orm?.call(2, 'res.partner', 'create', [{ name: 'Arrival Customer' }], {});
  orm?.call(
    2,
    'ir.model.data',
    'create',
    [
      {
        module: 'spine',
        name: 'stripe_customer_cus_RdrHvYMPzaRkCn',
        model: 'res.partner',
        res_id: partner,
      },
    ],
    {},
  );
}, 60_000);
afterAll(() => runtime?.dispose());

const lineage = () =>
  new DynamoDbLineageStore(localDynamoDbClient(runtime.dynamoDbUrl), 'spine-local-lineage');
const registry = loadContractRegistry();
const contract = registry.contract('stripe.payment-intent') as NonNullable<
  ReturnType<typeof registry.contract>
>;
const payment = JSON.parse(loadFixture('stripe/payment_intent.succeeded').raw) as {
  data: { object: Record<string, unknown> };
};
const SENT = Date.parse('2025-02-01T10:00:02.000Z');

function paymentEvent(id: string, object: Record<string, unknown> = {}): Envelope {
  return {
    specversion: '1.0',
    id,
    source: '/webhooks/stripe',
    type: 'payment_intent.succeeded',
    time: '2025-02-01T09:59:00.000Z',
    subject: `pi_${id}`,
    datacontenttype: 'application/json',
    spinecontract: `${contract.id}@${contract.version}`,
    spineflow: 'payments',
    spinesource: 'stripe',
    correlationid: randomUUID(),
    spinereceivedat: '2025-02-01T10:00:01.000Z',
    spinereplaycount: 0,
    data: minimise(contract.shape, {
      ...payment,
      id,
      data: { object: { ...payment.data.object, id: `pi_${id}`, ...object } },
    }),
  };
}

const sqsRecord = (envelope: Envelope): SQSRecord => ({
  messageId: randomUUID(),
  receiptHandle: 'test',
  body: JSON.stringify(envelope),
  md5OfBody: '',
  eventSource: 'aws:sqs',
  eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:spine-local-payments',
  awsRegion: 'us-east-1',
  attributes: {
    ApproximateReceiveCount: '1',
    SentTimestamp: String(SENT),
    SenderId: 'test',
    ApproximateFirstReceiveTimestamp: String(SENT),
  },
  messageAttributes: {},
});

describe('arrivals recorded by the worker', { timeout: 60_000 }, () => {
  it("come before the outcome, at the receiver's and the queue's times, failed or not", async () => {
    const good = paymentEvent('evt_arrival_good');
    // Breaks the contract on revalidation: a permanent failure, dead-lettered.
    const bad = paymentEvent('evt_arrival_bad', { currency: 'EURO' });
    const result = await worker(
      { Records: [sqsRecord(good), sqsRecord(bad)] },
      lambdaContext('worker', 60_000),
    );
    expect(result.batchItemFailures).toEqual([]);
    for (const [id, outcome] of [
      ['evt_arrival_good', 'applied'],
      ['evt_arrival_bad', 'failed'],
    ] as const) {
      const trail = await lineage().byEvent('stripe', id);
      expect(trail.slice(0, 3).map((e) => [e.stage, e.stage === outcome || e.at])).toEqual([
        ['received', '2025-02-01T10:00:01.000Z'],
        ['queued', '2025-02-01T10:00:02.000Z'],
        [outcome, true],
      ]);
      expect(JSON.stringify(trail[0]?.redacted)).toMatch(/"receipt_email":"hmac:/);
    }
  });

  it('are recorded without the redacted view when the redaction key cannot be read', async () => {
    const secrets = new SecretsManagerClient({
      endpoint: runtime.secretsManagerUrl,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
    });
    const name = process.env.SPINE_REDACTION_SECRET as string;
    const { SecretString } = await secrets.send(new GetSecretValueCommand({ SecretId: name }));
    await secrets.send(new DeleteSecretCommand({ SecretId: name }));
    resetContainer();
    try {
      const result = await worker(
        { Records: [sqsRecord(paymentEvent('evt_arrival_no_key'))] },
        lambdaContext('worker', 60_000),
      );
      expect(result.batchItemFailures).toEqual([]);
      const trail = await lineage().byEvent('stripe', 'evt_arrival_no_key');
      expect(trail.map((e) => e.stage)).toEqual(['received', 'queued', 'applied', 'related']);
      expect(trail[0]).not.toHaveProperty('redacted');
    } finally {
      await secrets.send(new CreateSecretCommand({ Name: name, SecretString }));
      resetContainer();
    }
  });
});
