/**
 * The CloudEvents 1.0 envelope that travels on the flow queues: the vendor's event id, the
 * contract it satisfied, where it came from, and the minimised event as `data`.
 */

export interface Envelope {
  readonly specversion: '1.0';
  /** The vendor's event id: idempotency key (with the source) and FIFO deduplication id. */
  readonly id: string;
  /** `/webhooks/<source>` */
  readonly source: string;
  /** The vendor's event type, e.g. `customer.created`. */
  readonly type: string;
  /** When the change happened at the vendor (ISO 8601). */
  readonly time: string;
  /** The entity key: FIFO group and stale-guard key. */
  readonly subject: string;
  readonly datacontenttype: 'application/json';
  /** `stripe.customer@1.0.0` */
  readonly spinecontract: string;
  readonly spineflow: string;
  /** The source name, `stripe`. */
  readonly spinesource: string;
  /** The vendor account the event belongs to, when its contract locates one (`spine-demo.myshopify.com`). */
  readonly spineaccount?: string;
  /**
   * The kind of thing the subject names when several contracts write it (`hubspot.contact`, for
   * a contact's creation and its property changes): their events share one FIFO group, so they
   * are applied one at a time, in order. Absent, the contract is the kind.
   */
  readonly spineentity?: string;
  readonly correlationid: string;
  /** When Spine received the webhook (ISO 8601). */
  readonly spinereceivedat: string;
  /** How often the event was replayed from the DLQ. */
  readonly spinereplaycount: number;
  readonly data: unknown;
}

/** Why an envelope sits in a DLQ: a contract violation at the receiver, or a permanent failure in the worker. */
export interface DeadLetterReport {
  readonly reason: string;
  readonly message: string;
  readonly violations?: readonly {
    readonly path: string;
    readonly keyword: string;
    readonly message: string;
  }[];
  /** Violations left out so that the event itself fits in the message. */
  readonly violationsOmitted?: number;
}

export type DeadLetter = Envelope & { readonly spinedeadletter: DeadLetterReport };

/** SQS message attributes of an envelope, so replay can filter without parsing bodies. */
export function envelopeAttributes(
  envelope: Envelope,
  report?: DeadLetterReport,
): Record<string, { DataType: 'String' | 'Number'; StringValue: string }> {
  return {
    'spine-type': { DataType: 'String', StringValue: envelope.type },
    'spine-contract': { DataType: 'String', StringValue: envelope.spinecontract },
    'spine-source': { DataType: 'String', StringValue: envelope.spinesource },
    'spine-correlation-id': { DataType: 'String', StringValue: envelope.correlationid },
    'spine-replay-count': { DataType: 'Number', StringValue: String(envelope.spinereplaycount) },
    ...(report ? { 'spine-reason': { DataType: 'String', StringValue: report.reason } } : {}),
  };
}

/** SQS's limit for one message, body and attributes together. */
export const SQS_MAX_MESSAGE_BYTES = 256 * 1024;

/** The size SQS counts for a message: the body, and each attribute's name, type and value. */
function messageBytes(body: string, attributes: ReturnType<typeof envelopeAttributes>): number {
  let size = Buffer.byteLength(body);
  for (const [name, attribute] of Object.entries(attributes))
    size +=
      Buffer.byteLength(name) +
      Buffer.byteLength(attribute.DataType) +
      Buffer.byteLength(attribute.StringValue);
  return size;
}

/**
 * The two characters JSON.stringify leaves as they are but SQS refuses in a message (it takes
 * XML text only); the other ones it refuses, control characters and lone surrogates, are
 * escaped by JSON.stringify already.
 */
const NOT_XML_TEXT = /[\uFFFE\uFFFF]/g;

/**
 * The body of the SQS message that carries an envelope (and, on a DLQ, its report). Characters
 * SQS refuses are written as JSON escapes, so an event that holds one is still queued, not
 * answered 503 forever.
 */
export function envelopeMessageBody(envelope: Envelope, report?: DeadLetterReport): string {
  return JSON.stringify(report ? { ...envelope, spinedeadletter: report } : envelope).replace(
    NOT_XML_TEXT,
    (c) => `\\u${c.charCodeAt(0).toString(16)}`,
  );
}

/** The size of the message that carries an envelope on a flow queue. */
export function queuedBytes(envelope: Envelope): number {
  return messageBytes(envelopeMessageBody(envelope), envelopeAttributes(envelope));
}

/** The size of the message that carries an envelope and its report on a DLQ. */
export function deadLetterBytes(envelope: Envelope, report: DeadLetterReport): number {
  return messageBytes(envelopeMessageBody(envelope, report), envelopeAttributes(envelope, report));
}

export function parseEnvelope(body: string): Envelope {
  const envelope = JSON.parse(body) as Envelope;
  if (
    envelope?.specversion !== '1.0' ||
    typeof envelope.id !== 'string' ||
    typeof envelope.spinecontract !== 'string'
  ) {
    throw new Error('not a Spine CloudEvents envelope');
  }
  return envelope;
}

/**
 * The DLQ report of an event, cut to fit beside the event in one message: the event is what
 * must not be lost, so violations are left out (and counted) before anything else. Undefined
 * when even the event alone does not fit.
 */
export function fittingReport(
  envelope: Envelope,
  report: DeadLetterReport,
): DeadLetterReport | undefined {
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
