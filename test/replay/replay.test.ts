import type { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbLineageStore } from '../../functions/lineage/dynamodb-store.ts';
import { localDynamoDbClient } from '../../local/dynamodb.ts';
import type { OdooEmulator } from '../../local/odoo/server.ts';
import { runReplayLocally } from '../../local/replay.ts';
import { loadFixture } from '../support/fixtures.ts';
import {
  localSqsClient,
  queueDepth,
  sendFixture,
  startTestRuntime,
  waitFor,
} from '../support/local-runtime.ts';

type Runtime = Awaited<ReturnType<typeof startTestRuntime>>;
let runtime: Runtime;
let emulator: OdooEmulator;
let sqs: SQSClient;
let lineage: DynamoDbLineageStore;

const N = 6;
const payment = loadFixture('stripe/payment_intent.succeeded');
// A charge without a PaymentIntent: its refund's partner is the customer's, so it needs no
// original payment (those are in the DLQ beside it) to be replayed on its own.
const refund = (() => {
  const fixture = loadFixture('stripe/charge.refunded');
  return {
    ...fixture,
    raw: fixture.raw.replace(/"payment_intent": "pi_\w+"/, '"payment_intent": null'),
  };
})();
const variant = (fixture: typeof payment, i: number) => ({
  ...fixture,
  raw: fixture.raw
    .replaceAll(/evt_\w+/g, (id) => `${id}_${i}`)
    .replaceAll(/(pi|ch)_3QkZ\w+/g, (id) => `${id}_${i}`),
});

const depth = (queueUrl: string) => queueDepth(sqs, queueUrl);

const paymentsCount = () =>
  emulator.orm.call(2, 'account.payment', 'search_count', [[]], {}) as number;

beforeAll(async () => {
  runtime = await startTestRuntime();
  emulator = runtime.odooEmulator as OdooEmulator;
  sqs = localSqsClient(runtime);
  lineage = new DynamoDbLineageStore(
    localDynamoDbClient(runtime.dynamoDbUrl),
    'spine-local-lineage',
  );
  await sendFixture(runtime, loadFixture('stripe/customer.created'));
  await waitFor('the customer', async () =>
    (await lineage.byEvent('stripe', 'evt_1QkZ7sLkdIwHu7ix4n5nGBQX')).some(
      (e) => e.stage === 'applied',
    ),
  );
}, 60_000);
afterAll(() => runtime.dispose());

