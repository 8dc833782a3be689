/**
 * How fast the local workers drain a flow into the Odoo emulator when it already holds a
 * realistic database (20,000 partners with their external ids): events are queued first, then
 * the flow's event source (batches of 10, two at once, as `spine local` runs it) feeds the
 * worker until the queue is empty. The same run measures the emulator journaling each commit
 * and, as the baseline, rewriting its whole snapshot after each commit (what it did before).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { Envelope } from '../functions/ingest/envelope.ts';
import { deduplicationId, groupId } from '../functions/platform/queues.ts';
import { startEventSource } from '../local/event-source.ts';
import type { CommitLog } from '../local/odoo/database.ts';
import type { OdooJournal } from '../local/odoo/journal.ts';
import { startOdooEmulator } from '../local/odoo/server.ts';
import type { FlowEndpoints } from '../local/runtime.ts';
import { queueArn } from '../local/sqs/store.ts';
import { loadFixture } from '../test/support/fixtures.ts';
import { localSqsClient, startTestRuntime } from '../test/support/local-runtime.ts';
import { contractNamed, queuedEnvelope } from '../test/support/queued-events.ts';
import type { Benchmark, Measurement } from './harness.ts';
import { SnapshotPerWrite } from './snapshot-per-write.ts';

/** Partners the emulator holds before the drain, each with an external id. */
const PARTNERS = 20_000;
const EVENTS = 400;
const WARM_EVENTS = 50;
/** Gives up on a drain that has not finished by then (a stuck worker, not a slow one). */
const DRAIN_LIMIT_MS = 15 * 60_000;

