/**
 * Properties of the receiver under generated hostile deliveries (issue 12): mutated bodies,
 * headers, encodings, nesting, numbers and timestamps. Whatever arrives, there is no 5xx and no
 * exception; nothing is queued or kept without a valid signature; every authentic event is
 * queued, quarantined with violations, or named in the answer with why it was not.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { envelopeMessageBody } from '../../functions/ingest/envelope.ts';
import { arrayElementTexts } from '../../functions/ingest/event-json.ts';
import { receiveWebhook, type WebhookRequest } from '../../functions/ingest/receive.ts';
import { type Fixture, loadFixture } from '../support/fixtures.ts';
import { contractNamed, queuedEnvelope } from '../support/queued-events.ts';
import { receiverSetup, signedDelivery } from './receiver-harness.ts';

const FIXTURES = [
  'stripe/customer.created',
  'stripe/payment_intent.succeeded',
  'shopify/customers-create',
  'shopify/orders-create',
  'hubspot/contact-creation',
  'hubspot/contact-propertyChange',
  'clerk/user.created',
].map(loadFixture);

const XML_TEXT = /^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;

/** JSON text a vendor could sign: numbers JSON.parse reads as Infinity, deep nesting, huge text. */
const hostileLiteral: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '6e200',
    '1e400',
    '-1e400',
    '-0',
    '1e-400',
    '-1',
    '0',
    '253402300800000',
    '12345678901234567890123',
    '"NaN"',
    '"Infinity"',
    '"-1"',
    '"275760-09-13T00:00:00.001Z"',
    '"2025-13-45T99:99:99Z"',
    '"\\uffff\\ufffe"',
    '"\\ud800"',
    '"\\u0000"',
    'null',
    'true',
    '[]',
    '{}',
    '{"__proto__":{"polluted":1}}',
  ),
  fc.double().map((n) => JSON.stringify(n)),
  fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map(String),
  fc.string({ unit: 'binary', maxLength: 40 }).map((s) => JSON.stringify(s)),
  fc.integer({ min: 1_000, max: 120_000 }).map((n) => JSON.stringify('é'.repeat(n))),
  fc
    .tuple(fc.integer({ min: 50, max: 12_000 }), fc.boolean())
    .map(([depth, array]) =>
      array
        ? `${'['.repeat(depth)}1${']'.repeat(depth)}`
        : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
    ),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
);

type Path = (string | number)[];

function pathsOf(value: unknown, prefix: Path = []): Path[] {
  if (value === null || typeof value !== 'object') return [prefix];
  const children = Object.entries(value).flatMap(([key, child]) =>
    pathsOf(child, [...prefix, Array.isArray(value) ? Number(key) : key]),
  );
  return [prefix, ...children];
}

interface Mutation {
  readonly at: number;
  readonly kind: 'replace' | 'delete' | 'duplicate';
  readonly literal: string;
}

const mutation: fc.Arbitrary<Mutation> = fc.record({
  at: fc.nat(),
  kind: fc.constantFrom('replace', 'replace', 'replace', 'delete', 'duplicate'),
  literal: hostileLiteral,
});

/** The fixture's body with each mutation applied at a path of its value, as JSON text. */
function mutatedBody(fixture: Fixture, mutations: readonly Mutation[]): string {
  const value = JSON.parse(fixture.raw) as unknown;
  const literals = new Map<string, string>();
  for (const [n, m] of mutations.entries()) {
    const paths = pathsOf(value).filter((p) => p.length > 0);
    const path = paths[m.at % paths.length] as Path;
    const parent = path.slice(0, -1).reduce<unknown>((v, k) => (v as never)[k], value) as Record<
      string | number,
      unknown
    >;
    const key = path.at(-1) as string | number;
    const marker = `__hostile_${n}__`;
    literals.set(`"${marker}"`, m.literal);
    if (m.kind === 'delete' && !Array.isArray(parent)) delete parent[key];
    else if (m.kind === 'duplicate' && !Array.isArray(parent)) {
      // A second `key` in the same object: JSON.parse keeps the last one.
      parent[`${marker}key`] = marker;
      literals.set(`"${marker}key"`, JSON.stringify(key));
    } else parent[key] = marker;
  }
  let text = JSON.stringify(value);
  for (const [marker, literal] of literals) text = text.replace(marker, literal);
  return text;
}

