/**
 * The replay loop over an in-memory DLQ with AWS-sized receipt handles: what Step Functions
 * would carry between turns, turn after turn.
 */
import { describe, expect, it } from 'vitest';
import {
  type DeadLetterMessage,
  finishReplay,
  type ReplayQueueOperations,
  type ReplayState,
  replayTurn,
} from '../../functions/replay/replay.ts';
import { MemoryLineageStore } from '../support/memory-lineage.ts';

/** What Step Functions accepts as the state between two states (256 KiB). */
const STATE_LIMIT = 256 * 1024;

interface Stored {
  readonly id: string;
  readonly body: string;
  readonly sentTimestamp: number;
  hiddenBy?: string;
}

/** A DLQ whose receipt handles are as long as SQS's (some 400 to 1,000 characters). */
class MemoryDlq implements ReplayQueueOperations {
  readonly messages: Stored[] = [];
  readonly sent: { queueUrl: string; body: string }[] = [];
  private receipts = 0;

  add(body: object, sentTimestamp: number): void {
    this.messages.push({
      id: `m${this.messages.length}`,
      body: JSON.stringify(body),
      sentTimestamp,
    });
  }

  async receive(_queueUrl: string, max: number): Promise<DeadLetterMessage[]> {
    return this.messages
      .filter((m) => !m.hiddenBy)
      .slice(0, max)
      .map((m) => {
        m.hiddenBy = `${m.id}:${++this.receipts}:`.padEnd(700, 'A');
        return {
          receiptHandle: m.hiddenBy,
          body: m.body,
          sentTimestamp: m.sentTimestamp,
          attributes: {},
        };
      });
  }

  async send(queueUrl: string, body: string): Promise<void> {
    this.sent.push({ queueUrl, body });
  }

  async delete(_queueUrl: string, handle: string): Promise<void> {
    const at = this.messages.findIndex((m) => m.hiddenBy === handle);
    if (at >= 0) this.messages.splice(at, 1);
  }

  async reveal(_queueUrl: string, handles: readonly string[]): Promise<void> {
    for (const m of this.messages)
      if (m.hiddenBy && handles.includes(m.hiddenBy)) delete m.hiddenBy;
  }

  async count(): Promise<number> {
    return this.messages.length;
  }
}

const started = Date.parse('2026-11-22T10:00:00Z');
const letter = (i: number, type: string) => ({
  specversion: '1.0',
  id: `evt_${i}`,
  type,
  subject: `cus_${i}`,
  spinesource: 'stripe',
  spinecontract: 'stripe.customer@1.0.0',
  spineflow: 'customers',
  spinereplaycount: 0,
  spinedeadletter: { reason: 'odoo-validation', message: 'refused' },
});

function start(config: Partial<ReplayState['config']> = {}): ReplayState {
  return {
    config: {
      flow: 'customers',
      max: 1000,
      maxReplays: 3,
      dryRun: false,
      ratePerSecond: 0,
      filter: {},
      ...config,
    },
    queues: {
      queueUrl: 'https://sqs/flow',
      deadLetterQueueUrl: 'https://sqs/dlq',
      parkingQueueUrl: 'https://sqs/parking',
      fifo: false,
    },
    totals: { replayed: 0, skipped: 0, parked: 0 },
    startedAt: new Date(started).toISOString(),
    hidden: [],
  };
}

async function run(dlq: MemoryDlq, state: ReplayState) {
  const lineage = new MemoryLineageStore();
  const sizes: number[] = [];
  for (let turn = 0; turn < 1000 && !state.done; turn++) {
    state = await replayTurn(state, { sqs: dlq, lineage });
    sizes.push(JSON.stringify(state).length);
  }
  return { outcome: await finishReplay(state, { sqs: dlq }), sizes, state };
}

describe('a replay turn', () => {
  it('keeps the state Step Functions carries under 256 KiB when thousands of dead letters do not match, and says why it stopped', async () => {
    const dlq = new MemoryDlq();
    for (let i = 0; i < 3000; i++) dlq.add(letter(i, 'customer.created'), started - 60_000);
    dlq.add(letter(3000, 'customer.updated'), started - 60_000);

    const { outcome, sizes } = await run(dlq, start({ filter: { type: 'customer.updated' } }));

    expect(Math.max(...sizes)).toBeLessThan(STATE_LIMIT);
    expect(outcome.stopped).toMatch(/256 KiB.*start another run/);
    expect(outcome.remaining).toBe(3001);
    // Everything set aside is visible again for the next run.
    expect(dlq.messages.every((m) => !m.hiddenBy)).toBe(true);
  });

  it('leaves dead letters sent after the run started to the next run', async () => {
    const dlq = new MemoryDlq();
    dlq.add(letter(1, 'customer.created'), started - 1);
    dlq.add(letter(2, 'customer.created'), started + 5);

    const { outcome } = await run(dlq, start());

    expect(outcome).toMatchObject({ replayed: 1, skipped: 0, remaining: 1 });
    expect(dlq.sent.map((s) => JSON.parse(s.body).id)).toEqual(['evt_1']);
  });

  it('fails with the field named when a console start gives a filter time that is not a time', async () => {
    const dlq = new MemoryDlq();
    dlq.add(letter(1, 'customer.created'), started - 1);
    await expect(run(dlq, start({ filter: { olderThan: 'garbage' } }))).rejects.toThrow(
      /filter\.olderThan must be an ISO 8601 date .* got "garbage"/,
    );
    await expect(run(dlq, start({ filter: { newerThan: '5' } }))).rejects.toThrow(
      /filter\.newerThan/,
    );
    expect(dlq.sent).toEqual([]);
  });

  it('takes a filter time as a date, a date-time with offset, or a duration back from the start', async () => {
    const dlq = new MemoryDlq();
    dlq.add(letter(1, 'customer.created'), started - 3 * 3_600_000);
    dlq.add(letter(2, 'customer.created'), started - 60_000);
    const { outcome } = await run(dlq, start({ filter: { olderThan: '2h' }, dryRun: true }));
    expect(outcome).toMatchObject({ replayed: 1, skipped: 1 });
    const dated = await run(dlq, start({ filter: { newerThan: '2026-11-22T10:30+01:00' } }));
    expect(dated.outcome).toMatchObject({ replayed: 1, skipped: 1 });
    expect(JSON.parse(dlq.sent[0]?.body ?? '{}').id).toBe('evt_2');
  });
});