export const odooDrainBenchmark: Benchmark = {
  name: `Local workers draining a flow into the Odoo emulator holding ${PARTNERS.toLocaleString('en')} partners`,
  async run(): Promise<Measurement[]> {
    process.env.POWERTOOLS_LOG_LEVEL = 'ERROR';
    // What the runtime allows its own emulator; an Odoo given by URL would get production's 20/s.
    process.env.SPINE_ODOO_RATE_PER_SECOND ??= '1000';
    process.env.SPINE_ODOO_MAX_CONCURRENCY ??= '8';
    const dir = mkdtempSync(join(tmpdir(), 'spine-drain-'));
    const file = join(dir, 'odoo.json');
    const emulator = await startOdooEmulator({ snapshotFile: file });
    const db = emulator.orm.db;
    const secrets = () => [...emulator.orm.users.values()];
    try {
      const fixture = loadFixture('stripe/payment_intent.succeeded').raw;
      const paymentEvent = JSON.parse(fixture) as { data: { object: Record<string, unknown> } };
      const customerEvent = JSON.parse(loadFixture('stripe/customer.created').raw) as {
        data: { object: Record<string, unknown> };
      };
      const customerId = String(paymentEvent.data.object.customer);
      for (let start = 0; start < PARTNERS; start += 2_000) {
        const rows = Array.from({ length: Math.min(2_000, PARTNERS - start) }, (_, k) => {
          const i = start + k;
          return [
            i === 0 ? `spine.stripe_customer_${customerId}` : `spine.stripe_customer_cus_held_${i}`,
            `Held Customer ${i}`,
            `held.${i}@example.com`,
            `${i} Market Street`,
            'Lyon',
          ];
        });
        const loaded = emulator.orm.call(
          emulator.admin.uid,
          'res.partner',
          'load',
          [['id', 'name', 'email', 'street', 'city'], rows],
          {},
        ) as { ids: number[] | false };
        if (loaded.ids === false) throw new Error('could not load the partners to start from');
      }

      const runtime = await startTestRuntime({
        pollers: false,
        odoo: {
          url: emulator.url,
          database: emulator.database,
          login: emulator.integration.login,
          password: emulator.integration.password,
        },
      });
      try {
        const { handler: worker } = await import('../functions/handlers/worker.ts');
        const sqs = localSqsClient(runtime);
        const flow = (name: string) => runtime.flows.find((f) => f.name === name) as FlowEndpoints;

        const payment = (i: number, tag: string): Envelope =>
          queuedEnvelope(
            contractNamed('stripe.payment-intent'),
            {
              ...paymentEvent,
              id: `evt_${tag}_${i}`,
              data: { object: { ...paymentEvent.data.object, id: `pi_${tag}_${i}` } },
            },
            { id: `evt_${tag}_${i}`, subject: `pi_${tag}_${i}`, type: 'payment_intent.succeeded' },
          );
        // New customers: each is matched by e-mail against the partners held, then created.
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

        /** Queues the events, then runs the flow's event source until every one is applied. */
        const drain = async (
          endpoints: FlowEndpoints,
          make: (i: number, tag: string) => Envelope,
          tag: string,
          count: number,
        ) => {
          const events = Array.from({ length: count }, (_, i) => make(i, tag));
          for (let i = 0; i < events.length; i += 10) {
            await sqs.send(
              new SendMessageBatchCommand({
                QueueUrl: endpoints.queueUrl,
                Entries: events.slice(i, i + 10).map((e, j) => ({
                  Id: String(j),
                  MessageBody: JSON.stringify(e),
                  ...(endpoints.fifo
                    ? { MessageGroupId: groupId(e), MessageDeduplicationId: deduplicationId(e) }
                    : {}),
                })),
              }),
            );
          }
          let applied = 0;
          let retried = 0;
          const started = performance.now();
          const source = startEventSource(
            sqs,
            {
              functionName: `spine-local-worker-${endpoints.name}`,
              queueUrl: endpoints.queueUrl,
              queueArn: queueArn(endpoints.queueUrl.split('/').at(-1) as string),
              handler: worker,
              batchSize: 10,
              maximumBatchingWindowSeconds: 0,
              maximumConcurrency: 2,
              timeoutSeconds: 30,
              reportBatchItemFailures: true,
            },
            (outcome) => {
              applied += outcome.records.length - outcome.failed.length;
              retried += outcome.failed.length;
            },
          );
          try {
            while (applied < count) {
              if (performance.now() - started > DRAIN_LIMIT_MS)
                throw new Error(`drained ${applied} of ${count} ${tag} events in time`);
              await sleep(10);
            }
          } finally {
            await source.stop();
          }
          const seconds = (performance.now() - started) / 1000;
          return { perSecond: count / seconds, seconds, retried };
        };

        const journal = db.logTo(undefined) as OdooJournal;
        const measure = async (
          name: string,
          make: (i: number, tag: string) => Envelope,
          log: CommitLog,
          bytes: () => number,
        ) => {
          db.logTo(log);
          const before = bytes();
          const result = await drain(
            flow(name),
            make,
            `${name}_${log === journal ? 'journal' : 'snapshot'}`,
            EVENTS,
          );
          return { ...result, bytesPerEvent: (bytes() - before) / EVENTS };
        };
        const journalBytes = () => journal.appendedBytes + journal.compactedBytes;
        const baseline = new SnapshotPerWrite(db, join(dir, 'baseline.json'), secrets);
        const baselineBytes = () => baseline.bytesWritten;

        db.logTo(journal);
        await drain(flow('payments'), payment, 'warm_payments', WARM_EVENTS);
        await drain(flow('customers'), customer, 'warm_customers', WARM_EVENTS);
        const payments = await measure('payments', payment, journal, journalBytes);
        const paymentsBaseline = await measure('payments', payment, baseline, baselineBytes);
        const customers = await measure('customers', customer, journal, journalBytes);
        const customersBaseline = await measure('customers', customer, baseline, baselineBytes);
        db.logTo(journal);

        const held = emulator.orm.call(
          emulator.admin.uid,
          'account.payment',
          'search_count',
          [[]],
          {},
        );
        if (held !== WARM_EVENTS + 2 * EVENTS)
          throw new Error(`expected ${WARM_EVENTS + 2 * EVENTS} payments in Odoo, found ${held}`);

        const rows = (
          metric: string,
          journalled: typeof payments,
          rewritten: typeof payments,
        ): Measurement[] => [
          {
            metric,
            case: `${EVENTS} events, journal per commit`,
            value: journalled.perSecond,
            baseline: rewritten.perSecond,
            baselineLabel: 'whole snapshot per commit',
            unit: 'events/s',
          },
          {
            metric: `${metric}: bytes persisted per event`,
            case: 'journal (compactions included)',
            value: journalled.bytesPerEvent,
            baseline: rewritten.bytesPerEvent,
            baselineLabel: 'whole snapshot per commit',
            unit: 'bytes',
          },
          {
            metric: `${metric}: records retried`,
            case: 'journal per commit',
            value: journalled.retried,
            baseline: rewritten.retried,
            baselineLabel: 'whole snapshot per commit',
            unit: 'records',
          },
        ];
        return [
          ...rows('drain rate, payments flow (standard queue)', payments, paymentsBaseline),
          ...rows('drain rate, customers flow (FIFO, new customers)', customers, customersBaseline),
        ];
      } finally {
        await runtime.dispose();
      }
    } finally {
      await emulator.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
