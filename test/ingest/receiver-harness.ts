/**
 * The receiver with in-memory neighbours, for tests that send it hostile deliveries: queues that
 * refuse what SQS refuses (over 256 KiB, characters outside XML), a lineage store, and loggers
 * and counters that keep everything they are given.
 */
import { createHmac } from 'node:crypto';
import { vi } from 'vitest';
import { loadContractRegistry } from '../../functions/contracts/index.ts';
import {
  type DeadLetterReport,
  type Envelope,
  envelopeAttributes,
  envelopeMessageBody,
  SQS_MAX_MESSAGE_BYTES,
} from '../../functions/ingest/envelope.ts';
import type { EnvelopeQueues } from '../../functions/ingest/ports.ts';
import type { ReceiverDependencies, WebhookRequest } from '../../functions/ingest/receive.ts';
import { signatureHeaders } from '../../local/demo/sign.ts';
import type { Fixture } from '../support/fixtures.ts';
import { MemoryLineageStore } from '../support/memory-lineage.ts';

/** The characters SQS accepts in a message body or attribute. */
const XML_TEXT = /^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;

function sqsBytes(body: string, attributes: ReturnType<typeof envelopeAttributes>): number {
  return Object.entries(attributes).reduce(
    (size, [name, a]) =>
      size +
      Buffer.byteLength(name) +
      Buffer.byteLength(a.DataType) +
      Buffer.byteLength(a.StringValue),
    Buffer.byteLength(body),
  );
}

function refuseWhatSqsRefuses(body: string, attributes: ReturnType<typeof envelopeAttributes>) {
  if (sqsBytes(body, attributes) > SQS_MAX_MESSAGE_BYTES)
    throw new Error('InvalidParameterValue: Message must be shorter than 262144 bytes.');
  if (!XML_TEXT.test(body) || !Object.values(attributes).every((a) => XML_TEXT.test(a.StringValue)))
    throw new Error('InvalidMessageContents: Invalid characters found.');
}

/** The flow queues and DLQs as SQS would take them: each message serialised as the adapter does. */
export class MemoryQueues implements EnvelopeQueues {
  readonly queued: { flow: string; envelope: Envelope; body: string }[] = [];
  readonly dead: { flow: string; envelope: Envelope; report: DeadLetterReport; body: string }[] =
    [];
  broken = false;

  async enqueue(flow: string, envelopes: readonly Envelope[]) {
    if (this.broken) throw new Error('connect ECONNREFUSED');
    const bodies = envelopes.map((envelope) => {
      const body = envelopeMessageBody(envelope);
      refuseWhatSqsRefuses(body, envelopeAttributes(envelope));
      return body;
    });
    for (const [i, envelope] of envelopes.entries())
      this.queued.push({ flow, envelope, body: bodies[i] as string });
  }

  async deadLetter(flow: string, envelope: Envelope, report: DeadLetterReport) {
    if (this.broken) throw new Error('connect ECONNREFUSED');
    const body = envelopeMessageBody(envelope, report);
    refuseWhatSqsRefuses(body, envelopeAttributes(envelope, report));
    this.dead.push({ flow, envelope, report, body });
  }

  /** Every stored message body, queued or dead-lettered. */
  bodies(): string[] {
    return [...this.queued.map((q) => q.body), ...this.dead.map((d) => d.body)];
  }
}

export const SECRETS: Readonly<Record<string, string>> = {
  stripe: 'whsec_stripe',
  shopify: 'shopify-secret',
  hubspot: 'hubspot-secret',
  clerk: `whsec_${Buffer.from('clerk-secret-32-bytes-long-value').toString('base64')}`,
};

export interface LoggedLine {
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
  readonly fields: Record<string, unknown>;
}

export function receiverSetup() {
  const queues = new MemoryQueues();
  const lineage = new MemoryLineageStore();
  const counted: { metric: string; dimensions: Record<string, string> }[] = [];
  const logged: LoggedLine[] = [];
  const log =
    (level: LoggedLine['level']) =>
    (message: string, fields: Record<string, unknown> = {}) =>
      logged.push({ level, message, fields });
  const deps: ReceiverDependencies = {
    registry: loadContractRegistry(),
    secrets: { forSource: async (source) => (SECRETS[source] ? [SECRETS[source] as string] : []) },
    queues,
    lineage,
    redactionKey: vi.fn(async () => ({ secret: 'k' })),
    telemetry: { count: (metric, dimensions) => counted.push({ metric, dimensions }) },
    logger: { info: log('info'), warn: log('warn'), error: log('error') },
  };
  return { deps, queues, lineage, counted, logged };
}

/** `sign.ts` signs text; bytes that are not UTF-8 are signed here (body-only and Stripe schemes). */
function signBytes(scheme: string, secret: string, bytes: Buffer): Record<string, string> {
  const t = Math.floor(Date.now() / 1000);
  if (scheme === 'stripe')
    return {
      'stripe-signature': `t=${t},v1=${createHmac('sha256', secret).update(`${t}.`).update(bytes).digest('hex')}`,
    };
  if (scheme === 'shopify')
    return { 'x-shopify-hmac-sha256': createHmac('sha256', secret).update(bytes).digest('base64') };
  throw new Error(`signBytes does not sign ${scheme}`);
}

export const HOOK_URL = 'https://hooks.example.com/webhooks/x';

/** A delivery of `body` (text or exact bytes) as the fixture's vendor would sign and send it. */
export function signedDelivery(
  fixture: Fixture,
  body: string | Buffer = fixture.raw,
  headers: Readonly<Record<string, string>> = fixture.headers,
): WebhookRequest {
  const scheme = loadContractRegistry().source(fixture.source)?.signature;
  if (!scheme) throw new Error(`no contract takes webhooks from ${fixture.source}`);
  const secret = SECRETS[fixture.source] as string;
  return {
    source: fixture.source,
    method: 'POST',
    rawBody: typeof body === 'string' ? Buffer.from(body) : body,
    headers: {
      ...headers,
      ...(typeof body === 'string'
        ? signatureHeaders({ scheme, secret, body, url: HOOK_URL, headers })
        : signBytes(scheme, secret, body)),
    },
    urls: [HOOK_URL],
    receivedAt: new Date(),
  };
}
