/**
 * A worker for event source tests, loaded by module like the real one. Each record's body says
 * what to do: `{"stallMs": n}` stalls for n ms, as a worker stuck on a slow Odoo, ticking
 * while it waits, on the first receive (the first `stallReceives`); `{"fail": "why"}` throws. Everything it does is appended, one
 * JSON object a line, to the file named by SLEEPY_WORKER_LOG, with the id of the execution
 * environment (one per module load, so a cold start shows as a new id).
 */
import { appendFileSync } from 'node:fs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';

const environment = Math.random().toString(36).slice(2);

export interface SleepyWorkerLine {
  readonly at: 'start' | 'tick' | 'after-stall';
  readonly environment: string;
  readonly bodies: string[];
  readonly receives: string[];
  readonly remainingMs?: number;
  readonly maxReceiveCount?: string;
  /** When it was written (epoch ms). */
  readonly ms: number;
}

function note(line: Omit<SleepyWorkerLine, 'ms'>): void {
  const written: SleepyWorkerLine = { ...line, ms: Date.now() };
  appendFileSync(process.env.SLEEPY_WORKER_LOG as string, `${JSON.stringify(written)}\n`);
}

export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  const bodies = event.Records.map((r) => r.body);
  const receives = event.Records.map((r) => r.attributes.ApproximateReceiveCount);
  const seen = { environment, bodies, receives };
  note({
    at: 'start',
    ...seen,
    remainingMs: context.getRemainingTimeInMillis(),
    ...(process.env.SPINE_MAX_RECEIVE_COUNT
      ? { maxReceiveCount: process.env.SPINE_MAX_RECEIVE_COUNT }
      : {}),
  });
  const orders = event.Records.map(
    (r) => JSON.parse(r.body) as { stallMs?: number; stallReceives?: number; fail?: string },
  );
  const failure = orders.find((o) => o.fail)?.fail;
  if (failure) throw new Error(failure);
  const receive = Number(receives[0]);
  const stallMs = Math.max(
    0,
    ...orders.map((o) => (receive <= (o.stallReceives ?? 1) ? (o.stallMs ?? 0) : 0)),
  );
  if (stallMs > 0) {
    const until = Date.now() + stallMs;
    while (Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      note({ at: 'tick', ...seen });
    }
    note({ at: 'after-stall', ...seen });
  }
  return { batchItemFailures: [] };
}
