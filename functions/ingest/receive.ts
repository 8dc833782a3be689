/**
 * A webhook arrives: prove it authentic, route each event to its contract, validate, minimise,
 * wrap it in an envelope and queue it; keep an authentic but invalid event in the flow's DLQ
 * with its violations. Answer fast: the Odoo work happens later, in the worker.
 */
import { randomUUID } from 'node:crypto';
import { readLocatorString } from '../contracts/locator.ts';
import { minimise } from '../contracts/minimise.ts';
import type { CompiledContract } from '../contracts/model.ts';
import type { RedactionKey } from '../contracts/redaction.ts';
import type { ContractRegistry } from '../contracts/registry.ts';
import type { Violation } from '../errors/contract-violation.ts';
import { SignatureError } from '../errors/signature-error.ts';
import type { LineageEntry, LineageStore } from '../lineage/model.ts';
import { eventFields, receivedEntry } from './arrival.ts';
import {
  type DeadLetterReport,
  deadLetterBytes,
  type Envelope,
  fittingReport,
  queuedBytes,
  SQS_MAX_MESSAGE_BYTES,
} from './envelope.ts';
import { addressOf } from './event-address.ts';
import {
  arrayElementTexts,
  MAX_EVENT_DEPTH,
  nestsDeeperThan,
  parseEventJson,
  readEventText,
} from './event-json.ts';
import type { EnvelopeQueues, ReceiverTelemetry, WebhookSecrets } from './ports.ts';
import { REJECTION_REASONS, UNKNOWN_SOURCE } from './rejection-reasons.ts';
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
/** A vendor's correlation id is kept only when it looks like one; otherwise Spine makes its own. */
const CORRELATION_ID = /^[\x21-\x7e]{1,128}$/;
/** How much of an ignored event type is echoed in the answer and the log. */
const IGNORED_TYPE_CHARS = 100;
/**
 * When a vendor may try again after a source answered not configured: an operator has to store
 * the secret first, which takes minutes, not seconds.
 */
export const NOT_CONFIGURED_RETRY_AFTER_SECONDS = 300;

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
  /** HTTP headers beside the JSON body (`retry-after` on a 503 the vendor should retry later). */
  readonly headers?: Readonly<Record<string, string>>;
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

interface Routed {
  readonly contract: CompiledContract;
  readonly envelope: Envelope;
  readonly violations: NonNullable<DeadLetterReport['violations']>;
  /**
   * The envelope carries the event's JSON text, not its value (nested too deep to walk, or the
   * receiver failed on it): no contract can classify that text, so lineage gets no view of it.
   */
  readonly verbatim: boolean;
  /** For an invalid event: the DLQ report, cut to fit. */
  report?: DeadLetterReport;
}

/** What the receiver knows about a delivery once it is proven authentic. */
interface AuthenticDelivery {
  readonly source: string;
  readonly headers: WebhookRequest['headers'];
  readonly correlationId: string;
  readonly receivedAt: Date;
}

/** An event's envelope and violations; its data the minimised event, or its text when verbatim. */
function fileEvent(
  registry: ContractRegistry,
  contract: CompiledContract,
  type: string,
  event: unknown,
  textOfEvent: () => string,
  delivery: AuthenticDelivery,
): Omit<Routed, 'report'> {
  const address = addressOf(contract, { event, headers: delivery.headers });
  const verbatim = nestsDeeperThan(event, MAX_EVENT_DEPTH);
  const violations: Violation[] = verbatim
    ? [
        {
          path: '$',
          keyword: 'maxDepth',
          message: `the event is nested deeper than ${MAX_EVENT_DEPTH} levels, more than Spine walks; it is kept as its JSON text`,
        },
      ]
    : registry.validate(contract, event);
  violations.push(...address.violations);
  const envelope = envelopeOf(contract, type, delivery, {
    // An event without a usable id still gets one, so its quarantine can be traced and replayed.
    id: address.eventId ?? `spine-${randomUUID()}`,
    time: new Date(address.occurredAt ?? delivery.receivedAt.getTime()),
    subject: address.entityKey ?? 'unknown',
    ...(address.account ? { account: address.account } : {}),
    data: verbatim ? textOfEvent() : minimise(contract.shape, event),
  });
  if (violations.length === 0 && queuedBytes(envelope) > SQS_MAX_MESSAGE_BYTES)
    violations.push({
      path: '$',
      keyword: 'maxLength',
      message: `the event's envelope is larger than the ${SQS_MAX_MESSAGE_BYTES} bytes a queue message holds`,
    });
  // An invalid event is kept whole in the DLQ, so nothing authentic is lost before it is fixed.
  return {
    contract,
    envelope: violations.length > 0 && !verbatim ? { ...envelope, data: event } : envelope,
    violations,
    verbatim,
  };
}

