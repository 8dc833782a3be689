/**
 * A webhook arrives: prove it authentic, route each event to its contract, validate, minimise,
 * wrap it in an envelope and queue it; keep an authentic but invalid event in the flow's DLQ
 * with its violations. Answer fast: the Odoo work happens later, in the worker.
 */
import { randomUUID } from 'node:crypto';
import { readLocator, readLocatorString, toEpochMillis } from '../contracts/locator.ts';
import { minimise } from '../contracts/minimise.ts';
import type { CompiledContract } from '../contracts/model.ts';
import type { RedactionKey } from '../contracts/redaction.ts';
import type { ContractRegistry } from '../contracts/registry.ts';
import { SignatureError } from '../errors/signature-error.ts';
import type { LineageEntry, LineageStore } from '../lineage/model.ts';
import { eventFields, receivedEntry } from './arrival.ts';
import {
  type DeadLetterReport,
  deadLetterBytes,
  type Envelope,
  queuedBytes,
  SQS_MAX_MESSAGE_BYTES,
} from './envelope.ts';
import { parseEventJson } from './event-json.ts';
import type { EnvelopeQueues, ReceiverTelemetry, WebhookSecrets } from './ports.ts';
import { SIGNATURE_VERIFIERS } from './signatures/index.ts';

/** Room beside the event in a queue message: the envelope's fields, the attributes, a short report. */
const ENVELOPE_RESERVE_BYTES = 16 * 1024;
/**
 * The largest body accepted. Every accepted event must be storable whole in one SQS message
 * (on the flow queue, or on the DLQ with its violation report when it breaks its contract), so
 * a larger body is refused with 413 rather than accepted and then never stored.
 */
export const MAX_BODY_BYTES = SQS_MAX_MESSAGE_BYTES - ENVELOPE_RESERVE_BYTES;
/** Violations named in a lineage entry; the DLQ report keeps all that fit. */
const VIOLATIONS_IN_LINEAGE = 20;
/** An event type kept as a metric dimension; anything else is counted as `other`. */
const METRIC_TYPE = /^[\w.:-]{1,64}$/;

export interface WebhookRequest {
  readonly source: string;
  readonly method: string;
  readonly rawBody: Buffer;
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** URLs the vendor may have called (HubSpot signs the URL). */
  readonly urls: readonly string[];
  readonly receivedAt: Date;
}

export interface WebhookAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface ReceiverDependencies {
  readonly registry: ContractRegistry;
  readonly secrets: WebhookSecrets;
  readonly queues: EnvelopeQueues;
  readonly lineage: LineageStore;
  readonly redactionKey: () => Promise<RedactionKey>;
  readonly telemetry: ReceiverTelemetry;
  readonly logger: Logger;
}

const answer = (status: number, body: Record<string, unknown>): WebhookAnswer => ({ status, body });

/**
 * The DLQ report of an event, cut to fit beside the event in one message: the event is what
 * must not be lost, so violations are left out (and counted) before anything else. Undefined
 * when even the event alone does not fit.
 */
function fittingReport(envelope: Envelope, report: DeadLetterReport): DeadLetterReport | undefined {
  if (deadLetterBytes(envelope, report) <= SQS_MAX_MESSAGE_BYTES) return report;
  const all = report.violations ?? [];
  let low = 0;
  let high = all.length;
  const cut = (kept: number): DeadLetterReport => ({
    ...report,
    violations: all.slice(0, kept),
    violationsOmitted: all.length - kept,
  });
  if (deadLetterBytes(envelope, cut(0)) > SQS_MAX_MESSAGE_BYTES) return undefined;
  // The most violations that still fit.
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (deadLetterBytes(envelope, cut(mid)) <= SQS_MAX_MESSAGE_BYTES) low = mid;
    else high = mid - 1;
  }
  return cut(low);
}

interface Routed {
  readonly contract: CompiledContract;
  readonly envelope: Envelope;
  readonly violations: NonNullable<DeadLetterReport['violations']>;
  /** For an invalid event: the DLQ report, cut to fit. */
  report?: DeadLetterReport;
}

