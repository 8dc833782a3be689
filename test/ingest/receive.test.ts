import { describe, expect, it, vi } from 'vitest';
import { loadContractRegistry } from '../../functions/contracts/index.ts';
import {
  type DeadLetterReport,
  type Envelope,
  envelopeAttributes,
} from '../../functions/ingest/envelope.ts';
import type { EnvelopeQueues } from '../../functions/ingest/ports.ts';
import { type ReceiverDependencies, receiveWebhook } from '../../functions/ingest/receive.ts';
import { signatureHeaders } from '../../local/demo/sign.ts';
import { type Fixture, loadFixture } from '../support/fixtures.ts';
import { MemoryLineageStore } from '../support/memory-lineage.ts';

/** What SQS counts against its 256 KiB: the body, and each attribute's name, type and value. */
function sqsBytes(body: unknown, attributes: ReturnType<typeof envelopeAttributes>): number {
  return Object.entries(attributes).reduce(
    (size, [name, a]) =>
      size +
      Buffer.byteLength(name) +
      Buffer.byteLength(a.DataType) +
      Buffer.byteLength(a.StringValue),
    Buffer.byteLength(JSON.stringify(body)),
  );
}

/** The flow queues and DLQs, refusing what SQS refuses: a message above 256 KiB. */
class MemoryQueues implements EnvelopeQueues {
  readonly queued: { flow: string; envelope: Envelope }[] = [];
  readonly dead: { flow: string; envelope: Envelope; report: DeadLetterReport; bytes: number }[] =
    [];
  broken = false;
  async enqueue(flow: string, envelopes: readonly Envelope[]) {
    if (this.broken) throw new Error('connect ECONNREFUSED');
    for (const envelope of envelopes)
      if (sqsBytes(envelope, envelopeAttributes(envelope)) > 262_144)
        throw new Error('InvalidParameterValue: Message must be shorter than 262144 bytes.');
    for (const envelope of envelopes) this.queued.push({ flow, envelope });
  }
  async deadLetter(flow: string, envelope: Envelope, report: DeadLetterReport) {
    if (this.broken) throw new Error('connect ECONNREFUSED');
    const bytes = sqsBytes(
      { ...envelope, spinedeadletter: report },
      envelopeAttributes(envelope, report),
    );
    if (bytes > 262_144)
      throw new Error('InvalidParameterValue: Message must be shorter than 262144 bytes.');
    this.dead.push({ flow, envelope, report, bytes });
  }
}

const SECRETS: Record<string, string> = {
  stripe: 'whsec_stripe',
  shopify: 'shopify-secret',
  hubspot: 'hubspot-secret',
  clerk: `whsec_${Buffer.from('clerk-secret-32-bytes-long-value').toString('base64')}`,
};

function setup() {
  const queues = new MemoryQueues();
  const lineage = new MemoryLineageStore();
  const counts: string[] = [];
  const dimensions: Record<string, string>[] = [];
  const logged: { message: string; fields: Record<string, unknown> }[] = [];
  const log =
    () =>
    (message: string, fields: Record<string, unknown> = {}) =>
      logged.push({ message, fields });
  const deps: ReceiverDependencies = {
    registry: loadContractRegistry(),
    secrets: { forSource: async (source) => (SECRETS[source] ? [SECRETS[source] as string] : []) },
    queues,
    lineage,
    redactionKey: vi.fn(async () => ({ secret: 'k' })),
    telemetry: {
      count: (metric, given) => {
        counts.push(`${metric}:${given.reason ?? given.type ?? ''}`);
        dimensions.push({ metric, ...given });
      },
    },
    logger: { info: log(), warn: log(), error: log() },
  };
  return { deps, queues, lineage, counts, dimensions, logged };
}

function deliver(fixture: Fixture, options: { body?: string; source?: string } = {}) {
  const source = options.source ?? fixture.source;
  const scheme = loadContractRegistry().source(fixture.source)?.signature as never;
  const body = options.body ?? fixture.raw;
  const headers = {
    ...fixture.headers,
    ...signatureHeaders({
      scheme,
      secret: SECRETS[fixture.source] as string,
      body,
      url: 'https://hooks.example.com/webhooks/x',
      headers: fixture.headers,
    }),
  };
  return {
    source,
    method: 'POST',
    rawBody: Buffer.from(body),
    headers,
    urls: ['https://hooks.example.com/webhooks/x'],
    receivedAt: new Date(),
  };
}

