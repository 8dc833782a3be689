/**
 * One batch of a flow queue, as one unit: each record is claimed in the delivery ledger (a
 * vendor's repeat of an applied event is recognised and written nowhere), the new ones are
 * applied to Odoo together, and each outcome becomes the record's fate: done, retried (a batch
 * item failure), or dead-lettered with its reason.
 *
 * On a FIFO queue the records of one message group go in order: the batch runs in waves, the
 * first record of every group, then the second, ...; once a record of a group fails, the rest of
 * that group is returned unprocessed, so nothing overtakes it. Different groups share each wave.
 */

import { ContractViolation } from '../errors/contract-violation.ts';
import { SpineError } from '../errors/spine-error.ts';
import { eventFields } from '../ingest/arrival.ts';
import type { DeadLetterReport, Envelope } from '../ingest/envelope.ts';
import { fittingReport, parseEnvelope } from '../ingest/envelope.ts';
import type { Logger } from '../ingest/receive.ts';
import type { LineageEntry, LineageStore } from '../lineage/model.ts';
import { OdooCircuitOpen } from '../odoo/errors/index.ts';
import type { ApplyOptions, ApplyOutcome, Deadline } from './apply.ts';
import { EnrichedObjectViolation } from './enrichment-errors.ts';
import { EntityBusy } from './entity-busy.ts';
import { DEFAULT_REDELIVERY, type RedeliveryPolicy, redeliveryDelaySeconds } from './redelivery.ts';

/** A queue message as the worker gets it, without Lambda's types. */
export interface QueuedRecord {
  readonly messageId: string;
  readonly body: string;
  /** How often the queue has handed this message out, this time included. */
  readonly receiveCount: number;
  /** When the queue took the message. */
  readonly sentAt: Date;
  /** The FIFO message group; undefined on a standard queue. */
  readonly group?: string;
}

/** new: apply it; done: applied before (a repeated delivery); busy: another attempt is applying it. */
export type DeliveryState = 'new' | 'done' | 'busy';

/** Which deliveries were applied (the worker's idempotency). */
export interface DeliveryLedger {
  /** Marks a delivery as in progress, for at most `remainingMs`, unless it is done or busy. */
  begin(record: QueuedRecord, remainingMs: number): Promise<DeliveryState>;
  complete(record: QueuedRecord, result: Record<string, string | number>): Promise<void>;
  /** Forgets an attempt that did not apply the event, so that a retry or a replay runs it. */
  abandon(record: QueuedRecord): Promise<void>;
}

export interface BatchTelemetry {
  count(
    metric: 'duplicates-suppressed' | 'dead-lettered',
    dimensions: Record<string, string>,
  ): void;
}

export interface BatchDependencies {
  readonly ledger: DeliveryLedger;
  /** Applies envelopes to Odoo (applyEnvelopes, with the worker's credential handling). */
  readonly apply: (envelopes: Envelope[], options: ApplyOptions) => Promise<ApplyOutcome[]>;
  readonly deadLetter: (envelope: Envelope, report: DeadLetterReport) => Promise<void>;
  readonly lineage: LineageStore;
  /** The arrival entries (received, queued) of a record, recorded with its first outcome. */
  readonly arrivalOf: (record: QueuedRecord, envelope: Envelope) => LineageEntry[];
  readonly logger: Logger;
  readonly telemetry: BatchTelemetry;
  /**
   * The queue's redrive limit. A retryable failure on the last receive is dead-lettered here,
   * with its reason and a lineage entry, instead of silently by the queue's redrive.
   */
  readonly maxReceiveCount?: number;
  /** How long a retried event stays hidden, by its receive count. @default DEFAULT_REDELIVERY */
  readonly redelivery?: RedeliveryPolicy;
  /**
   * How long Odoo is not to be called (its circuit is open), in milliseconds; 0 when it may be.
   * While it is open the batch touches neither Odoo nor the ledger: each record is hidden until
   * the circuit's trial at the earliest, so the queue hands out nothing meanwhile.
   */
  readonly odooPausedForMs?: () => number;
  readonly deadline: Deadline;
  readonly now?: () => Date;
  readonly random?: () => number;
}

export interface BatchResult {
  /** Message ids to leave on the queue (retried after the visibility timeout). */
  readonly failed: string[];
  /**
   * How long each retried message is to stay hidden before its next delivery: until the claim
   * it waits for lapses, or by its receive count (longer while the Odoo circuit is open), so
   * that the queue's redrive limit outlasts an Odoo outage.
   */
  readonly retryAfter: { readonly messageId: string; readonly seconds: number }[];
}

