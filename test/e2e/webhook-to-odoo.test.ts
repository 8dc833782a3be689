import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadContractRegistry, readLocator } from '../../functions/contracts/index.ts';
import type { Envelope } from '../../functions/ingest/envelope.ts';
import { parseEventJson } from '../../functions/ingest/event-json.ts';
import { DynamoDbLineageStore } from '../../functions/lineage/dynamodb-store.ts';
import type { LineageEntry } from '../../functions/lineage/model.ts';
import { webhookSecretName } from '../../functions/platform/names.ts';
import { localDynamoDbClient } from '../../local/dynamodb.ts';
import { lambdaContext } from '../../local/lambda-context.ts';
import type { OdooEmulator } from '../../local/odoo/server.ts';
import { allFixtures, type Fixture, loadFixture, PERSONAL_VALUES } from '../support/fixtures.ts';
import {
  localSecretsClient,
  sendFixture,
  startTestRuntime,
  waitFor,
} from '../support/local-runtime.ts';

type Runtime = Awaited<ReturnType<typeof startTestRuntime>>;
let runtime: Runtime;
let lineage: DynamoDbLineageStore;
let odoo: OdooEmulator;
const output: string[] = [];
const write = process.stdout.write.bind(process.stdout);
const writeError = process.stderr.write.bind(process.stderr);

const registry = loadContractRegistry();
const TERMINAL = new Set(['applied', 'skipped', 'skipped-stale']);

/** The events a fixture carries: (source, event id), read with its contract's locators. */
function eventIds(fixture: Fixture): string[] {
  const profile = registry.source(fixture.source);
  const body = parseEventJson(fixture.raw);
  const events = profile?.batch === 'array' ? (body as unknown[]) : [body];
  return events.map((event) => {
    const type = String(
      readLocator(profile?.eventType as never, { event, headers: fixture.headers }),
    );
    const contract = registry.route(fixture.source, type);
    return String(
      readLocator(contract?.source.eventId as never, { event, headers: fixture.headers }),
    );
  });
}

async function settled(fixture: Fixture): Promise<LineageEntry[][]> {
  return waitFor(`${fixture.name} to be applied`, async () => {
    const trails = await Promise.all(
      eventIds(fixture).map((id) => lineage.byEvent(fixture.source, id)),
    );
    return trails.every((trail) => trail.some((e) => TERMINAL.has(e.stage))) && trails;
  });
}

const count = (model: string, domain: unknown[]) =>
  odoo.orm.call(odoo.admin.uid, model, 'search_count', [domain], {
    context: { active_test: false },
  }) as number;
const read = (model: string, domain: unknown[], fields: string[]) =>
  odoo.orm.call(odoo.admin.uid, model, 'search_read', [domain, fields], {}) as Record<
    string,
    unknown
  >[];

function countsOfEverything() {
  return Object.fromEntries(
    [
      'res.partner',
      'product.product',
      'sale.order',
      'sale.order.line',
      'account.payment',
      'account.move',
      'account.move.line',
      'ir.model.data',
    ].map((m) => [m, count(m, [])]),
  );
}