describe('receiveWebhook', () => {
  it('queues one envelope per HubSpot array element, on the FIFO flow, with the CloudEvents fields', async () => {
    const { deps, queues, lineage } = setup();
    const answer = await receiveWebhook(
      deliver(loadFixture('hubspot/contact-propertyChange')),
      deps,
    );
    expect(answer.status).toBe(202);
    // HubSpot's event id is not unique alone: with the subscription, object and time it is.
    expect(answer.body.accepted).toEqual([
      '2871246-3876125541-51-1738082700456',
      '2871246-3876125542-51-1738082700456',
      '2871246-3876125543-51-1738082712001',
      '2871246-3876125544-51-1738082712001',
    ]);
    expect(queues.queued).toHaveLength(4);
    expect(queues.queued[0]?.envelope).toMatchObject({
      specversion: '1.0',
      id: '2871246-3876125541-51-1738082700456',
      source: '/webhooks/hubspot',
      type: 'contact.propertyChange',
      subject: '51',
      spinecontract: 'hubspot.contact-property-change@2.0.0',
      spineflow: 'customers',
      // Its creation and its property changes write one contact: one FIFO group, in order.
      spineentity: 'hubspot.contact',
      time: '2025-01-28T16:45:00.456Z',
      correlationid: answer.body.correlationId,
      spinereplaycount: 0,
    });
    // Accepted events reach a worker, which records their arrival: the answer waits on the
    // queue alone, with no lineage write and no redaction key read.
    expect(lineage.entries).toEqual([]);
    expect(deps.redactionKey).not.toHaveBeenCalled();
  });

  it('answers 404 for a source no contract names, naming no source to a caller nobody authenticated', async () => {
    const { deps } = setup();
    const answer = await receiveWebhook(
      deliver(loadFixture('stripe/customer.created'), { source: 'salesforce' }),
      deps,
    );
    expect(answer).toEqual({
      status: 404,
      body: {
        error: 'unknown-source',
        detail:
          'no webhook source is configured at this URL; check the source name in the webhook URL against your Spine configuration',
      },
    });
    for (const name of ['clerk', 'hubspot', 'shopify', 'stripe', 'salesforce'])
      expect(JSON.stringify(answer.body)).not.toContain(name);
  });

  it('answers 202 ignored for an event type no contract routes, and counts it', async () => {
    const { deps, queues, counts } = setup();
    const fixture = loadFixture('stripe/customer.created');
    const answer = await receiveWebhook(
      deliver(fixture, { body: fixture.raw.replace('"customer.created"', '"customer.deleted"') }),
      deps,
    );
    expect(answer).toMatchObject({ status: 202, body: { ignored: ['customer.deleted'] } });
    expect(queues.queued).toEqual([]);
    expect(counts).toContain('ignored:customer.deleted');
  });

  it('answers 400 for an authentic body that is not JSON, 413 for one too large to queue', async () => {
    const { deps } = setup();
    const fixture = loadFixture('stripe/customer.created');
    expect(
      (await receiveWebhook(deliver(fixture, { body: '{"id": "evt_1", ' }), deps)).status,
    ).toBe(400);
    const huge = await receiveWebhook(
      deliver(fixture, { body: `{"pad":"${'x'.repeat(1024 * 1024)}"}` }),
      deps,
    );
    expect(huge).toMatchObject({ status: 413, body: { error: 'too-large' } });
    const notArray = await receiveWebhook(
      deliver(loadFixture('hubspot/contact-creation'), { body: '{"eventId": 1}' }),
      deps,
    );
    expect(notArray).toMatchObject({
      status: 400,
      body: { detail: expect.stringContaining('JSON array') },
    });
  });

  it("carries the vendor account the contract locates (a Shopify store's domain) on the envelope", async () => {
    const { deps, queues } = setup();
    const answer = await receiveWebhook(deliver(loadFixture('shopify/orders-create')), deps);
    expect(answer.status).toBe(202);
    expect(queues.queued[0]?.envelope.spineaccount).toBe('spine-demo.myshopify.com');
    const stripe = await receiveWebhook(deliver(loadFixture('stripe/invoice.paid')), deps);
    expect(stripe.status).toBe(202);
    // The platform's own Stripe events name no account: the envelope says none.
    expect(queues.queued[1]?.envelope.spineaccount).toBeUndefined();
  });

  it('answers 503 when the queue cannot be reached, so the vendor retries', async () => {
    const { deps, queues, lineage } = setup();
    queues.broken = true;
    const answer = await receiveWebhook(deliver(loadFixture('shopify/orders-create')), deps);
    expect(answer).toMatchObject({ status: 503, body: { error: 'queue-unavailable' } });
    // No worker will see it: the receiver records its arrival, and that it was not queued.
    expect(lineage.entries.map((e) => e.stage)).toEqual(['received', 'failed']);
    expect(lineage.entries[0]?.redacted).toBeDefined();
    expect(lineage.entries.at(-1)?.error).toMatchObject({
      code: 'queue-unavailable',
      retryable: true,
    });
  });

  it('quarantines an event without its vendor id instead of dropping it', async () => {
    const { deps, queues } = setup();
    const fixture = loadFixture('shopify/customers-create');
    const { 'x-shopify-webhook-id': _dropped, ...headers } = fixture.headers;
    const answer = await receiveWebhook(deliver({ ...fixture, headers }), deps);
    expect(answer.status).toBe(202);
    expect(queues.dead).toHaveLength(1);
    expect(queues.dead[0]?.report.violations).toContainEqual(
      expect.objectContaining({ message: 'the event id is missing' }),
    );
    expect(queues.dead[0]?.envelope.id).toMatch(/^spine-/);
  });

  it('refuses with 413, saying why, an authentic event too large to store whole, instead of 503 forever', async () => {
    const { deps, queues } = setup();
    const fixture = loadFixture('stripe/customer.created');
    // 250 KB: under the old 1 MiB limit, over what fits in one SQS message with its envelope.
    const body = fixture.raw.replace(
      '"object": "event",',
      `"object": "event", "padding": "${'x'.repeat(250 * 1024)}",`,
    );
    for (let attempt = 0; attempt < 2; attempt++) {
      const answer = await receiveWebhook(deliver(fixture, { body }), deps);
      expect(answer).toMatchObject({
        status: 413,
        body: { error: 'too-large', detail: expect.stringContaining('one queue message') },
      });
    }
    expect(queues.dead).toEqual([]);
  });

  it('quarantines an authentic event just under the limit whole, cutting its report to fit', async () => {
    const { deps, queues, lineage } = setup();
    const fixture = loadFixture('shopify/orders-create');
    const order = JSON.parse(fixture.raw) as { id: number; line_items: unknown[] };
    // Thousands of lines, each breaking the contract (a number where a string is declared):
    // the event fits in a queue message, the event and every violation together do not.
    order.line_items = Array.from({ length: 3500 }, (_, i) => ({
      id: i,
      quantity: 1,
      price: 1.5,
      title: 'Screen protector',
    }));
    const body = JSON.stringify(order).replace(
      '"id":820982911946154500',
      '"id":820982911946154508',
    );
    expect(Buffer.byteLength(body)).toBeGreaterThan(200 * 1024);
    const answer = await receiveWebhook(deliver(fixture, { body }), deps);
    expect(answer.status).toBe(202);
    expect(queues.dead).toHaveLength(1);
    const dead = queues.dead[0] as (typeof queues.dead)[number];
    expect(dead.bytes).toBeLessThanOrEqual(256 * 1024);
    expect((dead.envelope.data as { line_items: unknown[] }).line_items).toHaveLength(3500);
    const kept = dead.report.violations?.length ?? 0;
    expect(kept).toBeGreaterThan(0);
    expect(dead.report.violationsOmitted).toBeGreaterThan(0);
    expect(kept + (dead.report.violationsOmitted ?? 0)).toBeGreaterThanOrEqual(3500);
    expect(lineage.entries.at(-1)).toMatchObject({
      stage: 'quarantined',
      error: { message: expect.stringMatching(/; and \d+ more$/) },
    });
  });

  it('logs a refused request with a fresh correlation id, and keeps forged names out of metrics', async () => {
    const { deps, logged, dimensions } = setup();
    const fixture = loadFixture('stripe/customer.created');
    const request = deliver(fixture);
    const forged = { ...request, rawBody: Buffer.from(fixture.raw.replace('Camille', 'Mallory')) };
    expect((await receiveWebhook(forged, deps)).status).toBe(401);
    expect((await receiveWebhook(forged, deps)).status).toBe(401);
    const refusals = logged.filter((l) => l.message === 'webhook refused: bad signature');
    expect(refusals.map((l) => l.fields.correlationId)).toEqual([
      expect.stringMatching(/^[0-9a-f-]{36}$/),
      expect.stringMatching(/^[0-9a-f-]{36}$/),
    ]);
    expect(refusals[0]?.fields.correlationId).not.toBe(refusals[1]?.fields.correlationId);

    await receiveWebhook(deliver(fixture, { source: 'x'.repeat(300) }), deps);
    await receiveWebhook(
      deliver(fixture, { body: fixture.raw.replace('"customer.created"', '"<script>x</script>"') }),
      deps,
    );
    await receiveWebhook(
      deliver(fixture, { body: fixture.raw.replace('"customer.created"', '"customer.deleted"') }),
      deps,
    );
    expect(dimensions.filter((d) => d.metric !== 'received')).toEqual(
      expect.arrayContaining([
        { metric: 'rejected', source: 'unknown', reason: 'unknown-source' },
        { metric: 'ignored', source: 'stripe', type: 'other' },
        { metric: 'ignored', source: 'stripe', type: 'customer.deleted' },
      ]),
    );
    expect(JSON.stringify(dimensions)).not.toContain('xxxx');
    expect(JSON.stringify(dimensions)).not.toContain('script');
  });

  it('answers 503 with the correlation id in the log when the queue cannot be reached', async () => {
    const { deps, queues, logged } = setup();
    queues.broken = true;
    const answer = await receiveWebhook(deliver(loadFixture('shopify/orders-create')), deps);
    expect(answer.status).toBe(503);
    const line = logged.find((l) => l.message.startsWith('queue unreachable'));
    expect(line?.fields.correlationId).toEqual(expect.stringMatching(/^[0-9a-f-]{36}$/));
  });
});