/** How long a retryable failure will surely last, when the error knows. */
function waitOf(error: Error, now: Date): number | undefined {
  if (error instanceof EntityBusy && error.until)
    return (Date.parse(error.until) - now.getTime()) / 1000 + 1;
  if (error instanceof OdooCircuitOpen) return error.retryAfterMs / 1000;
  return undefined;
}

interface Parsed {
  readonly record: QueuedRecord;
  readonly envelope: Envelope;
}

/** The reason a dead letter is filed under: the error's stable code. */
const reasonOf = (error: Error) => (error instanceof SpineError ? error.code : error.name);

export async function applyQueueBatch(
  records: readonly QueuedRecord[],
  deps: BatchDependencies,
): Promise<BatchResult> {
  const now = () => deps.now?.() ?? new Date();
  const failed: string[] = [];
  /** Records that cannot be read: left to the queue's visibility timeout and redrive. */
  const unreadable = new Set<string>();
  /** How long a failed record, or the rest of its group, waits before its next delivery. */
  const waits = new Map<string, number>();
  const groupWaits = new Map<string, number>();
  const pausedForSeconds = () => (deps.odooPausedForMs?.() ?? 0) / 1000;
  const isLastReceive = (record: QueuedRecord) =>
    deps.maxReceiveCount !== undefined && record.receiveCount >= deps.maxReceiveCount;
  const backoff = (record: QueuedRecord) =>
    Math.max(
      redeliveryDelaySeconds(
        record.receiveCount,
        deps.redelivery ?? DEFAULT_REDELIVERY,
        deps.random,
      ),
      pausedForSeconds(),
    );
  /** Records whose fate this batch settled: done, a repeat, or dead-lettered. */
  const settled = new Set<string>();
  const trail: LineageEntry[] = [];
  const groups = new Map<string, Parsed[]>();
  const stopped = new Set<string>();
  for (const record of records) {
    const group = record.group ?? record.messageId;
    let envelope: Envelope;
    try {
      envelope = parseEnvelope(record.body);
    } catch (error) {
      // Not an envelope: nothing can ever apply it. Redrive keeps it in the DLQ for a person.
      deps.logger.error('not a Spine envelope', {
        messageId: record.messageId,
        error: (error as Error).message,
      });
      failed.push(record.messageId);
      unreadable.add(record.messageId);
      // Nothing after it in its group may overtake it.
      stopped.add(group);
      continue;
    }
    if (stopped.has(group)) failed.push(record.messageId);
    else groups.set(group, [...(groups.get(group) ?? []), { record, envelope }]);
  }

  for (let wave = 0; ; wave++) {
    let current = [...groups.entries()].flatMap(([group, list]) =>
      !stopped.has(group) && list[wave] ? [{ group, ...(list[wave] as Parsed) }] : [],
    );
    if (current.length === 0) break;
    if (deps.deadline.signal.aborted) {
      for (const { group } of current) stopped.add(group);
      break;
    }
    const fail = (item: (typeof current)[number], error?: Error) => {
      failed.push(item.record.messageId);
      stopped.add(item.group);
      // A claim that lapses at a known time is waited for exactly; anything else backs off.
      const known = error ? waitOf(error, now()) : undefined;
      const seconds =
        error instanceof EntityBusy && known !== undefined
          ? Math.max(1, known)
          : Math.max(backoff(item.record), known ?? 0);
      waits.set(item.record.messageId, seconds);
      groupWaits.set(item.group, Math.max(seconds, groupWaits.get(item.group) ?? 0));
    };
    if (pausedForSeconds() > 0) {
      // Odoo's circuit is open: nothing of this batch can be applied before its trial call. A
      // record on its last receive still goes through, to be dead-lettered with its reason.
      const last = current.filter((item) => isLastReceive(item.record));
      deps.logger.warn('Odoo circuit open: the batch is held back without calling Odoo', {
        records: current.length - last.length,
        seconds: Math.ceil(pausedForSeconds()),
      });
      for (const item of current) if (!isLastReceive(item.record)) fail(item);
      if (last.length === 0) break;
      current = last;
    }

    const remainingMs = Math.max(1, deps.deadline.at.getTime() - now().getTime());
    const states = await Promise.all(
      current.map((item) =>
        deps.ledger.begin(item.record, remainingMs).catch((error: unknown) => {
          deps.logger.warn('delivery ledger unavailable: the event is retried', {
            eventId: item.envelope.id,
            error: (error as Error).message,
          });
          return 'busy' as const;
        }),
      ),
    );
    const fresh = current.filter((_, i) => states[i] === 'new');
    current.forEach((item, i) => {
      if (states[i] === 'busy') fail(item);
      else if (states[i] === 'done') {
        settled.add(item.record.messageId);
        // A vendor's retry of an event already applied: its delivery still shows in the timeline.
        trail.push(...deps.arrivalOf(item.record, item.envelope), {
          ...eventFields(item.envelope),
          stage: 'skipped',
          at: now().toISOString(),
          detail: 'a repeated delivery of an event already applied: nothing written',
        });
        deps.telemetry.count('duplicates-suppressed', { flow: item.envelope.spineflow });
      }
    });
    if (fresh.length === 0) continue;

    let outcomes: ApplyOutcome[];
    try {
      outcomes = await deps.apply(
        fresh.map((item) => item.envelope),
        {
          alsoRecord: fresh.flatMap((item) => deps.arrivalOf(item.record, item.envelope)),
          deadline: deps.deadline,
        },
      );
    } catch (error) {
      // The outcomes could not be recorded: every event of the wave is tried again.
      deps.logger.error('batch not applied', { error: (error as Error).message });
      await Promise.all(fresh.map((item) => deps.ledger.abandon(item.record).catch(() => {})));
      for (const item of fresh) fail(item);
      continue;
    }

    await Promise.all(
      fresh.map(async (item, i) => {
        const outcome = outcomes[i] as ApplyOutcome;
        if (outcome.kind !== 'failed') {
          settled.add(item.record.messageId);
          await deps.ledger
            .complete(
              item.record,
              outcome.kind === 'applied'
                ? {
                    kind: outcome.kind,
                    model: outcome.model,
                    recordId: outcome.recordId,
                    status: outcome.status,
                  }
                : { kind: outcome.kind },
            )
            .catch((error: unknown) =>
              // The write is done and is idempotent: a redelivery finds nothing to change.
              deps.logger.warn('delivery not marked done', {
                eventId: item.envelope.id,
                error: (error as Error).message,
              }),
            );
          return;
        }
        await deps.ledger.abandon(item.record).catch(() => {});
        if (outcome.retryable && !isLastReceive(item.record)) {
          fail(item, outcome.error);
          return;
        }
        const error = outcome.error;
        try {
          await deps.deadLetter(item.envelope, deadLetterReport(item.envelope, error));
        } catch (sendError) {
          // The queue's own redrive dead-letters it after its last receive.
          deps.logger.error('dead letter not sent: left to the queue', {
            eventId: item.envelope.id,
            error: (sendError as Error).message,
          });
          fail(item);
          return;
        }
        settled.add(item.record.messageId);
        trail.push({
          ...eventFields(item.envelope),
          stage: 'dead-lettered',
          at: now().toISOString(),
          error: { code: reasonOf(error), message: error.message, retryable: outcome.retryable },
          detail: outcome.retryable
            ? `still failing after ${item.record.receiveCount} deliveries (the queue's limit): in the dead-letter queue; replay it with \`spine replay\` once the cause is fixed`
            : 'a failure that retrying cannot fix: in the dead-letter queue; fix the cause, then replay it with `spine replay`',
        });
        deps.telemetry.count('dead-lettered', {
          flow: item.envelope.spineflow,
          reason: reasonOf(error),
        });
      }),
    );
  }
  // What a group left behind once one of its records failed, or the deadline came: it comes
  // back with the record it follows, or by its own receive count.
  for (const [group, list] of groups)
    if (stopped.has(group))
      for (const { record } of list)
        if (!settled.has(record.messageId) && !failed.includes(record.messageId)) {
          failed.push(record.messageId);
          waits.set(record.messageId, groupWaits.get(group) ?? backoff(record));
        }
  const retryAfter = failed.flatMap((messageId) => {
    const seconds = waits.get(messageId);
    return seconds !== undefined && !unreadable.has(messageId) ? [{ messageId, seconds }] : [];
  });

  if (trail.length > 0)
    await deps.lineage.record(trail).catch((error: unknown) => {
      // The events' fates are settled; only their note in the timeline is missing.
      deps.logger.warn('lineage write failed for repeated or dead-lettered deliveries', {
        events: [...new Set(trail.map((e) => e.eventId))],
        error: (error as Error).message,
      });
    });
  return { failed, retryAfter };
}

/**
 * Why the worker dead-letters an event: its reason and message, and for an event or a fetched
 * object that breaks its contract the violations, as many as fit beside the event.
 */
function deadLetterReport(envelope: Envelope, error: Error): DeadLetterReport {
  const report = { reason: reasonOf(error), message: error.message };
  if (!(error instanceof ContractViolation || error instanceof EnrichedObjectViolation))
    return report;
  return fittingReport(envelope, { ...report, violations: error.violations }) ?? report;
}
