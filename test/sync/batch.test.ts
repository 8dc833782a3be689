/**
 * The batch unit of the worker, with its ports faked: which records go back to the queue, which
 * are dead-lettered with their reason, and which wait for a known time.
 */
import { describe, expect, it } from 'vitest';
import type { DeadLetterReport, Envelope } from '../../functions/ingest/envelope.ts';
import { OdooCircuitOpen, OdooTransportError } from '../../functions/odoo/errors/index.ts';
import type { ApplyOutcome } from '../../functions/sync/apply.ts';
import {
  applyQueueBatch,
  type DeliveryLedger,
  type DeliveryState,
  type QueuedRecord,
} from '../../functions/sync/batch.ts';
import { EnrichedObjectViolation } from '../../functions/sync/enrichment-errors.ts';
import { EntityBusy } from '../../functions/sync/entity-busy.ts';
import { MemoryLineageStore } from '../support/memory-lineage.ts';
import { contractNamed, queuedEnvelope } from '../support/queued-events.ts';

const NOW = new Date('2025-02-01T10:00:00.000Z');

function envelope(id: string, subject = `cus_${id}`): Envelope {
  return queuedEnvelope(
    contractNamed('stripe.customer'),
    { id, object: 'event', type: 'customer.created', created: 1, data: { object: {} } },
    { id, subject, type: 'customer.created' },
  );
}

const record = (env: Envelope, receiveCount = 1, group?: string): QueuedRecord => ({
  messageId: `m-${env.id}`,
  body: JSON.stringify(env),
  receiveCount,
  sentAt: NOW,
  ...(group ? { group } : {}),
});

class Ledger implements DeliveryLedger {
  readonly states = new Map<string, DeliveryState>();
  async begin(r: QueuedRecord) {
    return this.states.get(r.messageId) ?? 'new';
  }
  async complete(r: QueuedRecord) {
    this.states.set(r.messageId, 'done');
  }
  async abandon(r: QueuedRecord) {
    this.states.delete(r.messageId);
  }
}

function run(
  records: QueuedRecord[],
  outcomeOf: (env: Envelope) => ApplyOutcome,
  options: { maxReceiveCount?: number; odooPausedForMs?: () => number } = {},
) {
  const lineage = new MemoryLineageStore();
  const letters: { envelope: Envelope; report: DeadLetterReport }[] = [];
  const applied: string[][] = [];
  const result = applyQueueBatch(records, {
    ledger: new Ledger(),
    apply: async (envelopes) => {
      applied.push(envelopes.map((e) => e.id));
      return envelopes.map(outcomeOf);
    },
    deadLetter: async (env, report) => {
      letters.push({ envelope: env, report });
    },
    lineage,
    arrivalOf: () => [],
    logger: { info: () => {}, warn: () => {}, error: () => {} },
    telemetry: { count: () => {} },
    ...options,
    deadline: { at: new Date(Date.now() + 60_000), signal: new AbortController().signal },
    now: () => NOW,
    // No jitter: the shortest wait of the schedule.
    random: () => 1,
  });
  return { result, lineage, letters, applied };
}

const applied: ApplyOutcome = {
  kind: 'applied',
  model: 'res.partner',
  recordId: 1,
  externalId: 'spine.x',
  status: 'created',
};

