/**
 * SQS flow worker: Powertools batch processing with partial batch responses (records in
 * parallel on standard queues; on FIFO queues in order within each message group, the group
 * skipped after an error, the groups in parallel), each record idempotent on source + vendor
 * event id. Records that arrive together are applied to Odoo together, in one batched upsert
 * per model.
 */
import {
  BatchProcessor,
  EventType,
  processPartialResponse,
  SqsFifoMessageGroupShortCircuitError,
} from '@aws-lambda-powertools/batch';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { eventFields, queuedEntry, receivedEntry } from '../ingest/arrival.ts';
import { type Envelope, parseEnvelope } from '../ingest/envelope.ts';
import type { LineageEntry } from '../lineage/model.ts';
import { OdooAccessDenied } from '../odoo/errors/index.ts';
import { getContainer } from '../platform/container.ts';
import { createLogger, logPort, publishMetric } from '../platform/powertools.ts';
import { redactionKey } from '../platform/secrets.ts';
import { type ApplyOutcome, applyEnvelopes, contractOf } from '../sync/apply.ts';

const logger = createLogger();
const log = logPort(logger);
const batchProcessor = new BatchProcessor(EventType.SQS);
// In-progress records expire with the invocation (registerLambdaContext), so a timed-out
// attempt does not block the retry; completed ones are remembered for a day.
const idempotencyConfig = new IdempotencyConfig({
  eventKeyJmesPath: 'powertools_json(body).[spinesource, id]',
  expiresAfterSeconds: 86_400,
});
let persistenceStore: DynamoDBPersistenceLayer | undefined;

/** A record that can never succeed: it is dead-lettered with its reason, not retried. */
class PermanentFailure extends Error {
  constructor(readonly outcome: Extract<ApplyOutcome, { kind: 'failed' }>) {
    super(outcome.error.message);
  }
}

/**
 * FIFO order: a record runs after the one before it in its message group, and fails without
 * running once that one failed (SqsFifoPartialProcessor's skipGroupOnError), while the groups
 * run side by side. Powertools' FIFO processor runs every record after the previous one, groups
 * included, so no two records of a batch could be applied to Odoo together.
 */
class GroupOrder {
  private readonly last = new Map<string, Promise<boolean>>();

  async run<T>(group: string, collector: Collector, work: () => Promise<T>): Promise<T> {
    const previous = this.last.get(group);
    let finished: (ok: boolean) => void = () => {};
    this.last.set(group, new Promise<boolean>((resolve) => (finished = resolve)));
    if (previous) {
      collector.hold();
      const ok = await previous;
      collector.resume();
      if (!ok) {
        finished(false);
        collector.skip();
        throw new SqsFifoMessageGroupShortCircuitError();
      }
    }
    try {
      const result = await work();
      finished(true);
      return result;
    } catch (error) {
      finished(false);
      throw error;
    }
  }
}

/** Gathers the envelopes of one invocation and applies them together. */
class Collector {
  private pending: {
    envelope: Envelope;
    arrival: readonly LineageEntry[];
    resolve: (o: ApplyOutcome) => void;
    reject: (e: unknown) => void;
  }[] = [];
  private remaining: number;
  /** Records waiting for the one before them in their FIFO group: no flush waits for them. */
  private held = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(expected: number) {
    this.remaining = expected;
  }

  /** A record waits for the one before it in its group to finish. */
  hold(): void {
    this.held++;
    this.maybeFlush();
  }

  /** It goes on: it will submit or skip. */
  resume(): void {
    this.held--;
  }

  /** An envelope to apply, with its arrival to record in the same write. */
  submit(envelope: Envelope, arrival: readonly LineageEntry[]): Promise<ApplyOutcome> {
    const promise = new Promise<ApplyOutcome>((resolve, reject) =>
      this.pending.push({ envelope, arrival, resolve, reject }),
    );
    this.maybeFlush();
    return promise;
  }

