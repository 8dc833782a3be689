/**
 * The trail of an event's arrival: `received` (with the redacted view of the event) and `queued`.
 *
 * An accepted event's arrival is recorded by the worker that takes it, from the envelope and the
 * queue message, in the same write as its outcome: the vendor's answer then waits on the queue
 * alone. The receiver records it only for events no worker will see (quarantined, or not queued).
 * Both stages are keyed by their times, so recording the same arrival again (a retried batch,
 * a replay) rewrites the entries instead of adding new ones.
 */
import type { CompiledContract } from '../contracts/model.ts';
import { type RedactionKey, redact } from '../contracts/redaction.ts';
import type { LineageEntry } from '../lineage/model.ts';
import type { Envelope } from './envelope.ts';

/** The fields every entry of an event carries. */
export function eventFields(envelope: Envelope) {
  return {
    source: envelope.spinesource,
    eventId: envelope.id,
    eventType: envelope.type,
    contract: envelope.spinecontract,
    flow: envelope.spineflow,
    correlationId: envelope.correlationid,
    entityKey: envelope.subject,
    occurredAt: envelope.time,
  };
}

/**
 * `received`, at the time the receiver took the delivery, with only the redacted view; without
 * a view when there is no contract to classify the fields or no key to hash them with.
 */
export function receivedEntry(
  envelope: Envelope,
  contract: CompiledContract | undefined,
  key: RedactionKey | undefined,
): LineageEntry {
  return {
    ...eventFields(envelope),
    stage: 'received',
    at: envelope.spinereceivedat,
    ...(contract && key ? { redacted: redact(contract.shape, envelope.data, key) } : {}),
  };
}

/** `queued`, at the time the queue took the message (SQS SentTimestamp). */
export function queuedEntry(envelope: Envelope, queuedAt: Date): LineageEntry {
  return { ...eventFields(envelope), stage: 'queued', at: queuedAt.toISOString() };
}