describe('a batch of a flow queue', () => {
  it('holds back a record that waits for a claim until the claim lapses', async () => {
    const { result } = run([record(envelope('evt_busy'))], () => ({
      kind: 'failed',
      retryable: true,
      error: new EntityBusy('stripe.customer cus_1', 'evt_older', '2025-02-01T10:02:00.000Z'),
    }));
    expect(await result).toEqual({
      failed: ['m-evt_busy'],
      retryAfter: [{ messageId: 'm-evt_busy', seconds: 121 }],
    });
  });

  it('dead-letters a fetched object that breaks its enrich schema with the violations', async () => {
    const violations = [
      { path: '$contact.properties.email', keyword: 'type', message: 'must be string,null' },
    ];
    const { result, letters } = run([record(envelope('evt_broken_answer'))], () => ({
      kind: 'failed',
      retryable: false,
      error: new EnrichedObjectViolation(
        'hubspot.contact-creation@2.0.0',
        'hubspot.contact',
        violations,
      ),
    }));
    expect((await result).failed).toEqual([]);
    expect(letters.map((l) => l.report)).toEqual([
      {
        reason: 'enriched-object-violation',
        message: expect.stringContaining('does not satisfy its enrich schema'),
        violations,
      },
    ]);
  });

  it('dead-letters the last allowed delivery of a retryable failure, with its reason', async () => {
    const transport = new OdooTransportError('Odoo answered HTTP 502', { status: 502 });
    const { result, letters, lineage } = run(
      [record(envelope('evt_early'), 2), record(envelope('evt_last'), 3)],
      () => ({ kind: 'failed', retryable: true, error: transport }),
      { maxReceiveCount: 3 },
    );
    expect((await result).failed).toEqual(['m-evt_early']);
    expect(letters.map((l) => [l.envelope.id, l.report.reason])).toEqual([
      ['evt_last', 'odoo-transport'],
    ]);
    expect(lineage.entries).toEqual([
      expect.objectContaining({
        eventId: 'evt_last',
        stage: 'dead-lettered',
        error: expect.objectContaining({ code: 'odoo-transport', retryable: true }),
      }),
    ]);
  });

  it('keeps a FIFO group in order: the records after a failure go back unapplied', async () => {
    const first = envelope('evt_g1', 'cus_g');
    const second = envelope('evt_g2', 'cus_g');
    const other = envelope('evt_h1', 'cus_h');
    const { result, applied: waves } = run(
      [record(first, 1, 'g'), record(second, 1, 'g'), record(other, 1, 'h')],
      (env) =>
        env.id === 'evt_g1'
          ? { kind: 'failed', retryable: true, error: new Error('lock') }
          : applied,
    );
    expect((await result).failed.sort()).toEqual(['m-evt_g1', 'm-evt_g2']);
    // One wave: the first record of each group together; the second of g never ran.
    expect(waves).toEqual([['evt_g1', 'evt_h1']]);
  });

  it('backs a retried record off by its receive count, so that the redrive limit outlasts an outage', async () => {
    const transport = new OdooTransportError('Odoo answered HTTP 503', { status: 503 });
    const { result } = run(
      [1, 2, 3, 6, 12].map((count) => record(envelope(`evt_r${count}`), count)),
      () => ({ kind: 'failed', retryable: true, error: transport }),
      { maxReceiveCount: 20 },
    );
    // 30 s doubling per receive, at least 80 % of it, up to 15 minutes.
    expect((await result).retryAfter).toEqual([
      { messageId: 'm-evt_r1', seconds: 24 },
      { messageId: 'm-evt_r2', seconds: 48 },
      { messageId: 'm-evt_r3', seconds: 96 },
      { messageId: 'm-evt_r6', seconds: 720 },
      { messageId: 'm-evt_r12', seconds: 720 },
    ]);
  });

  it('holds the whole batch back, untouched, while the Odoo circuit is open', async () => {
    const {
      result,
      applied: waves,
      lineage,
    } = run([record(envelope('evt_p1')), record(envelope('evt_p2'), 4)], () => applied, {
      odooPausedForMs: () => 90_000,
    });
    expect(await result).toEqual({
      failed: ['m-evt_p1', 'm-evt_p2'],
      // The circuit's pause where it is longer than the record's own backoff.
      retryAfter: [
        { messageId: 'm-evt_p1', seconds: 90 },
        { messageId: 'm-evt_p2', seconds: 192 },
      ],
    });
    expect(waves).toEqual([]);
    expect(lineage.entries).toEqual([]);
  });

  it('dead-letters a record on its last receive with its reason, even while the circuit is open', async () => {
    const { result, letters } = run(
      [record(envelope('evt_held'), 2), record(envelope('evt_final'), 3)],
      () => ({
        kind: 'failed',
        retryable: true,
        error: new OdooCircuitOpen('http://odoo.test', 5, 90_000),
      }),
      { maxReceiveCount: 3, odooPausedForMs: () => 90_000 },
    );
    expect((await result).failed).toEqual(['m-evt_held']);
    expect(letters.map((l) => [l.envelope.id, l.report.reason])).toEqual([
      ['evt_final', 'odoo-circuit-open'],
    ]);
  });

  it('sends the rest of a FIFO group back with the record that failed', async () => {
    const first = envelope('evt_f1', 'cus_f');
    const second = envelope('evt_f2', 'cus_f');
    const { result } = run([record(first, 3, 'f'), record(second, 1, 'f')], () => ({
      kind: 'failed',
      retryable: true,
      error: new Error('lock'),
    }));
    expect((await result).retryAfter).toEqual([
      { messageId: 'm-evt_f1', seconds: 96 },
      { messageId: 'm-evt_f2', seconds: 96 },
    ]);
  });
});