beforeAll(async () => {
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
  // Capture what the handlers log, to scan it for personal data.
  // Captured, not echoed: the handlers' JSON lines are read by the last test.
  // Warnings and errors go to stderr: they are scanned too.
  const capture = ((chunk: string | Uint8Array) => {
    output.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  process.stdout.write = capture;
  process.stderr.write = capture;
  runtime = await startTestRuntime();
  odoo = runtime.odooEmulator as OdooEmulator;
  lineage = new DynamoDbLineageStore(
    localDynamoDbClient(runtime.dynamoDbUrl),
    'spine-local-lineage',
  );
}, 60_000);

afterAll(async () => {
  process.stdout.write = write;
  process.stderr.write = writeError;
  await runtime?.dispose();
});

const byFlow = (flow: string) =>
  allFixtures().filter(
    (f) =>
      eventIds(f).length > 0 &&
      (() => {
        const profile = registry.source(f.source);
        const body = parseEventJson(f.raw);
        const event = profile?.batch === 'array' ? (body as unknown[])[0] : body;
        return (
          registry.route(
            f.source,
            String(readLocator(profile?.eventType as never, { event, headers: f.headers })),
          )?.flow === flow
        );
      })(),
  );

describe('a webhook becomes exactly one correct change in Odoo, on the local runtime', {
  timeout: 120_000,
}, () => {
  it('lands every fixture from every vendor, signed with its scheme, in Odoo', async () => {
    // HubSpot's events are thin: the worker fetches the contact (enrichment) and writes its
    // state; they go after the systems that create partners, as they would in practice.
    const waves = [
      byFlow('customers').filter((f) => f.source !== 'hubspot'),
      byFlow('customers').filter((f) => f.source === 'hubspot'),
      byFlow('orders'),
      byFlow('payments'),
    ];
    for (const wave of waves) {
      for (const fixture of wave) {
        const answer = await sendFixture(runtime, fixture);
        expect(answer.status, `${fixture.name}: ${JSON.stringify(answer.body)}`).toBe(202);
        expect(answer.body.accepted).toEqual(eventIds(fixture));
      }
      for (const fixture of wave) await settled(fixture);
    }

    // One partner per person, whichever systems they came through.
    expect(count('res.partner', [['email', '=ilike', 'camille.durand@example.com']])).toBe(1);
    expect(count('res.partner', [['email', '=ilike', 'bob.norman@example.com']])).toBe(1);
    expect(count('res.partner', [['email', '=ilike', 'amara@okafor-studio.example']])).toBe(1);
    const [bob] = read(
      'res.partner',
      [['email', '=ilike', 'bob.norman@example.com']],
      ['name', 'function', 'phone'],
    );
    // HubSpot owns the CRM fields; Shopify created the partner and set the name only then.
    expect(bob).toMatchObject({
      name: 'Bob Norman',
      function: 'Head of Purchasing',
      phone: '+1 613 555 0177',
    });

    const [order] = read(
      'sale.order',
      [['client_order_ref', '=', '#1001']],
      ['amount_untaxed', 'amount_tax', 'amount_total', 'state', 'order_line', 'partner_id'],
    );
    // Shopify's totals to the cent: two lines, the discount as a line of its own, 6 % tax; paid,
    // so confirmed.
    expect(order).toMatchObject({
      amount_untaxed: 199.65,
      amount_tax: 11.74,
      amount_total: 211.39,
      state: 'sale',
    });
    expect(order?.order_line).toHaveLength(3);
    expect(order?.partner_id).toEqual([bob?.id, expect.any(String)]);
    expect(count('product.product', [['default_code', '=', 'IPOD2008GREEN']])).toBe(1);

    const payments = read('account.payment', [], ['amount', 'payment_type', 'partner_id'])
      .map((p) => [p.payment_type, p.amount])
      .sort();
    expect(payments).toEqual(
      [
        ['inbound', 149],
        ['inbound', 238],
        ['outbound', 3.98],
        ['outbound', 49],
      ].sort(),
    );
    const [invoice] = read(
      'account.move',
      [['ref', '=', '8F2C1A7B-0002']],
      [
        'amount_untaxed',
        'invoice_line_ids',
        'move_type',
        'state',
        'payment_state',
        'amount_residual',
      ],
    );
    // Posted at Stripe's total, and paid by its PaymentIntent, whichever of the two came first.
    expect(invoice).toMatchObject({
      amount_untaxed: 238,
      move_type: 'out_invoice',
      state: 'posted',
      payment_state: expect.stringMatching(/^(paid|in_payment)$/),
      amount_residual: 0,
    });

    // An event's timeline: received, queued, then applied. An applied event keeps its arrival's
    // times, not the redacted view (which an outcome to look into keeps: the quarantine below).
    const trail = await lineage.byEvent('stripe', 'evt_1QkZ7sLkdIwHu7ix4n5nGBQX');
    expect(trail.map((e) => e.stage)).toEqual(['received', 'queued', 'applied']);
    expect(trail[0]?.redacted).toBeUndefined();
    expect(new Set(trail.map((e) => e.correlationId)).size).toBe(1);
  });

  it('changes nothing when the vendors retry every delivery', async () => {
    const before = countsOfEverything();
    for (const fixture of allFixtures())
      expect((await sendFixture(runtime, fixture)).status).toBe(202);
    // Wait until the queues are drained, then compare.
    const sqs = new SQSClient({
      endpoint: runtime.sqsUrl,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
    });
    await waitFor('the flow queues to drain', async () => {
      for (const flow of runtime.flows) {
        const { Attributes } = await sqs.send(
          new GetQueueAttributesCommand({ QueueUrl: flow.queueUrl, AttributeNames: ['All'] }),
        );
        if (
          Attributes?.ApproximateNumberOfMessages !== '0' ||
          Attributes?.ApproximateNumberOfMessagesNotVisible !== '0'
        )
          return false;
      }
      return true;
    });
    expect(countsOfEverything()).toEqual(before);
    // On a standard queue each delivery shows in the timeline, received and queued, and the
    // event was applied once; a FIFO queue drops the repeat itself (dedup id = event id).
    const stages = async (source: string, id: string) =>
      (await lineage.byEvent(source, id)).map((e) => e.stage);
    expect(await stages('stripe', 'evt_3QkZCxLkdIwHu7ix0Wm4yJtF')).toEqual([
      'received',
      'queued',
      'applied',
      'posted',
      'related',
      'received',
      'queued',
      'skipped',
    ]);
    expect((await lineage.byEvent('stripe', 'evt_3QkZCxLkdIwHu7ix0Wm4yJtF')).at(-1)?.detail).toBe(
      'a repeated delivery of an event already applied: nothing written',
    );
    expect(await stages('stripe', 'evt_1QkZ7sLkdIwHu7ix4n5nGBQX')).toEqual([
      'received',
      'queued',
      'applied',
    ]);
  });

  it('refuses a tampered body or a wrong secret with 401 and stores nothing', async () => {
    const fixture = loadFixture('stripe/customer.created');
    const before = await runtime.sqs.store.queues.get('spine-local-customers.fifo')?.messages.size;
    const tampered = await sendFixture(runtime, fixture, {
      body: fixture.raw.replace('Camille Durand', 'Mallory'),
    });
    expect(tampered).toEqual({
      status: 401,
      body: { error: 'invalid-signature', detail: expect.stringContaining('does not match') },
    });
    // Clerk, not Shopify: a refusal holds off the next forced re-read of that source's secret
    // for 30 s, and the next test rotates Shopify's.
    const wrong = await sendFixture(runtime, loadFixture('clerk/user.created'), {
      secret: 'whsec_bm90LXRoZS1zZWNyZXQtbm90LXRoZS1zZWNyZXQ=',
    });
    expect(wrong.status).toBe(401);
    expect(runtime.sqs.store.queues.get('spine-local-customers.fifo')?.messages.size).toBe(before);
    expect(await lineage.byEvent('stripe', 'evt_tampered')).toEqual([]);
  });

  it('accepts the previous and the new secret while a secret rotates', async () => {
    const secrets = localSecretsClient(runtime);
    const old = runtime.webhookSecrets.shopify as string;
    const fresh = 'rotated-shopify-secret-0123456789';
    await secrets.send(
      new PutSecretValueCommand({
        SecretId: webhookSecretName('local', 'shopify'),
        SecretString: JSON.stringify({ current: fresh, previous: old }),
      }),
    );
    const fixture = loadFixture('shopify/customers-update');
    expect((await sendFixture(runtime, fixture, { secret: fresh })).status).toBe(202);
    expect((await sendFixture(runtime, fixture, { secret: old })).status).toBe(202);
    expect((await sendFixture(runtime, fixture, { secret: 'neither' })).status).toBe(401);
  });

  it('keeps an authentic but invalid event in the DLQ with its reason, and answers 202 quarantined', async () => {
    const fixture = loadFixture('stripe/payment_intent.succeeded');
    const raw = fixture.raw
      .replace('"id": "evt_3QkZCxLkdIwHu7ix0Wm4yJtF"', '"id": "evt_invalid_currency"')
      .replace('"currency": "eur"', '"currency": "euros"');
    const answer = await sendFixture(runtime, { ...fixture, raw });
    expect(answer.status).toBe(202);
    expect(answer.body.quarantined).toEqual([
      {
        id: 'evt_invalid_currency',
        violations: [
          {
            path: '$.data.object.currency',
            keyword: 'pattern',
            message: expect.stringContaining('must match pattern'),
          },
        ],
      },
    ]);
    const payments = runtime.flows.find((f) => f.name === 'payments');
    const sqs = new SQSClient({
      endpoint: runtime.sqsUrl,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
    });
    const dead = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: payments?.deadLetterQueueUrl,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
        VisibilityTimeout: 0,
      }),
    );
    const kept = dead.Messages?.find((m) => m.Body?.includes('evt_invalid_currency'));
    expect(kept?.MessageAttributes?.['spine-reason']?.StringValue).toBe('contract-violation');
    expect(JSON.parse(kept?.Body ?? '{}').data.data.object.currency).toBe('euros');
    const trail = await lineage.byEvent('stripe', 'evt_invalid_currency');
    expect(trail.map((e) => e.stage)).toEqual(['received', 'quarantined']);
  });

  it('stores a large authentic event that breaks its contract whole in the DLQ, or refuses it with 413', async () => {
    const fixture = loadFixture('shopify/orders-create');
    const order = JSON.parse(fixture.raw) as { line_items: unknown[] };
    order.line_items = Array.from({ length: 3500 }, (_, i) => ({ id: i, quantity: 1, price: 1.5 }));
    const raw = JSON.stringify(order).replace('"id":820982911946154500', '"id":820982911946154999');
    const headers = { ...fixture.headers, 'x-shopify-webhook-id': 'large-order-1' };
    const answer = await sendFixture(runtime, { ...fixture, raw, headers });
    expect(answer.status).toBe(202);
    expect(answer.body.quarantined).toEqual([
      { id: 'large-order-1', violations: expect.any(Array) },
    ]);
    // Too large to store whole: refused, saying so (not accepted and then lost, nor 503 forever).
    const padded = fixture.raw.replace('"note":', `"padding":"${'x'.repeat(250 * 1024)}","note":`);
    const refused = await sendFixture(runtime, { ...fixture, raw: padded });
    expect(refused).toMatchObject({ status: 413, body: { error: 'too-large' } });
    const trail = await lineage.byEvent('shopify', 'large-order-1');
    expect(trail.map((e) => e.stage)).toEqual(['received', 'quarantined']);
  });

  it('shows every event that touched a partner, by Odoo record, and the partner an order found in its trail', async () => {
    const [bob] = read('res.partner', [['email', '=ilike', 'bob.norman@example.com']], ['id']);
    const trail = await lineage.byRecord('res.partner', bob?.id as number);
    const sources = new Set(trail.map((e) => e.source));
    expect(sources).toEqual(new Set(['shopify', 'hubspot']));
    const applied = trail.filter((e) => e.stage === 'applied');
    expect(applied.map((e) => e.eventId)).toContain('b54557e4-bdd9-4b37-8a5f-bf7d70bcd043');
    // HubSpot's events all write the contact as fetched: the newest of each batch is applied.
    expect(applied.filter((e) => e.source === 'hubspot').length).toBeGreaterThan(0);
    // An order that only found Bob changed nothing of his: his timeline does not list it, the
    // order's trail does.
    expect(trail.map((e) => e.eventId)).not.toContain('6a1b8f0d-3c2e-4e5f-9a7b-8c6d5e4f3a21');
    const [order] = read('sale.order', [['client_order_ref', '=', '#1001']], ['id']);
    const orderTrail = await lineage.byEvent('shopify', '6a1b8f0d-3c2e-4e5f-9a7b-8c6d5e4f3a21');
    expect(orderTrail.filter((e) => e.stage === 'related' && e.model === 'res.partner')).toEqual([
      expect.objectContaining({
        recordId: bob?.id,
        outcome: 'found',
        detail: `partner_id of sale.order ${order?.id}`,
      }),
    ]);
    // The products the order created have a timeline too.
    const [product] = read('product.product', [['default_code', '=', 'IPOD2008GREEN']], ['id']);
    // Created by the order's first delivery; an attempt retried (the buyer's e-mail held by his
    // other order in the same batch) finds it.
    const productTrail = await lineage.byRecord('product.product', product?.id as number);
    expect(productTrail[0]).toMatchObject({
      stage: 'related',
      outcome: 'created',
      source: 'shopify',
    });
    expect(productTrail.filter((e) => e.outcome === 'created')).toHaveLength(1);
    expect(new Set(productTrail.map((e) => e.stage))).toEqual(new Set(['related']));
  });

  it('logs each record of a batch with its own correlation id, and a refused request with one', async () => {
    const { handler } = await import('../../functions/handlers/worker.ts');
    const contract = registry.route('stripe', 'payment_intent.succeeded');
    const payments = runtime.flows.find((f) => f.name === 'payments');
    const fixture = parseEventJson(loadFixture('stripe/payment_intent.succeeded').raw) as {
      id: string;
      data: { object: { id: string; customer: string } };
    };
    // Two deliveries whose customers Spine has not seen: each fails (retryable) and is logged.
    const records = ['F_2', 'F_3'].map((n) => {
      const event = structuredClone(fixture);
      event.id = `evt_${n}`;
      event.data.object.id = `pi_${n}`;
      event.data.object.customer = `cus_unknown_${n}`;
      const envelope: Envelope = {
        specversion: '1.0',
        id: event.id,
        source: '/webhooks/stripe',
        type: 'payment_intent.succeeded',
        time: new Date().toISOString(),
        subject: event.data.object.id,
        datacontenttype: 'application/json',
        spinecontract: `${contract?.id}@${contract?.version}`,
        spineflow: 'payments',
        spinesource: 'stripe',
        correlationid: `corr-${n}`,
        spinereceivedat: new Date().toISOString(),
        spinereplaycount: 0,
        data: event,
      };
      return {
        messageId: `m-${n}`,
        receiptHandle: `r-${n}`,
        body: JSON.stringify(envelope),
        attributes: {
          ApproximateReceiveCount: '1',
          SentTimestamp: String(Date.now()),
          SenderId: 'test',
          ApproximateFirstReceiveTimestamp: String(Date.now()),
        },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: `arn:aws:sqs:us-east-1:000000000000:${payments?.queueUrl.split('/').at(-1)}`,
        awsRegion: 'us-east-1',
      };
    });
    const from = output.length;
    const answer = await handler(
      { Records: records },
      lambdaContext('spine-local-worker-payments', 30_000),
    );
    expect(answer.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual([
      'm-F_2',
      'm-F_3',
    ]);
    const lines = output
      .slice(from)
      .join('')
      .split('\n')
      .filter((l) => l.includes('"event not applied"'))
      .map((l) => JSON.parse(l) as { eventId: string; correlationId: string });
    expect(lines.map((l) => [l.eventId, l.correlationId]).sort()).toEqual([
      ['evt_F_2', 'corr-F_2'],
      ['evt_F_3', 'corr-F_3'],
    ]);

    // A later record that is not an envelope carries no correlation id left over from those.
    const after = output.length;
    const [first] = records;
    await handler(
      { Records: [{ ...(first as (typeof records)[number]), messageId: 'm-junk', body: '{}' }] },
      lambdaContext('spine-local-worker-payments', 30_000),
    );
    const junk = output
      .slice(after)
      .join('')
      .split('\n')
      .find((l) => l.includes('not a Spine envelope'));
    expect(JSON.parse(junk ?? '{}')).toMatchObject({ messageId: 'm-junk' });
    expect(JSON.parse(junk ?? '{}').correlationId).toBeUndefined();

    const before = output.length;
    const forged = await sendFixture(runtime, loadFixture('stripe/customer.created'), {
      secret: 'forged',
    });
    expect(forged.status).toBe(401);
    const refused = output
      .slice(before)
      .join('')
      .split('\n')
      .find((l) => l.includes('webhook refused: bad signature'));
    expect(JSON.parse(refused ?? '{}').correlationId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('keeps every raw personal value out of lineage and logs', async () => {
    const dynamo = localDynamoDbClient(runtime.dynamoDbUrl);
    const items = JSON.stringify(
      (await dynamo.send(new ScanCommand({ TableName: 'spine-local-lineage' }))).Items,
    );
    expect(items.length).toBeGreaterThan(1000);
    const logs = output.join('');
    expect(logs).toContain('webhook received');
    for (const value of PERSONAL_VALUES) {
      expect(items, `lineage holds "${value}"`).not.toContain(value);
      expect(logs, `logs hold "${value}"`).not.toContain(value);
    }
  });
});
