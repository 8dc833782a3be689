/**
 * The worker's memory of deliveries, in Powertools idempotency's DynamoDB table: an event is
 * marked in progress before it is applied, completed after, and forgotten when it failed, so a
 * retry or a replay runs it again. The key is the one `makeIdempotent` used (source + vendor
 * event id from the message body), so records written before stay readable.
 */
import { IdempotencyConfig, IdempotencyRecordStatus } from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { DeliveryLedger, DeliveryState, QueuedRecord } from '../sync/batch.ts';

/** What the key is computed from: the message body, as it was for `makeIdempotent` on the record. */
const keyed = (record: QueuedRecord) => ({ body: record.body });

/**
 * How long a completed delivery is remembered: longer than anything can bring the same event back.
 * Stripe retries for up to 3 days and the flow DLQ keeps an event 14 days, after which replay
 * sends it again; a record that expired first would let that replay apply it a second time.
 */
export const DELIVERY_MEMORY_SECONDS = 15 * 86_400;

export class IdempotencyDeliveryLedger implements DeliveryLedger {
  constructor(
    private readonly store: BasePersistenceLayer,
    /** Completed deliveries are remembered this long. @default DELIVERY_MEMORY_SECONDS (15 days) */
    expiresAfterSeconds = DELIVERY_MEMORY_SECONDS,
  ) {
    store.configure({
      config: new IdempotencyConfig({
        eventKeyJmesPath: 'powertools_json(body).[spinesource, id]',
        expiresAfterSeconds,
      }),
    });
  }

  async begin(record: QueuedRecord, remainingMs: number): Promise<DeliveryState> {
    try {
      // In progress until the invocation ends: a timed-out attempt does not block the retry.
      await this.store.saveInProgress(keyed(record), remainingMs);
      return 'new';
    } catch (error) {
      if ((error as Error).name !== 'IdempotencyItemAlreadyExistsError') throw error;
      const existing =
        (error as { existingRecord?: Parameters<BasePersistenceLayer['processExistingRecord']>[0] })
          .existingRecord ?? (await this.store.getRecord(keyed(record)));
      return existing.getStatus() === IdempotencyRecordStatus.COMPLETED ? 'done' : 'busy';
    }
  }

  async complete(record: QueuedRecord, result: Record<string, string | number>): Promise<void> {
    await this.store.saveSuccess(keyed(record), result);
  }

  async abandon(record: QueuedRecord): Promise<void> {
    await this.store.deleteRecord(keyed(record));
  }
}
