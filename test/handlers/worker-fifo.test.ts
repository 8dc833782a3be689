/**
 * The worker on a FIFO flow: in order within a message group, the rest of a group skipped after
 * a failure, and the groups side by side, so records of different groups reach Odoo together.
 */
import { randomUUID } from 'node:crypto';
import type { SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadContractRegistry, minimise } from '../../functions/contracts/index.ts';
import type { Envelope } from '../../functions/ingest/envelope.ts';
import { DynamoDbLineageStore } from '../../functions/lineage/dynamodb-store.ts';
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
}, 60_000);
afterAll(() => runtime?.dispose());

const lineage = () =>
  new DynamoDbLineageStore(localDynamoDbClient(runtime.dynamoDbUrl), 'spine-local-lineage');
const registry = loadContractRegistry();
const contract = registry.contract('stripe.customer') as NonNullable<
  ReturnType<typeof registry.contract>
>;
const fixture = JSON.parse(loadFixture('stripe/customer.created').raw) as {
  data: { object: Record<string, unknown> };
};

/** A Stripe customer event as the receiver queues it. */
function customerEvent(
  id: string,
  customer: string,
  values: { name: string; email: string; at: string; city?: string },
): Envelope {
  return {
    specversion: '1.0',
    id,
    source: '/webhooks/stripe',
    type: 'customer.updated',
    time: values.at,
    subject: customer,
    datacontenttype: 'application/json',
    spinecontract: `${contract.id}@${contract.version}`,
    spineflow: 'customers',
    spinesource: 'stripe',
    correlationid: randomUUID(),
    spinereceivedat: new Date().toISOString(),
    spinereplaycount: 0,
    data: minimise(contract.shape, {
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
    }),
  };
}

function fifoRecord(body: string, group: string): SQSRecord {
  return {
    messageId: randomUUID(),
    receiptHandle: 'test',
    body,
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:spine-local-customers.fifo',
    awsRegion: 'us-east-1',
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(Date.now()),
      SenderId: 'test',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
      MessageGroupId: group,
      MessageDeduplicationId: randomUUID(),
    },
    messageAttributes: {},
  } as SQSRecord;
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
      fifoRecord(
        JSON.stringify(
          customerEvent(`evt_fifo_many_${i}`, `cus_fifo_many_${i}`, {
            name: `Many ${i}`,
            email: `many.${i}@example.com`,
            at: '2025-02-01T10:00:00.000Z',
          }),
        ),
        `stripe.customer:cus_fifo_many_${i}`,
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
    const group = 'stripe.customer:cus_fifo_order';
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
        Records: [
          fifoRecord(JSON.stringify(first), group),
          fifoRecord(JSON.stringify(second), group),
        ],
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
    const broken = fifoRecord('{"not": "an envelope"}', 'stripe.customer:cus_fifo_stuck');
    const after = fifoRecord(
      JSON.stringify(
        customerEvent('evt_fifo_stuck', 'cus_fifo_stuck', {
          name: 'Stuck Behind',
          email: 'stuck@example.com',
          at: '2025-02-01T10:00:00.000Z',
        }),
      ),
      'stripe.customer:cus_fifo_stuck',
    );
    const other = fifoRecord(
      JSON.stringify(
        customerEvent('evt_fifo_free', 'cus_fifo_free', {
          name: 'Free Group',
          email: 'free@example.com',
          at: '2025-02-01T10:00:00.000Z',
        }),
      ),
      'stripe.customer:cus_fifo_free',
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
