/**
 * Authentic deliveries that once answered 500, and their neighbours: every one is queued,
 * quarantined with a reason, or refused with a 4xx that says why (issue 12).
 */
import { describe, expect, it } from 'vitest';
import { receiveWebhook } from '../../functions/ingest/receive.ts';
import { loadFixture } from '../support/fixtures.ts';
import { receiverSetup, signedDelivery } from './receiver-harness.ts';

const stripeCustomer = loadFixture('stripe/customer.created');
const hubspotCreation = loadFixture('hubspot/contact-creation');
const shopifyCustomer = loadFixture('shopify/customers-create');

/** A field nested `depth` levels deep: {"a":{"a":…{"a":1}…}}. */
const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

describe('receiveWebhook with hostile but authentic input', () => {
  it('quarantines a Stripe event created at 6e200 instead of answering 500', async () => {
    const { deps, queues } = receiverSetup();
    const body = stripeCustomer.raw.replace('"created": 1737972120', '"created": 6e200');
    const answer = await receiveWebhook(signedDelivery(stripeCustomer, body), deps);
    expect(answer.status).toBe(202);
    expect(queues.queued).toEqual([]);
    expect(queues.dead).toHaveLength(1);
    expect(queues.dead[0]?.report.violations).toContainEqual({
      path: '$.created',
      keyword: 'format',
      message: expect.stringContaining('out of range'),
    });
    // The event is kept whole, with its vendor id, and the envelope still has a valid time.
    expect(queues.dead[0]?.envelope).toMatchObject({
      id: 'evt_1QkZ7sLkdIwHu7ix4n5nGBQX',
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
  });

  it.each([
    ['1e400 (JSON.parse gives Infinity)', '1e400'],
    ['a negative time', '-1737972120'],
    ['a time beyond the year 9999', '253402300800000'],
    ['a fraction of a second before 1970', '-0.5'],
  ])('quarantines a Stripe event created at %s', async (_, created) => {
    const { deps, queues } = receiverSetup();
    const body = stripeCustomer.raw.replace('"created": 1737972120', `"created": ${created}`);
    const answer = await receiveWebhook(signedDelivery(stripeCustomer, body), deps);
    expect(answer.status).toBe(202);
    expect(queues.dead[0]?.report.violations).toContainEqual(
      expect.objectContaining({ path: '$.created', keyword: 'format' }),
    );
  });

  it('keeps a Stripe event nested 10,000 levels deep whole in the DLQ, as its JSON text', async () => {
    const { deps, queues, lineage } = receiverSetup();
    const body = stripeCustomer.raw.replace(
      '"livemode": false,\n  "pending',
      `"livemode": ${nested(10_000)},\n  "pending`,
    );
    expect(body).not.toBe(stripeCustomer.raw);
    const answer = await receiveWebhook(signedDelivery(stripeCustomer, body), deps);
    expect(answer.status).toBe(202);
    expect(queues.dead).toHaveLength(1);
    const dead = queues.dead[0] as (typeof queues.dead)[number];
    expect(dead.envelope.data).toBe(body);
    expect(dead.envelope.id).toBe('evt_1QkZ7sLkdIwHu7ix4n5nGBQX');
    expect(dead.report.violations).toContainEqual({
      path: '$',
      keyword: 'maxDepth',
      message: expect.stringMatching(/nested deeper than \d+ levels/),
    });
    // The trail names the reason without holding the unclassified text.
    expect(lineage.entries.map((e) => e.stage)).toEqual(['received', 'quarantined']);
    expect(JSON.stringify(lineage.entries)).not.toContain('Camille');
  });

  it('quarantines only the deep element of a HubSpot array, each with its own text', async () => {
    const { deps, queues } = receiverSetup();
    const [event] = JSON.parse(hubspotCreation.raw) as Record<string, unknown>[];
    const deep = `{"eventId":77,"subscriptionId":2871245,"subscriptionType":"contact.creation","objectId":52,"occurredAt":1738082400123,"x":${nested(5000)}}`;
    const body = `[${JSON.stringify(event)}, ${deep}]`;
    const answer = await receiveWebhook(signedDelivery(hubspotCreation, body), deps);
    expect(answer.status).toBe(202);
    // HubSpot's event id is not unique alone: with the subscription, object and time it is.
    expect(answer.body.accepted).toEqual(['2871245-3876119384-51-1738082400123']);
    expect(queues.dead.map((d) => [d.envelope.id, d.envelope.data])).toEqual([
      ['2871245-77-52-1738082400123', deep],
    ]);
  });

  it('queues an event holding U+FFFF, a character SQS refuses unescaped', async () => {
    const { deps, queues } = receiverSetup();
    const body = stripeCustomer.raw.replace('annual plan', 'annual \\uffff plan\uFFFE');
    const answer = await receiveWebhook(signedDelivery(stripeCustomer, body), deps);
    expect(answer.status).toBe(202);
    expect(queues.queued).toHaveLength(1);
    expect(queues.queued[0]?.body).toContain('\\uffff');
    expect(JSON.parse(queues.queued[0]?.body ?? '')).toEqual(queues.queued[0]?.envelope);
  });

  it.each([
    ['5,000 characters long', 'a'.repeat(5000)],
    ['with spaces', 'b545 57e4'],
  ])(
    'quarantines a Shopify event whose webhook id is %s, under an id of its own',
    async (_, id) => {
      const { deps, queues } = receiverSetup();
      const headers = { ...shopifyCustomer.headers, 'x-shopify-webhook-id': id };
      const answer = await receiveWebhook(
        signedDelivery(shopifyCustomer, shopifyCustomer.raw, headers),
        deps,
      );
      expect(answer.status).toBe(202);
      expect(queues.queued).toEqual([]);
      expect(queues.dead[0]?.envelope.id).toMatch(/^spine-/);
      expect(queues.dead[0]?.report.violations).toContainEqual(
        expect.objectContaining({ path: 'header x-shopify-webhook-id', keyword: 'format' }),
      );
    },
  );

  it.each([
    ['6e200', '6e200'],
    ['a fraction', '1.5'],
    ['an object', '{"id":1}'],
    ['an array nested 5,000 deep', `${'['.repeat(5000)}1${']'.repeat(5000)}`],
  ])('quarantines a HubSpot event whose event id is %s', async (_, id) => {
    const { deps, queues, logged } = receiverSetup();
    const body = hubspotCreation.raw.replace('"eventId":3876119384', `"eventId":${id}`);
    const answer = await receiveWebhook(signedDelivery(hubspotCreation, body), deps);
    expect(answer.status).toBe(202);
    expect(queues.queued).toEqual([]);
    expect(queues.dead[0]?.report.violations).toContainEqual(
      expect.objectContaining({ path: expect.stringContaining('$.eventId') }),
    );
    // Filed as an ordinary violation, not through the receiver's last resort.
    expect(logged.filter((l) => l.level === 'error')).toEqual([]);
  });

  it('reads a body that starts with a UTF-8 byte order mark', async () => {
    const { deps, queues } = receiverSetup();
    const answer = await receiveWebhook(
      signedDelivery(stripeCustomer, `\uFEFF${stripeCustomer.raw}`),
      deps,
    );
    expect(answer.status).toBe(202);
    expect(queues.queued).toHaveLength(1);
  });

  it('refuses with 400, saying so, an authentic body that is not UTF-8, rather than store it altered', async () => {
    const { deps, queues } = receiverSetup();
    const bytes = Buffer.from(stripeCustomer.raw.replace('Bâtiment', 'B\u00e2timent'), 'latin1');
    const answer = await receiveWebhook(signedDelivery(stripeCustomer, bytes), deps);
    expect(answer).toMatchObject({
      status: 400,
      body: { error: 'unreadable-body', detail: expect.stringContaining('UTF-8') },
    });
    expect(queues.bodies()).toEqual([]);
  });

  it('answers 503, and logs why, when the signing secrets cannot be read', async () => {
    const { deps, logged } = receiverSetup();
    const answer = await receiveWebhook(signedDelivery(stripeCustomer), {
      ...deps,
      secrets: {
        forSource: async () => {
          throw new Error('connect ETIMEDOUT secretsmanager');
        },
      },
    });
    expect(answer).toMatchObject({ status: 503, body: { error: 'secrets-unavailable' } });
    expect(logged).toContainEqual(
      expect.objectContaining({
        level: 'error',
        fields: expect.objectContaining({ error: expect.stringContaining('ETIMEDOUT') }),
      }),
    );
  });

  it('keeps a vendor correlation id only when it is a plausible id', async () => {
    const { deps } = receiverSetup();
    const long = { ...stripeCustomer.headers, 'x-correlation-id': 'c'.repeat(5000) };
    const fine = { ...stripeCustomer.headers, 'x-correlation-id': 'req-42' };
    const first = await receiveWebhook(
      signedDelivery(stripeCustomer, stripeCustomer.raw, long),
      deps,
    );
    const second = await receiveWebhook(
      signedDelivery(stripeCustomer, stripeCustomer.raw, fine),
      deps,
    );
    expect(first.body.correlationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(second.body.correlationId).toBe('req-42');
  });
});