export async function receiveWebhook(
  request: WebhookRequest,
  deps: ReceiverDependencies,
): Promise<WebhookAnswer> {
  const { registry, telemetry, logger } = deps;
  const source = request.source;
  // Every log line of a request carries a correlation id; a vendor's own is only trusted once
  // the request is proven authentic.
  const requestId = randomUUID();
  const profile = registry.source(source);
  if (!profile) {
    // Any path can be requested: one dimension value for all of them keeps the metric bounded.
    telemetry.count('rejected', { source: 'unknown', reason: 'unknown-source' });
    return answer(404, {
      error: 'unknown-source',
      detail: `no contract takes webhooks from "${source}"; known sources: ${[...new Set(registry.contracts.map((c) => c.source.system))].sort().join(', ')}`,
    });
  }
  if (request.rawBody.length > MAX_BODY_BYTES) {
    telemetry.count('rejected', { source, reason: 'too-large' });
    return answer(413, {
      error: 'too-large',
      detail: `the body is ${request.rawBody.length} bytes; at most ${MAX_BODY_BYTES} are accepted, so that every event fits whole in one queue message (SQS takes ${SQS_MAX_MESSAGE_BYTES} bytes, envelope included). Send smaller events.`,
    });
  }

  let secrets = await deps.secrets.forSource(source);
  if (secrets.length === 0) {
    logger.error('no signing secret configured', { source, correlationId: requestId });
    // A 5xx makes the vendor retry once the secret is in place; nothing is lost.
    return answer(503, {
      error: 'not-configured',
      detail: `no signing secret is configured for "${source}" yet`,
    });
  }
  const signed = {
    rawBody: request.rawBody,
    headers: request.headers,
    method: request.method,
    urls: request.urls,
    now: request.receivedAt.getTime(),
  };
  try {
    try {
      SIGNATURE_VERIFIERS[profile.signature](signed, secrets);
    } catch (error) {
      // The secret may have rotated since it was cached: read it again once before refusing.
      if (!(error instanceof SignatureError) || error.reason !== 'mismatch') throw error;
      const fresh = await deps.secrets.forSource(source, { fresh: true });
      if (fresh.join('\n') === secrets.join('\n')) throw error;
      secrets = fresh;
      SIGNATURE_VERIFIERS[profile.signature](signed, secrets);
    }
  } catch (error) {
    if (!(error instanceof SignatureError)) throw error;
    // Only the reason is logged: an unauthenticated body is never stored anywhere.
    logger.warn('webhook refused: bad signature', {
      source,
      correlationId: requestId,
      reason: error.reason,
      detail: error.message,
    });
    telemetry.count('rejected', { source, reason: error.reason });
    return answer(401, { error: 'invalid-signature', detail: error.message });
  }

  let body: unknown;
  try {
    const text = request.rawBody.toString('utf8');
    if (text.trim() === '') throw new SyntaxError('empty body');
    body = parseEventJson(text);
  } catch (error) {
    telemetry.count('rejected', { source, reason: 'unreadable' });
    return answer(400, {
      error: 'unreadable-body',
      detail: `the body is not JSON (${(error as Error).message}); the vendor should send application/json`,
    });
  }
  if (profile.batch === 'array' && !Array.isArray(body)) {
    telemetry.count('rejected', { source, reason: 'unreadable' });
    return answer(400, {
      error: 'unreadable-body',
      detail: `${source} sends a JSON array of events; this body is not an array`,
    });
  }
  const events = profile.batch === 'array' ? (body as unknown[]) : [body];
  const correlationId = request.headers['x-correlation-id'] ?? requestId;
  const receivedAt = request.receivedAt.toISOString();

  const ignored: string[] = [];
  const routed: Routed[] = [];
  for (const event of events) {
    const delivery = { event, headers: request.headers };
    const type = readLocatorString(profile.eventType, delivery);
    const contract = type ? registry.route(source, type) : undefined;
    if (!contract || !type) {
      ignored.push(type ?? '(no event type)');
      // The type comes from the request: only a plausible one becomes a dimension value.
      telemetry.count('ignored', {
        source,
        type: type === undefined ? 'none' : METRIC_TYPE.test(type) ? type : 'other',
      });
      continue;
    }
    const violations = registry.validate(contract, event);
    const eventId = readLocatorString(contract.source.eventId, delivery);
    const entityKey = readLocatorString(contract.source.entityKey, delivery);
    const occurred = toEpochMillis(readLocator(contract.source.occurredAt, delivery));
    if (!eventId)
      violations.push({
        path: describeLocator(contract.source.eventId),
        keyword: 'required',
        message: 'the event id is missing',
      });
    if (!entityKey)
      violations.push({
        path: describeLocator(contract.source.entityKey),
        keyword: 'required',
        message: 'the entity key is missing',
      });
    if (occurred === undefined)
      violations.push({
        path: describeLocator(contract.source.occurredAt),
        keyword: 'format',
        message: 'the occurred-at time is missing or not a time',
      });
    const envelope: Envelope = {
      specversion: '1.0',
      // An event without an id still gets one, so its quarantine can be traced and replayed.
      id: eventId ?? `spine-${randomUUID()}`,
      source: `/webhooks/${source}`,
      type,
      time: new Date(occurred ?? request.receivedAt.getTime()).toISOString(),
      subject: entityKey ?? 'unknown',
      datacontenttype: 'application/json',
      spinecontract: `${contract.id}@${contract.version}`,
      spineflow: contract.flow,
      spinesource: source,
      correlationid: correlationId,
      spinereceivedat: receivedAt,
      spinereplaycount: 0,
      data: minimise(contract.shape, event),
    };
    if (violations.length === 0 && queuedBytes(envelope) > SQS_MAX_MESSAGE_BYTES)
      violations.push({
        path: '$',
        keyword: 'maxLength',
        message: `the event's envelope is larger than the ${SQS_MAX_MESSAGE_BYTES} bytes a queue message holds`,
      });
    if (violations.length === 0) {
      routed.push({ contract, envelope, violations });
      continue;
    }
    // An invalid event is kept whole in the DLQ, so nothing authentic is lost before it is fixed.
    const kept = { ...envelope, data: event };
    const report = fittingReport(kept, {
      reason: 'contract-violation',
      message: `the event does not satisfy ${kept.spinecontract}`,
      violations,
    });
    if (!report) {
      // Only when the envelope's own fields are huge (a vendor id of many kilobytes).
      const bytes = deadLetterBytes(kept, { reason: 'contract-violation', message: '' });
      telemetry.count('rejected', { source, reason: 'too-large' });
      logger.warn('webhook refused: an event cannot be stored whole', {
        source,
        correlationId,
        eventId: kept.id,
        bytes,
      });
      return answer(413, {
        error: 'too-large',
        detail: `event ${kept.id.slice(0, 64)} needs ${bytes} bytes in a queue message with its envelope; SQS takes at most ${SQS_MAX_MESSAGE_BYTES}. Send smaller events.`,
      });
    }
    routed.push({ contract, envelope: kept, violations, report });
  }

  const valid = routed.filter((r) => !r.report);
  const invalid = routed.filter((r) => r.report);

  // The trail (redacted view only). An accepted event's arrival is recorded by the worker that
  // takes it (see arrival.ts), so the vendor waits on the queue alone; a quarantined event
  // reaches no worker, so its trail is written here, while it is sent to the DLQ.
  const trail = async (entriesOf: (key: RedactionKey) => LineageEntry[]) => {
    try {
      await deps.lineage.record(entriesOf(await deps.redactionKey()));
    } catch (error) {
      // A missing trail is logged; it is not worth failing a delivery that was queued.
      logger.error('lineage write failed', {
        source,
        correlationId,
        error: (error as Error).message,
      });
    }
  };
  const quarantined =
    invalid.length > 0
      ? trail((key) =>
          invalid.flatMap((r) => {
            const named = r.violations.slice(0, VIOLATIONS_IN_LINEAGE);
            const more = r.violations.length - named.length;
            return [
              receivedEntry(r.envelope, r.contract, key),
              {
                ...eventFields(r.envelope),
                stage: 'quarantined' as const,
                at: new Date().toISOString(),
                error: {
                  code: 'contract-violation',
                  message: `${named.map((v) => `${v.path} ${v.message}`).join('; ')}${more > 0 ? `; and ${more} more` : ''}`,
                },
              },
            ];
          }),
        )
      : undefined;

  try {
    await Promise.all([
      ...[...new Set(valid.map((r) => r.contract.flow))].map((flow) =>
        deps.queues.enqueue(
          flow,
          valid.filter((r) => r.contract.flow === flow).map((r) => r.envelope),
        ),
      ),
      ...invalid.map((r) =>
        deps.queues.deadLetter(r.contract.flow, r.envelope, r.report as DeadLetterReport),
      ),
    ]);
  } catch (error) {
    logger.error('queue unreachable: the vendor will retry', {
      source,
      correlationId,
      error: (error as Error).message,
    });
    telemetry.count('rejected', { source, reason: 'queue-unavailable' });
    // No worker will record these arrivals: they are recorded here, with why they stop.
    await quarantined;
    await trail((key) => [
      ...valid.map((r) => receivedEntry(r.envelope, r.contract, key)),
      ...routed.map((r) => ({
        ...eventFields(r.envelope),
        stage: 'failed' as const,
        at: new Date().toISOString(),
        error: {
          code: 'queue-unavailable',
          message:
            'the queue could not be reached, so the event was not queued; the delivery was answered 503 and the vendor retries it',
          retryable: true,
        },
      })),
    ]);
    return answer(503, {
      error: 'queue-unavailable',
      detail: 'the event could not be queued; retry later',
    });
  }
  await quarantined;

  for (const r of valid)
    telemetry.count('accepted', { source, flow: r.contract.flow, contract: r.contract.id });
  for (const r of invalid)
    telemetry.count('quarantined', { source, flow: r.contract.flow, contract: r.contract.id });
  telemetry.count('received', { source }, events.length);
  logger.info('webhook received', {
    source,
    correlationId,
    accepted: valid.map((r) => r.envelope.id),
    quarantined: invalid.map((r) => r.envelope.id),
    ignored,
  });
  return answer(202, {
    ...(valid.length > 0 ? { accepted: valid.map((r) => r.envelope.id) } : {}),
    ...(invalid.length > 0
      ? { quarantined: invalid.map((r) => ({ id: r.envelope.id, violations: r.violations })) }
      : {}),
    ...(ignored.length > 0 ? { ignored } : {}),
    correlationId,
  });
}

function describeLocator(locator: CompiledContract['source']['eventId']): string {
  return 'path' in locator ? locator.path : `header ${[locator.header].flat().join(' or ')}`;
}