/** The CloudEvents envelope of one authentic event, as the receiver queues it. */
function envelopeOf(
  contract: CompiledContract,
  type: string,
  delivery: AuthenticDelivery,
  event: { id: string; time: Date; subject: string; account?: string; data: unknown },
): Envelope {
  return {
    specversion: '1.0',
    id: event.id,
    source: `/webhooks/${delivery.source}`,
    type,
    time: event.time.toISOString(),
    subject: event.subject,
    datacontenttype: 'application/json',
    spinecontract: `${contract.id}@${contract.version}`,
    spineflow: contract.flow,
    spinesource: delivery.source,
    ...(event.account ? { spineaccount: event.account } : {}),
    // Contracts that enrich write the same vendor object: its changes queue in one FIFO group.
    ...(contract.enrich ? { spineentity: contract.enrich.object } : {}),
    correlationid: delivery.correlationId,
    spinereceivedat: delivery.receivedAt.toISOString(),
    spinereplaycount: 0,
    data: event.data,
  };
}

/**
 * The last resort for an authentic event the receiver failed on (a defect, not the vendor's
 * fault): kept as its JSON text in the DLQ with what went wrong, rather than answered 500.
 */
function fileAsReceived(
  contract: CompiledContract,
  type: string,
  text: string,
  delivery: AuthenticDelivery,
  error: unknown,
): Omit<Routed, 'report'> {
  const cause = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return {
    contract,
    envelope: envelopeOf(contract, type, delivery, {
      id: `spine-${randomUUID()}`,
      time: delivery.receivedAt,
      subject: 'unknown',
      data: text,
    }),
    violations: [
      {
        path: '$',
        keyword: 'receiver',
        message: `the receiver failed on this event (${cause.slice(0, 200)}); it is kept as its JSON text`,
      },
    ],
    verbatim: true,
  };
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
    // The answer names no source, known or requested: the caller is not authenticated, and the
    // operator who set up the vendor has the configuration to compare the URL with.
    telemetry.count('rejected', {
      source: UNKNOWN_SOURCE,
      reason: REJECTION_REASONS.unknownSource,
    });
    return answer(404, {
      error: 'unknown-source',
      detail:
        'no webhook source is configured at this URL; check the source name in the webhook URL against your Spine configuration',
    });
  }
  if (request.rawBody.length > MAX_BODY_BYTES) {
    telemetry.count('rejected', { source, reason: 'too-large' });
    return answer(413, {
      error: 'too-large',
      detail: `the body is ${request.rawBody.length} bytes; at most ${MAX_BODY_BYTES} are accepted, so that every event fits whole in one queue message (SQS takes ${SQS_MAX_MESSAGE_BYTES} bytes, envelope included). Send smaller events.`,
    });
  }

  // Secrets Manager out of reach is Spine's fault: 503, so the vendor retries; nothing is stored.
  const secretsUnavailable = (error: unknown) => {
    logger.error('signing secrets unreachable: the vendor will retry', {
      source,
      correlationId: requestId,
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    });
    telemetry.count('rejected', { source, reason: 'secrets-unavailable' });
    return answer(503, {
      error: 'secrets-unavailable',
      detail: `the signing secret for "${source}" could not be read; retry later`,
    });
  };
  let secrets: readonly string[];
  try {
    secrets = await deps.secrets.forSource(source);
    // A secret stored since it was cached is taken at once (fresh reads are rate-limited per
    // source, so requests to an unconfigured source cannot each cost a Secrets Manager call).
    if (secrets.length === 0) secrets = await deps.secrets.forSource(source, { fresh: true });
  } catch (error) {
    return secretsUnavailable(error);
  }
  if (secrets.length === 0) {
    // The operator's to fix (store the vendor's secret), so it is logged and counted on its own
    // series, which has its own alarm; the receiver 5xx alarm leaves it out, as anyone could
    // otherwise raise that alarm by posting to a source whose secret is not stored yet.
    logger.error('no signing secret configured: store it, the vendor retries', {
      source,
      correlationId: requestId,
    });
    telemetry.count('rejected', { source, reason: REJECTION_REASONS.notConfigured });
    // 503 and not a 4xx: every vendor that retries retries a 503 (HubSpot gives up on 400, 401,
    // 403, 404 and 405), so nothing is lost once the secret is in place. The answer says no more
    // than that to a caller nobody has authenticated.
    return {
      status: 503,
      body: {
        error: 'unavailable',
        detail: 'this webhook URL is not taking deliveries yet; retry later',
      },
      headers: { 'retry-after': String(NOT_CONFIGURED_RETRY_AFTER_SECONDS) },
    };
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
      let fresh: readonly string[];
      try {
        fresh = await deps.secrets.forSource(source, { fresh: true });
      } catch (unreadable) {
        return secretsUnavailable(unreadable);
      }
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

  let text: string;
  let body: unknown;
  try {
    text = readEventText(request.rawBody);
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
  const vendorCorrelationId = request.headers['x-correlation-id'];
  const correlationId =
    vendorCorrelationId && CORRELATION_ID.test(vendorCorrelationId)
      ? vendorCorrelationId
      : requestId;
  const delivery: AuthenticDelivery = {
    source,
    headers: request.headers,
    correlationId,
    receivedAt: request.receivedAt,
  };
  // A batch is split into each event's own text only when one must be kept verbatim.
  let elementTexts: string[] | undefined;
  const textOf = (index: number) => {
    if (profile.batch !== 'array') return text;
    elementTexts ??= arrayElementTexts(text);
    return elementTexts[index] ?? '';
  };

  const ignored: string[] = [];
  const routed: Routed[] = [];
  for (const [index, event] of events.entries()) {
    const type = readLocatorString(profile.eventType, { event, headers: request.headers });
    const contract = type ? registry.route(source, type) : undefined;
    if (!contract || !type) {
      ignored.push(
        type === undefined
          ? '(no event type)'
          : type.length > IGNORED_TYPE_CHARS
            ? `${type.slice(0, IGNORED_TYPE_CHARS)}…`
            : type,
      );
      // The type comes from the request: only a plausible one becomes a dimension value.
      telemetry.count('ignored', {
        source,
        type: type === undefined ? 'none' : METRIC_TYPE.test(type) ? type : 'other',
      });
      continue;
    }
    let filed: Omit<Routed, 'report'>;
    let report: DeadLetterReport | undefined;
    try {
      filed = fileEvent(registry, contract, type, event, () => textOf(index), delivery);
      report =
        filed.violations.length > 0
          ? fittingReport(filed.envelope, {
              reason: 'contract-violation',
              message: `the event does not satisfy ${filed.envelope.spinecontract}`,
              violations: filed.violations,
            })
          : undefined;
    } catch (error) {
      logger.error('the receiver failed on an authentic event; it is quarantined as received', {
        source,
        correlationId,
        contract: contract.id,
        error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
        stack: error instanceof Error ? error.stack?.split('\n').slice(0, 6).join('\n') : undefined,
      });
      filed = fileAsReceived(contract, type, textOf(index), delivery, error);
      report = fittingReport(filed.envelope, {
        reason: 'contract-violation',
        message: `the receiver could not check the event against ${filed.envelope.spinecontract}`,
        violations: filed.violations,
      });
    }
    if (filed.violations.length === 0) {
      routed.push(filed);
      continue;
    }
    if (!report) {
      // Only when the envelope's own fields are huge, or the event's text grew when escaped.
      const bytes = deadLetterBytes(filed.envelope, { reason: 'contract-violation', message: '' });
      telemetry.count('rejected', { source, reason: 'too-large' });
      logger.warn('webhook refused: an event cannot be stored whole', {
        source,
        correlationId,
        eventId: filed.envelope.id,
        bytes,
      });
      return answer(413, {
        error: 'too-large',
        detail: `event ${filed.envelope.id.slice(0, 64)} needs ${bytes} bytes in a queue message with its envelope; SQS takes at most ${SQS_MAX_MESSAGE_BYTES}. Send smaller events.`,
      });
    }
    routed.push({ ...filed, report });
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
              receivedEntry(r.envelope, r.verbatim ? undefined : r.contract, key),
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
