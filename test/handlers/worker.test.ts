/**
 * The worker handler, called as Lambda calls it, against the embedded runtime:
 * - each event's arrival (received, queued) recorded with its outcome, whatever the outcome, and
 *   without the redacted view when the redaction key cannot be read;
 * - on a FIFO flow, records in order within a message group, the rest of a group skipped after a
 *   failure, and the groups side by side, so records of different groups reach Odoo together.
 */
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Envelope } from '../../functions/ingest/envelope.ts';
import { DynamoDbLineageStore } from '../../functions/lineage/dynamodb-store.ts';
import { resetContainer } from '../../functions/platform/container.ts';
import { localDynamoDbClient } from '../../local/dynamodb.ts';
import { lambdaContext } from '../../local/lambda-context.ts';
import { loadFixture } from '../support/fixtures.ts';
import { localSecretsClient, startTestRuntime } from '../support/local-runtime.ts';
import { contractNamed, queuedEnvelope, sqsRecordOf } from '../support/queued-events.ts';

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
const contract = contractNamed('stripe.payment-intent');
const payment = JSON.parse(loadFixture('stripe/payment_intent.succeeded').raw) as {
  data: { object: Record<string, unknown> };
};
const SENT = Date.parse('2025-02-01T10:00:02.000Z');

const paymentEvent = (id: string, object: Record<string, unknown> = {}): Envelope =>
  queuedEnvelope(
    contract,
    { ...payment, id, data: { object: { ...payment.data.object, id: `pi_${id}`, ...object } } },
    {
      id,
      subject: `pi_${id}`,
      type: 'payment_intent.succeeded',
      time: '2025-02-01T09:59:00.000Z',
      receivedAt: '2025-02-01T10:00:01.000Z',
    },
  );

const sqsRecord = (envelope: Envelope) => sqsRecordOf(envelope, { sentAt: SENT });

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
      expect(trail.slice(0, 3).map((e) => e.stage)).toEqual(['received', 'queued', outcome]);
      // The receiver's time (from the envelope) and the queue's (SentTimestamp).
      expect(trail.slice(0, 2).map((e) => e.at)).toEqual([
        '2025-02-01T10:00:01.000Z',
        '2025-02-01T10:00:02.000Z',
      ]);
      // A failure keeps the redacted view of what arrived, for a person to look into; an
      // applied event keeps the vendor's figures and fingerprints of what it wrote instead.
      if (outcome === 'failed')
        expect(JSON.stringify(trail[0]?.redacted)).toMatch(/"receipt_email":"hmac:/);
      else expect(trail[0]?.redacted).toBeUndefined();
    }
  });

  it('are recorded without the redacted view when the redaction key cannot be read', async () => {
    const secrets = localSecretsClient(runtime);
    const name = process.env.SPINE_REDACTION_SECRET as string;
    const { SecretString } = await secrets.send(new GetSecretValueCommand({ SecretId: name }));
    await secrets.send(new DeleteSecretCommand({ SecretId: name }));
    resetContainer();
    try {
      // A failed event: its outcome would keep the redacted view, had the key been readable.
      const result = await worker(
        { Records: [sqsRecord(paymentEvent('evt_arrival_no_key', { currency: 'EURO' }))] },
        lambdaContext('worker', 60_000),
      );
      expect(result.batchItemFailures).toEqual([]);
      const trail = await lineage().byEvent('stripe', 'evt_arrival_no_key');
      expect(trail.slice(0, 3).map((e) => e.stage)).toEqual(['received', 'queued', 'failed']);
      expect(trail[0]).not.toHaveProperty('redacted');
    } finally {
      await secrets.send(new CreateSecretCommand({ Name: name, SecretString }));
      resetContainer();
    }
  });
});

const customers = contractNamed('stripe.customer');
const fixture = JSON.parse(loadFixture('stripe/customer.created').raw) as {
  data: { object: Record<string, unknown> };
};

/** A Stripe customer event as the receiver queues it. */
function customerEvent(
  id: string,
  customer: string,
  values: { name: string; email: string; at: string; city?: string },
): Envelope {
  return queuedEnvelope(
    customers,
    {
      ...fixture,
      id,
      type: 'customer.updated',
      created: Math.floor(Date.parse(values.at) / 1000),
      data: {
        object: {
          ...fixture.data.object,
          id: customer,
          name: values.name,
          email: values.email,
          address: {
            ...(fixture.data.object.address as object),
            city: values.city ?? 'Lyon',
          },
        },
      },
    },
    { id, subject: customer, type: 'customer.updated', time: values.at },
  );
}

const partners = (email: string) =>
  runtime.odooEmulator?.orm.call(
    2,
    'res.partner',
    'search_read',
    [[['email', '=', email]], ['name', 'city']],
    {},
  ) as { name: string; city: string }[];

async function countingOdooCalls<T>(run: () => Promise<T>): Promise<{ result: T; calls: number }> {
  const original = globalThis.fetch;
  let calls = 0;
  globalThis.fetch = (...args: Parameters<typeof fetch>) => {
    calls++;
    return original(...args);
  };
  try {
    return { result: await run(), calls };
  } finally {
    globalThis.fetch = original;
  }
}

