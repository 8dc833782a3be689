/**
 * SQS flow worker: adapts the Lambda event to one batch unit (functions/sync/batch.ts) and its
 * answer to a partial batch response. Records of a batch are applied to Odoo together; on FIFO
 * queues in order within each message group.
 *
 * The invocation's own deadline comes a margin before Lambda's timeout: no Odoo call starts
 * after it, and the outcomes still reach lineage and the queue before Lambda stops the code.
 */
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { VendorObjectKind } from '../enrich/model.ts';
import { queuedEntry, receivedEntry } from '../ingest/arrival.ts';
import { odooPausedForMs } from '../odoo/guard.ts';
import { getContainer } from '../platform/container.ts';
import { IdempotencyDeliveryLedger } from '../platform/delivery-ledger.ts';
import { createLogger, flushMetrics, logPort, publishMetric } from '../platform/powertools.ts';
import { redactionKey } from '../platform/secrets.ts';
import { fieldFingerprint } from '../reconcile/fingerprint.ts';
import { contractOf, type Deadline } from '../sync/apply.ts';
import { applyQueueBatch, type QueuedRecord } from '../sync/batch.ts';
import { applyThroughRotation } from '../sync/rotation-safe-apply.ts';

const logger = createLogger();
const log = logPort(logger);
let ledger: IdempotencyDeliveryLedger | undefined;

/** Time kept back from Lambda's timeout to record outcomes: a tenth, at least one second. */
function deadlineOf(context: Context): Deadline {
  const remaining = context.getRemainingTimeInMillis();
  const usable = Math.floor(Math.max(0, remaining - Math.max(1000, remaining / 10)));
  return { at: new Date(Date.now() + usable), signal: AbortSignal.timeout(usable) };
}

export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  try {
    return await applyBatch(event, context);
  } finally {
    // The metrics of the whole batch, one line per dimension set (see publishMetric).
    flushMetrics();
  }
}

async function applyBatch(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  const container = getContainer();
  logger.addContext(context);
  ledger ??= new IdempotencyDeliveryLedger(
    new DynamoDBPersistenceLayer({
      tableName: container.config.idempotencyTable,
      awsSdkV3Client: container.dynamodb,
    }),
  );
  // Each event's arrival is recorded with its outcome; without the key, without the redacted view
  // and without the fingerprints of the values written.
  const key = await redactionKey(container.secrets, container.config.redactionSecret).catch(
    (error: unknown) => {
      logger.warn('redaction key unreadable: lineage gets no redacted view and no fingerprints', {
        error: (error as Error).message,
      });
      return undefined;
    },
  );
  const sync = {
    registry: container.registry,
    odoo: () => container.odoo.client(),
    lineage: container.lineage,
    logger: log,
    odooRequestLimitMs: container.config.odooRequestLimitSeconds * 1000,
    ...(key ? { fingerprint: fieldFingerprint(key) } : {}),
    telemetry: {
      count: (
        metric: 'applied' | 'stale-skipped' | 'skipped' | 'failed',
        dims: Record<string, string>,
      ) => publishMetric(metric, dims),
      odooLatency: (ms: number, dims: Record<string, string>) =>
        publishMetric('odoo-latency', dims, MetricUnit.Milliseconds, ms),
      vendorCall: (ms: number, dims: Record<string, string>, throttled: boolean) => {
        publishMetric('vendor-latency', dims, MetricUnit.Milliseconds, ms);
        if (throttled) publishMetric('vendor-throttled', dims);
      },
    },
    vendors: (kind: VendorObjectKind) => container.sourceApis.reader(kind),
  };
  const records: QueuedRecord[] = event.Records.map((record) => ({
    messageId: record.messageId,
    body: record.body,
    receiveCount: Number(record.attributes.ApproximateReceiveCount) || 1,
    sentAt: new Date(Number(record.attributes.SentTimestamp) || Date.now()),
    ...(record.attributes.MessageGroupId ? { group: record.attributes.MessageGroupId } : {}),
  }));
  const { failed, retryAfter } = await applyQueueBatch(records, {
    ledger,
    apply: (envelopes, options) => applyThroughRotation(envelopes, sync, container.odoo, options),
    deadLetter: (envelope, report) =>
      container.queues.deadLetter(envelope.spineflow, envelope, report),
    lineage: container.lineage,
    arrivalOf: (record, envelope) => [
      receivedEntry(envelope, contractOf(container.registry, envelope), key),
      queuedEntry(envelope, record.sentAt),
    ],
    logger: log,
    telemetry: { count: (metric, dims) => publishMetric(metric, dims) },
    ...(container.config.maxReceiveCount !== undefined
      ? { maxReceiveCount: container.config.maxReceiveCount }
      : {}),
    redelivery: container.config.redelivery,
    odooPausedForMs,
    deadline: deadlineOf(context),
  });
  const receipts = new Map(event.Records.map((r) => [r.messageId, r]));
  const delayed = retryAfter.flatMap(({ messageId, seconds }) => {
    const record = receipts.get(messageId);
    return record
      ? [{ arn: record.eventSourceARN, receiptHandle: record.receiptHandle, seconds }]
      : [];
  });
  if (delayed.length > 0)
    await container.queues
      .delayRedelivery(delayed[0]?.arn as string, delayed)
      .catch((error: unknown) =>
        // The messages come back after the queue's visibility timeout instead, and spend
        // the redrive limit faster: an alarm on dead letters follows if this keeps failing.
        logger.warn('redelivery not delayed', { error: (error as Error).message }),
      );
  return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
}