/** What every answer must satisfy, whatever was sent. */
function expectNoFaultOfTheVendors(status: number, body: Record<string, unknown>) {
  expect(status).toBeLessThan(500);
  if (status >= 400) {
    expect(body.error).toEqual(expect.any(String));
    expect(body.detail).toEqual(expect.any(String));
  }
}

describe('receiveWebhook properties', () => {
  it('files every authentic event, however mangled: queued, quarantined with violations, or ignored with its type', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...FIXTURES),
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        async (fixture, mutations) => {
          const { deps, queues, logged } = receiverSetup();
          const body = mutatedBody(fixture, mutations);
          const { status, body: answer } = await receiveWebhook(
            signedDelivery(fixture, body),
            deps,
          );
          expectNoFaultOfTheVendors(status, answer);
          expect(logged.filter((l) => l.level === 'error')).toEqual([]);
          if (status !== 202) {
            // Only a body too large to store, or one that is not a (batch of) JSON events.
            expect([400, 413]).toContain(status);
            expect(queues.bodies()).toEqual([]);
            return;
          }
          const accepted = (answer.accepted ?? []) as string[];
          const quarantined = (answer.quarantined ?? []) as { id: string; violations: unknown[] }[];
          const ignored = (answer.ignored ?? []) as string[];
          expect(queues.queued.map((q) => q.envelope.id)).toEqual(accepted);
          expect(queues.dead.map((d) => d.envelope.id)).toEqual(quarantined.map((q) => q.id));
          for (const q of quarantined) expect(q.violations.length).toBeGreaterThan(0);
          for (const d of queues.dead) expect(d.report.violations?.length).toBeGreaterThan(0);
          for (const type of ignored) expect(type).toMatch(/\S/);
          const parsed = JSON.parse(body) as unknown;
          const events = Array.isArray(parsed) && fixture.source === 'hubspot' ? parsed : [parsed];
          expect(accepted.length + quarantined.length + ignored.length).toBe(events.length);
          // What was stored can be read back as it was stored, by SQS and by a worker.
          for (const stored of queues.bodies()) {
            expect(stored).toMatch(XML_TEXT);
            expect(() => JSON.parse(stored)).not.toThrow();
          }
          for (const q of queues.queued) expect(Date.parse(q.envelope.time)).not.toBeNaN();
        },
      ),
      { numRuns: 120 },
    );
  });

  it('stores nothing and answers 4xx with a reason when the signature does not hold', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...FIXTURES),
        fc.array(mutation, { maxLength: 2 }),
        fc.oneof(
          fc.constant<'tamper'>('tamper'),
          fc.constant<'drop-signature'>('drop-signature'),
          fc.constant<'garble-signature'>('garble-signature'),
        ),
        fc.string({ maxLength: 20 }),
        async (fixture, mutations, attack, noise) => {
          const { deps, queues, lineage, logged } = receiverSetup();
          const body = mutatedBody(fixture, mutations);
          const signed = signedDelivery(fixture, body);
          const signatureNames = Object.keys(signed.headers).filter(
            (name) => !(name in fixture.headers),
          );
          const headers: Record<string, string | undefined> = { ...signed.headers };
          for (const name of signatureNames) {
            if (attack === 'drop-signature') delete headers[name];
            if (attack === 'garble-signature') headers[name] = `${noise}${headers[name]}`.slice(1);
          }
          const request: WebhookRequest = {
            ...signed,
            headers,
            rawBody: attack === 'tamper' ? Buffer.from(`${body} `) : signed.rawBody,
          };
          const { status, body: answer } = await receiveWebhook(request, deps);
          // A garbled header can, by chance, still carry the right signature and timestamp.
          if (status === 202 && attack === 'garble-signature') return;
          expect([400, 401, 413]).toContain(status);
          if (status === 401) expect(answer.error).toBe('invalid-signature');
          expectNoFaultOfTheVendors(status, answer);
          expect(queues.bodies()).toEqual([]);
          expect(lineage.entries).toEqual([]);
          const everythingLogged = JSON.stringify(logged);
          expect(everythingLogged).not.toContain(body.slice(0, 60));
        },
      ),
      { numRuns: 120 },
    );
  });

  it('answers a signed body of any bytes, whatever its encoding, with no 5xx', async () => {
    const fixture = loadFixture('stripe/customer.created');
    const original = Buffer.from(fixture.raw);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        fc.constantFrom('', '\uFEFF', ' \n'),
        fc.boolean(),
        async (flips, prefix, base64) => {
          const bytes = Buffer.concat([Buffer.from(prefix), original]);
          for (const [at, byte] of flips) bytes[at % bytes.length] = byte;
          const { deps, queues } = receiverSetup();
          const delivery = signedDelivery(fixture, bytes);
          // API Gateway hands a non-text body over as base64; the handler decodes it first.
          const rawBody = base64
            ? Buffer.from(bytes.toString('base64'), 'base64')
            : delivery.rawBody;
          const { status, body } = await receiveWebhook({ ...delivery, rawBody }, deps);
          expectNoFaultOfTheVendors(status, body);
          if (status === 400) expect(queues.bodies()).toEqual([]);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('answers whatever headers arrive, missing, repeated or oddly cased, with no 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...FIXTURES),
        fc.array(fc.tuple(fc.nat(), fc.constantFrom('drop', 'repeat', 'upper', 'empty', 'huge')), {
          maxLength: 4,
        }),
        async (fixture, changes) => {
          const { deps, queues } = receiverSetup();
          const signed = signedDelivery(fixture);
          const headers: Record<string, string | undefined> = { ...signed.headers };
          const names = Object.keys(headers);
          for (const [at, change] of changes) {
            const name = names[at % names.length] as string;
            const value = headers[name];
            if (change === 'drop') delete headers[name];
            if (change === 'repeat') headers[name] = `${value},${value}`;
            if (change === 'upper') {
              delete headers[name];
              headers[name.toUpperCase()] = value;
            }
            if (change === 'empty') headers[name] = '';
            if (change === 'huge') headers[name] = 'h'.repeat(10_000);
          }
          const { status, body } = await receiveWebhook({ ...signed, headers }, deps);
          expectNoFaultOfTheVendors(status, body);
          if (status !== 202) expect(queues.bodies()).toEqual([]);
          for (const stored of queues.bodies()) expect(stored).toMatch(XML_TEXT);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('event JSON text', () => {
  it('splits a JSON array into the exact text of each element, however it is spaced', () => {
    fc.assert(
      fc.property(
        fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 6 }),
        fc.constantFrom(undefined, 1, '\t', ' \n '),
        (elements, space) => {
          const text = JSON.stringify(elements, null, space);
          const texts = arrayElementTexts(text);
          expect(texts.map((t) => JSON.parse(t) as unknown)).toEqual(
            JSON.parse(JSON.stringify(elements)),
          );
          for (const t of texts) expect(text).toContain(t);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('serialises any envelope to a message body SQS takes and JSON reads back unchanged', () => {
    const contract = contractNamed('stripe.customer');
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 30 }), fc.jsonValue(), (text, extra) => {
        const envelope = queuedEnvelope(
          contract,
          { id: text, data: { object: { id: text, email: text, metadata: { [text]: extra } } } },
          { id: 'evt_1', subject: 'cus_1', type: 'customer.created' },
        );
        const body = envelopeMessageBody(envelope);
        expect(body).toMatch(XML_TEXT);
        expect(JSON.parse(body)).toEqual(JSON.parse(JSON.stringify(envelope)));
      }),
      { numRuns: 200 },
    );
  });
});