  /** A record that will not submit (a duplicate, or it failed before applying). */
  skip(): void {
    this.remaining--;
    this.maybeFlush();
  }

  private maybeFlush(): void {
    if (this.pending.length === 0) return;
    if (this.pending.length >= this.remaining - this.held) {
      void this.flush();
      return;
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.flush(), 25);
  }

  private async flush(): Promise<void> {
    clearTimeout(this.timer);
    const batch = this.pending;
    this.pending = [];
    this.remaining -= batch.length;
    try {
      const outcomes = await applyWithFreshCredentials(
        batch.map((b) => b.envelope),
        batch.flatMap((b) => b.arrival),
      );
      for (const [i, b] of batch.entries()) b.resolve(outcomes[i] as ApplyOutcome);
    } catch (error) {
      for (const b of batch) b.reject(error);
    }
  }
}

const deniedIn = (outcomes: readonly ApplyOutcome[]) =>
  outcomes.flatMap((o, i) =>
    o.kind === 'failed' && o.error instanceof OdooAccessDenied ? [i] : [],
  );

async function applyWithFreshCredentials(
  envelopes: Envelope[],
  arrivals: readonly LineageEntry[],
): Promise<ApplyOutcome[]> {
  const container = getContainer();
  // Set once the credential is known to have just changed, or to be rotating: a denial then is
  // likely to pass on the next attempt, so it goes back to the queue instead of the DLQ.
  let credentialInFlux = false;
  // Denials the worker retries at once, with a credential read again, leave no trace: the
  // attempt that decides is the one lineage shows.
  let retryingDenials = true;
  const deps = {
    registry: container.registry,
    odoo: () => container.odoo.client(),
    lineage: container.lineage,
    logger: log,
    telemetry: {
      count: (
        metric: 'applied' | 'stale-skipped' | 'skipped' | 'failed',
        dimensions: Record<string, string>,
      ) => publishMetric(metric, dimensions),
      odooLatency: (ms: number, dimensions: Record<string, string>) =>
        publishMetric('odoo-latency', dimensions, MetricUnit.Milliseconds, ms),
    },
    retryable: (error: Error) =>
      error instanceof OdooAccessDenied && credentialInFlux ? true : undefined,
    retriesAtOnce: (error: Error) => retryingDenials && error instanceof OdooAccessDenied,
  };
  const outcomes = await applyEnvelopes(envelopes, deps, { alsoRecord: arrivals });
  const retryDenied = async () => {
    const denied = deniedIn(outcomes);
    const retried = await applyEnvelopes(
      denied.map((i) => envelopes[i] as Envelope),
      deps,
    );
    denied.forEach((index, j) => {
      outcomes[index] = retried[j] as ApplyOutcome;
    });
  };
  if (deniedIn(outcomes).length === 0) return outcomes;
  // The credential may have rotated since it was cached: read AWSCURRENT again, and retry.
  credentialInFlux = await container.odoo.refresh();
  // Between a password rotation's setSecret and finishSecret, Odoo takes only AWSPENDING: with a
  // rotation under way, a denial of AWSCURRENT is followed by a try with AWSPENDING.
  const rotating = await container.odoo.rotating();
  retryingDenials = rotating;
  await retryDenied();
  if (deniedIn(outcomes).length === 0 || !rotating) return outcomes;
  // Only a denial with no rotation in sight, and no credential change just before, is permanent.
  // (If the rotation ended meanwhile, AWSCURRENT is tried once more.)
  retryingDenials = false;
  if (await container.odoo.usePending()) credentialInFlux = true;
  await retryDenied();
  return outcomes;
}