describe('the worker on a FIFO flow', { timeout: 60_000 }, () => {
  it('applies the records of different groups together, in one batch', async () => {
    const records = Array.from({ length: 10 }, (_, i) =>
      sqsRecordOf(
        customerEvent(`evt_fifo_many_${i}`, `cus_fifo_many_${i}`, {
          name: `Many ${i}`,
          email: `many.${i}@example.com`,
          at: '2025-02-01T10:00:00.000Z',
        }),
      ),
    );
    const { result, calls } = await countingOdooCalls(() =>
      worker({ Records: records }, lambdaContext('worker', 60_000)),
    );
    expect(result.batchItemFailures).toEqual([]);
    for (let i = 0; i < 10; i++) expect(partners(`many.${i}@example.com`)).toHaveLength(1);
    // One record at a time takes three or more round trips each.
    expect(calls).toBeLessThan(10);
  });

  it("applies a group's records one after another, in the queue's order", async () => {
    // Stripe owns the address; the name is the CRM's, set on create only.
    const first = customerEvent('evt_fifo_order_1', 'cus_fifo_order', {
      name: 'Ordered Customer',
      email: 'order@example.com',
      at: '2025-02-01T10:00:00.000Z',
      city: 'Lyon',
    });
    const second = customerEvent('evt_fifo_order_2', 'cus_fifo_order', {
      name: 'Ordered Customer',
      email: 'order@example.com',
      at: '2025-02-01T10:05:00.000Z',
      city: 'Grenoble',
    });
    const result = await worker(
      {
        Records: [sqsRecordOf(first), sqsRecordOf(second)],
      },
      lambdaContext('worker', 60_000),
    );
    expect(result.batchItemFailures).toEqual([]);
    expect(partners('order@example.com')).toEqual([expect.objectContaining({ city: 'Grenoble' })]);
    const applied = async (id: string) =>
      (await lineage().byEvent('stripe', id)).find((e) => e.stage === 'applied');
    const [one, two] = [await applied('evt_fifo_order_1'), await applied('evt_fifo_order_2')];
    expect(one?.outcome).toBe('created');
    expect(two?.outcome).toBe('updated');
    expect((one?.at as string) <= (two?.at as string)).toBe(true);
  });

  it('skips the rest of a group after a failure, and goes on with the other groups', async () => {
    const stuck = customerEvent('evt_fifo_stuck', 'cus_fifo_stuck', {
      name: 'Stuck Behind',
      email: 'stuck@example.com',
      at: '2025-02-01T10:00:00.000Z',
    });
    // Not an envelope, in the same group before it: the group stops there.
    const broken = sqsRecordOf(stuck, { body: '{"not": "an envelope"}' });
    const after = sqsRecordOf(stuck);
    const other = sqsRecordOf(
      customerEvent('evt_fifo_free', 'cus_fifo_free', {
        name: 'Free Group',
        email: 'free@example.com',
        at: '2025-02-01T10:00:00.000Z',
      }),
    );
    const result = await worker(
      { Records: [broken, after, other] },
      lambdaContext('worker', 60_000),
    );
    expect(result.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      [broken.messageId, after.messageId].sort(),
    );
    expect(partners('stuck@example.com')).toEqual([]);
    expect(partners('free@example.com')).toHaveLength(1);
    // The skipped record left no idempotency record: its redelivery is applied.
    const again = await worker({ Records: [after] }, lambdaContext('worker', 60_000));
    expect(again.batchItemFailures).toEqual([]);
    expect(partners('stuck@example.com')).toHaveLength(1);
  });
});

describe('the last allowed delivery', { timeout: 60_000 }, () => {
  it('is dead-lettered by the worker with its reason, and lineage says so', async () => {
    const limit = Number(process.env.SPINE_MAX_RECEIVE_COUNT);
    expect(limit).toBeGreaterThan(1);
    // Its customer never arrives: a retryable failure on every delivery.
    const orphan = paymentEvent('evt_last_delivery', { customer: 'cus_never_arrives' });
    const delivery = (count: number) => {
      const record = sqsRecord(orphan);
      return {
        ...record,
        attributes: { ...record.attributes, ApproximateReceiveCount: String(count) },
      };
    };
    const payments = runtime.flows.find((f) => f.name === 'payments');
    const deadLetters = () =>
      [
        ...(runtime.sqs.store.queues
          .get(payments?.deadLetterQueueUrl.split('/').at(-1) as string)
          ?.messages.values() ?? []),
      ].filter((m) => m.body.includes('evt_last_delivery'));

    const early = await worker({ Records: [delivery(limit - 1)] }, lambdaContext('worker', 60_000));
    expect(early.batchItemFailures).toHaveLength(1);
    expect(deadLetters()).toHaveLength(0);

    const last = await worker({ Records: [delivery(limit)] }, lambdaContext('worker', 60_000));
    expect(last.batchItemFailures).toEqual([]);
    const [letter] = deadLetters();
    expect(JSON.parse(letter?.body ?? '{}').spinedeadletter).toMatchObject({
      reason: 'relation-not-found',
    });
    const trail = await lineage().byEvent('stripe', 'evt_last_delivery');
    expect(trail.at(-1)).toMatchObject({
      stage: 'dead-lettered',
      error: { code: 'relation-not-found', retryable: true },
    });
    expect(trail.at(-1)?.detail).toContain(`after ${limit} deliveries`);
  });
});