describe('DLQ replay, running the state machine definition locally', { timeout: 120_000 }, () => {
  it('brings every failed event into Odoo exactly once after Odoo recovers, and a second replay changes nothing', async () => {
    const flow = runtime.flows.find((f) => f.name === 'payments');
    if (!flow) throw new Error('no payments flow');
    // Odoo refuses every write to payments: the events fail for good and land in the DLQ.
    emulator.faults.set({ failWrites: ['account.payment'], failWritesAs: 'validation' });
    for (let i = 0; i < N; i++)
      expect((await sendFixture(runtime, variant(payment, i))).status).toBe(202);
    for (let i = 0; i < 2; i++)
      expect((await sendFixture(runtime, variant(refund, i))).status).toBe(202);
    await waitFor(
      'the events in the DLQ',
      async () => (await depth(flow.deadLetterQueueUrl)) === N + 2,
    );
    expect(paymentsCount()).toBe(0);

    emulator.faults.clear();
    const progress: number[] = [];
    // A filtered replay moves only the matching events.
    const filtered = await runReplayLocally({
      flows: runtime.flows,
      input: { flow: 'payments', filter: { type: 'charge.refunded' } },
    });
    expect(filtered).toMatchObject({ replayed: 2, parked: 0, skipped: N, remaining: N });
    await waitFor('the refunds', async () => paymentsCount() === 2);

    const dry = await runReplayLocally({
      flows: runtime.flows,
      input: { flow: 'payments', dryRun: true },
    });
    expect(dry).toMatchObject({ replayed: N, remaining: N, dryRun: true });

    const result = await runReplayLocally({
      flows: runtime.flows,
      input: { flow: 'payments' },
      onProgress: (p) => progress.push(p.totals.replayed),
    });
    expect(result).toMatchObject({ replayed: N, skipped: 0, parked: 0, remaining: 0 });
    expect(progress.length).toBeGreaterThan(0);
    await waitFor('every payment in Odoo', async () => paymentsCount() === N + 2);
    expect(await depth(flow.deadLetterQueueUrl)).toBe(0);
    const trail = await lineage.byEvent('stripe', 'evt_3QkZCxLkdIwHu7ix0Wm4yJtF_0');
    expect(trail.map((e) => e.stage)).toEqual(
      expect.arrayContaining(['queued', 'failed', 'replayed', 'applied']),
    );

    const again = await runReplayLocally({ flows: runtime.flows, input: { flow: 'payments' } });
    expect(again).toMatchObject({ replayed: 0, remaining: 0 });
    expect(paymentsCount()).toBe(N + 2);
  });

  it('replays a still-failing event once per run: its return to the DLQ waits for the next run', async () => {
    const flow = runtime.flows.find((f) => f.name === 'payments');
    if (!flow) throw new Error('no payments flow');
    emulator.faults.set({ failWrites: ['account.payment'], failWritesAs: 'validation' });
    try {
      const event = variant(payment, 900);
      expect((await sendFixture(runtime, event)).status).toBe(202);
      await waitFor(
        'the event in the DLQ',
        async () => (await depth(flow.deadLetterQueueUrl)) === 1,
      );

      const result = await runReplayLocally({ flows: runtime.flows, input: { flow: 'payments' } });

      expect(result).toMatchObject({ replayed: 1, parked: 0 });
      const eventId = 'evt_3QkZCxLkdIwHu7ix0Wm4yJtF_900';
      await waitFor('the replay to fail again', async () =>
        (await lineage.byEvent('stripe', eventId)).filter((e) => e.stage === 'failed').length >= 2
          ? (await depth(flow.deadLetterQueueUrl)) === 1
          : false,
      );
      const trail = await lineage.byEvent('stripe', eventId);
      expect(trail.filter((e) => e.stage === 'replayed').map((e) => e.detail)).toEqual([
        'replay 1 after odoo-validation',
      ]);
      expect(trail.some((e) => e.stage === 'parked')).toBe(false);
    } finally {
      emulator.faults.clear();
    }
    // The next run takes it again (replay 2), and Odoo has recovered by now.
    expect(
      await runReplayLocally({ flows: runtime.flows, input: { flow: 'payments' } }),
    ).toMatchObject({ replayed: 1, parked: 0 });
    await waitFor('the DLQ empty', async () => (await depth(flow.deadLetterQueueUrl)) === 0);
  });

  it('finds a matching event behind one that does not match in the same FIFO group, even with --max 1', async () => {
    const flow = runtime.flows.find((f) => f.name === 'customers');
    if (!flow) throw new Error('no customers flow');
    const ids = (fixture: typeof payment) => ({
      ...fixture,
      // A customer of its own: matched by e-mail to the one in Odoo, nothing would be written.
      raw: fixture.raw
        .replaceAll(/(evt|cus)_\w+/g, (id) => `${id}_fifo`)
        .replaceAll(/camille\.durand@/gi, 'fifo.durand@'),
    });
    emulator.faults.set({ failWrites: ['res.partner'], failWritesAs: 'validation' });
    try {
      // One after the other: in one batch the worker would coalesce the older change away.
      await sendFixture(runtime, ids(loadFixture('stripe/customer.created')));
      await waitFor(
        'the creation in the DLQ',
        async () => (await depth(flow.deadLetterQueueUrl)) === 1,
      );
      await sendFixture(runtime, ids(loadFixture('stripe/customer.updated')));
      await waitFor('both in the DLQ', async () => (await depth(flow.deadLetterQueueUrl)) === 2);
    } finally {
      emulator.faults.clear();
    }

    const result = await runReplayLocally({
      flows: runtime.flows,
      input: { flow: 'customers', filter: { type: 'customer.updated' }, max: 1 },
    });

    expect(result).toMatchObject({ replayed: 1, skipped: 1 });
    const trail = await lineage.byEvent('stripe', 'evt_1QkZAqLkdIwHu7ixmFBuZ3rY_fifo');
    expect(trail.map((e) => e.stage)).toContain('replayed');
  });

  it('fails with the known flows named when the flow is unknown or missing', async () => {
    await expect(
      runReplayLocally({ flows: runtime.flows, input: { flow: 'invoices' } }),
    ).rejects.toThrow(/"flow" must be one of: customers, orders, payments/);
    await expect(runReplayLocally({ flows: runtime.flows, input: {} })).rejects.toThrow(
      /"flow" must be one of: customers, orders, payments/,
    );
  });

  it('fails a run whose filter time is not a time, naming the field, instead of matching nothing', async () => {
    await expect(
      runReplayLocally({
        flows: runtime.flows,
        input: { flow: 'payments', filter: { olderThan: 'garbage' } },
      }),
    ).rejects.toThrow(/filter\.olderThan must be an ISO 8601 date.*got "garbage"/);
  });
});