export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  const container = getContainer();
  logger.addContext(context);
  persistenceStore ??= new DynamoDBPersistenceLayer({
    tableName: container.config.idempotencyTable,
    awsSdkV3Client: container.dynamodb,
  });
  idempotencyConfig.registerLambdaContext(context);
  const collector = new Collector(event.Records.length);
  // Each event's arrival (received, queued) is recorded here, with its outcome, not by the
  // receiver. The key hashes the redacted view; without it the arrivals are still recorded.
  const key = await redactionKey(container.secrets, container.config.redactionSecret).catch(
    (error: unknown) => {
      logger.warn('redaction key unreadable: arrivals are recorded without the redacted view', {
        error: (error as Error).message,
      });
      return undefined;
    },
  );
  const arrivalOf = (record: SQSRecord, envelope: Envelope) => [
    receivedEntry(envelope, contractOf(container.registry, envelope), key),
    queuedEntry(envelope, new Date(Number(record.attributes.SentTimestamp) || Date.now())),
  ];
  // A vendor's retry of an event already applied: its delivery still shows in the timeline.
  const duplicates: LineageEntry[] = [];

  const process = makeIdempotent(
    async (record: SQSRecord, started: () => void) => {
      started();
      const envelope = parseEnvelope(record.body);
      const outcome = await collector.submit(envelope, arrivalOf(record, envelope));
      if (outcome.kind === 'failed') {
        // Throwing removes the in-progress idempotency record, so a retry or replay runs again.
        if (outcome.retryable) throw outcome.error;
        throw new PermanentFailure(outcome);
      }
      return outcome.kind === 'applied'
        ? {
            kind: outcome.kind,
            model: outcome.model,
            recordId: outcome.recordId,
            status: outcome.status,
          }
        : { kind: outcome.kind };
    },
    { persistenceStore, config: idempotencyConfig },
  );

  const recordHandler = async (record: SQSRecord) => {
    let envelope: Envelope;
    try {
      envelope = parseEnvelope(record.body);
    } catch (error) {
      collector.skip();
      // Not an envelope: nothing can ever apply it. Kept in the DLQ by redrive for a person to read.
      logger.error('not a Spine envelope', {
        messageId: record.messageId,
        error: (error as Error).message,
      });
      throw error;
    }
    // Records are processed in parallel: the correlation id goes on each line, never on the
    // shared logger (appendKeys would label one record's lines with another's id).
    let executed = false;
    try {
      const result = await process(record, () => {
        executed = true;
      });
      if (!executed) {
        collector.skip();
        duplicates.push(...arrivalOf(record, envelope), {
          ...eventFields(envelope),
          stage: 'skipped',
          at: new Date().toISOString(),
          detail: 'a repeated delivery of an event already applied: nothing written',
        });
        publishMetric('duplicates-suppressed', { flow: envelope.spineflow });
      }
      return result;
    } catch (error) {
      if (!executed) collector.skip();
      if (!(error instanceof PermanentFailure)) throw error;
      await container.queues.deadLetter(envelope.spineflow, envelope, {
        reason:
          error.outcome.error instanceof Error && 'code' in error.outcome.error
            ? String((error.outcome.error as { code: unknown }).code)
            : error.outcome.error.name,
        message: error.outcome.error.message,
      });
      return { kind: 'dead-lettered' };
    }
  };

  const fifo = event.Records[0]?.eventSourceARN.endsWith('.fifo') ?? false;
  const groups = new GroupOrder();
  // Metrics go out as single metrics as they happen, so nothing is left to publish here.
  const response = await processPartialResponse(
    event,
    fifo
      ? (record: SQSRecord) =>
          groups.run(record.attributes.MessageGroupId ?? record.messageId, collector, () =>
            recordHandler(record),
          )
      : recordHandler,
    batchProcessor,
    { context, throwOnFullBatchFailure: false },
  );
  if (duplicates.length > 0)
    await container.lineage.record(duplicates).catch((error: unknown) => {
      // The event itself was applied before; only the note of its repeated delivery is missing.
      logger.warn('lineage write failed for repeated deliveries', {
        events: duplicates.filter((e) => e.stage === 'received').map((e) => e.eventId),
        error: (error as Error).message,
      });
    });
  return response;
}
