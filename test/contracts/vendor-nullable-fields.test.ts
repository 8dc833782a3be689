/**
 * Real input never dead-letters: every payload a vendor's API allows is handled by its contract.
 *
 * For each contract, each fixture event is varied along the fields its JSON Schema leaves open
 * (type includes null, not required, strings that may be empty, arrays that may be empty), one
 * field at a time and all at once. Each variant must pass the contract, map, and end applied or
 * skipped with a reason in a fresh Odoo emulator: never failed. The fields come from the schema,
 * so a field added to a contract is covered without touching this file.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  type CompiledContract,
  type Delivery,
  loadContractRegistry,
  mapEvent,
  readLocator,
  readLocatorString,
  toEpochMillis,
} from '../../functions/contracts/index.ts';
import type { Envelope } from '../../functions/ingest/envelope.ts';
import { parseEventJson } from '../../functions/ingest/event-json.ts';
import { type ApplyOutcome, applyEnvelopes } from '../../functions/sync/apply.ts';
import { type OdooEmulator, startOdooEmulator } from '../../local/odoo/server.ts';
import { allFixtures, loadFixture } from '../support/fixtures.ts';
import { MemoryLineageStore } from '../support/memory-lineage.ts';
import { integrationClient } from '../support/odoo.ts';
import { queuedEnvelope } from '../support/queued-events.ts';
import { syncDependencies } from '../support/sync.ts';

const registry = loadContractRegistry();
const ROOT = new URL('../../', import.meta.url).pathname;

/**
 * Events another flow has applied before these can land. A payment or refund waits (retried, not
 * dead-lettered) until the customers flow has created its payer, and a refund until its original
 * (the payment, the order) is in: those are delivered first here, and
 * test/sync/stripe-customer-chain.test.ts covers a payer with nothing but an id.
 */
const DELIVERED_BEFORE: Readonly<Record<string, readonly string[]>> = {
  'stripe.payment-intent': ['stripe/customer.created'],
  'stripe.charge-refund': ['stripe/customer.created', 'stripe/payment_intent.succeeded'],
  'shopify.refund': ['shopify/orders-create'],
};

/**
 * Variants no vendor sends because they contradict the event's own figures, and the error they
 * must fail with instead: an invoice whose lines are emptied keeps its total of 238.00, so Odoo's
 * total (0) is not Stripe's and the invoice is not posted (DESIGN.md "Numbers match").
 */
const CONTRADICTS_ITS_TOTAL: Readonly<Record<string, string>> = {
  'stripe/invoice.paid data.object.lines.data: []': 'totals-differ',
};

type JsonSchema = {
  readonly type?: string | readonly string[];
  readonly enum?: readonly unknown[];
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly items?: JsonSchema;
  readonly minItems?: number;
  readonly $ref?: string;
};

/** A field the vendor may leave out or send empty; `*` in the path stands for every array item. */
interface OpenField {
  readonly path: readonly string[];
  readonly nullable: boolean;
  readonly optional: boolean;
  readonly string: boolean;
  /** An array the schema lets be empty. */
  readonly emptiable: boolean;
  /** Holds declared fields of its own, so "every leaf" variants leave it in place. */
  readonly parent: boolean;
}

function resolve(schema: JsonSchema, root: JsonSchema): JsonSchema {
  if (!schema.$ref) return schema;
  const target = schema.$ref
    .replace(/^#\//, '')
    .split('/')
    .reduce<unknown>((node, key) => (node as Record<string, unknown>)?.[key], root) as JsonSchema;
  const { $ref: _, ...siblings } = schema;
  return { ...resolve(target, root), ...siblings };
}

const typesOf = (schema: JsonSchema): readonly string[] =>
  schema.type === undefined ? [] : typeof schema.type === 'string' ? [schema.type] : schema.type;

/** Every declared field of the schema the vendor may send as null, leave out or send empty. */
function openFields(schema: JsonSchema, root: JsonSchema, path: string[] = []): OpenField[] {
  const node = resolve(schema, root);
  const required = new Set(node.required ?? []);
  const found: OpenField[] = [];
  for (const [name, declared] of Object.entries(node.properties ?? {})) {
    const field = resolve(declared, root);
    const types = typesOf(field);
    const here = [...path, name];
    const items = field.items ? resolve(field.items, root) : undefined;
    const parent = Object.keys(field.properties ?? {}).length > 0 || !!items?.properties;
    found.push({
      path: here,
      nullable: types.includes('null') || (field.enum ?? []).includes(null),
      optional: !required.has(name),
      string: types.includes('string'),
      emptiable: types.includes('array') && !field.minItems,
      parent,
    });
    found.push(...openFields(field, root, here));
    if (items) found.push(...openFields(items, root, [...here, '*']));
  }
  return found;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Applies `change` to the field at `path` in every object that holds it. */
function edit(
  value: unknown,
  path: readonly string[],
  change: (holder: Record<string, unknown>, key: string) => void,
): void {
  const [head, ...rest] = path as [string, ...string[]];
  if (Array.isArray(value)) {
    if (head === '*') for (const item of value) edit(item, rest, change);
    else if (/^\d+$/.test(head)) edit(value[Number(head)], rest, change);
    return;
  }
  if (!isRecord(value) || head === '*') return;
  if (rest.length === 0) change(value, head);
  else edit(value[head], rest, change);
}

const setTo = (replacement: unknown) => (holder: Record<string, unknown>, key: string) => {
  holder[key] = replacement;
};
const remove = (holder: Record<string, unknown>, key: string) => {
  delete holder[key];
};
const show = (path: readonly string[]) => path.join('.');

interface Variant {
  readonly name: string;
  readonly event: unknown;
}

/** The fixture event varied one open field at a time, then every one of a kind at once. */
function variantsOf(event: unknown, fields: readonly OpenField[]): Variant[] {
  const variants: Variant[] = [];
  const add = (name: string, edits: [readonly string[], typeof remove][]) => {
    const copy = structuredClone(event);
    for (const [path, change] of edits) edit(copy, path, change);
    if (JSON.stringify(copy) !== JSON.stringify(event)) variants.push({ name, event: copy });
  };
  for (const field of fields) {
    if (field.nullable) add(`${show(field.path)}: null`, [[field.path, setTo(null)]]);
    if (field.optional) add(`${show(field.path)}: absent`, [[field.path, remove]]);
    if (field.string && (field.nullable || field.optional))
      add(`${show(field.path)}: ""`, [[field.path, setTo('')]]);
    if (field.emptiable) add(`${show(field.path)}: []`, [[field.path, setTo([])]]);
  }
  // Deepest first, so a nullable object ends null rather than holding null fields.
  const deepestFirst = [...fields].sort((a, b) => b.path.length - a.path.length);
  const nullable = deepestFirst.filter((f) => f.nullable);
  const optional = deepestFirst.filter((f) => f.optional);
  add(
    'every nullable field null',
    nullable.map((f) => [f.path, setTo(null)]),
  );
  add(
    'every nullable leaf null',
    nullable.filter((f) => !f.parent).map((f) => [f.path, setTo(null)]),
  );
  add(
    'every optional field absent',
    optional.map((f) => [f.path, remove]),
  );
  add(
    'every optional leaf absent',
    optional.filter((f) => !f.parent).map((f) => [f.path, remove]),
  );
  return variants;
}

interface FixtureEvent {
  /** `stripe/customer.created`, `hubspot/contact-propertyChange[2]` */
  readonly name: string;
  readonly contract: CompiledContract;
  readonly event: unknown;
  readonly headers: Readonly<Record<string, string>>;
}

function fixtureEvents(): FixtureEvent[] {
  return allFixtures().flatMap((fixture) => {
    const profile = registry.source(fixture.source);
    const body = parseEventJson(fixture.raw);
    const events = profile?.batch === 'array' ? (body as unknown[]) : [body];
    return events.map((event, i) => {
      const delivery: Delivery = { event, headers: fixture.headers };
      const type = String(readLocator(profile?.eventType as never, delivery));
      const contract = registry.route(fixture.source, type);
      if (!contract) throw new Error(`${fixture.name}: ${type} routes to no contract`);
      const name = events.length > 1 ? `${fixture.name}[${i}]` : fixture.name;
      return { name, contract, event, headers: fixture.headers };
    });
  });
}

/** The envelope the receiver would queue for this event, after validating it. */
function envelopeOf(contract: CompiledContract, event: unknown, headers: FixtureEvent['headers']) {
  const delivery: Delivery = { event, headers };
  const violations = registry.validate(contract, event);
  return {
    violations,
    envelope: queuedEnvelope(contract, event as Record<string, unknown>, {
      id: readLocatorString(contract.source.eventId, delivery) as string,
      subject: readLocatorString(contract.source.entityKey, delivery) as string,
      type: String(readLocator(contract.source.eventType, delivery)),
      // Without its time (an optional updated_at left out), the receiver dates it on arrival.
      time: new Date(
        toEpochMillis(readLocator(contract.source.occurredAt, delivery)) ?? Date.now(),
      ).toISOString(),
    }),
  };
}

const schemas = new Map<string, JsonSchema>(
  registry.contracts.map((c) => [
    c.id,
    (parse(readFileSync(`${ROOT}${c.file}`, 'utf8')) as { schema: JsonSchema }).schema,
  ]),
);

const cases = fixtureEvents().map((f) => {
  const schema = schemas.get(f.contract.id) as JsonSchema;
  const fields = openFields(schema, schema);
  return { ...f, fields, variants: variantsOf(f.event, fields) };
});

let emulator: OdooEmulator | undefined;
afterEach(async () => {
  await emulator?.stop();
  emulator = undefined;
});

/** The outcome of applying one envelope to a fresh Odoo, after the events it depends on. */
async function applyInFreshOdoo(contract: CompiledContract, envelope: Envelope) {
  await emulator?.stop();
  emulator = await startOdooEmulator({ referenceData: registry.reference });
  const client = await integrationClient(emulator);
  const deps = syncDependencies(client, new MemoryLineageStore());
  for (const name of DELIVERED_BEFORE[contract.id] ?? []) {
    const fixture = loadFixture(name);
    const event = parseEventJson(fixture.raw);
    const type = readLocator(registry.source(fixture.source)?.eventType as never, {
      event,
      headers: fixture.headers,
    });
    const before = registry.route(fixture.source, String(type));
    if (!before) throw new Error(`${name} routes to no contract`);
    const [outcome] = await applyEnvelopes([envelopeOf(before, event, fixture.headers).envelope], {
      ...deps,
      lineage: new MemoryLineageStore(),
    });
    expect(outcome, `${name}, delivered first`).toMatchObject({ kind: 'applied' });
  }
  const [outcome] = await applyEnvelopes([envelope], deps);
  return outcome as ApplyOutcome;
}

/**
 * A variant that takes away part of the money (a tax line, a shipping line, a discount, the
 * country a tax is charged in) leaves an event whose own totals no longer add up: that is bad
 * input, refused for good with a reason naming the amounts or the crosswalk entry, never booked
 * at a wrong total. Anything else must end applied or skipped.
 */
const MONEY_REFUSALS = new Set(['totals-differ', 'reference-not-declared']);
const settledWell = (outcome: ApplyOutcome) =>
  outcome.kind === 'applied' ||
  (outcome.kind === 'skipped' && outcome.reason.trim() !== '') ||
  (outcome.kind === 'failed' &&
    !outcome.retryable &&
    MONEY_REFUSALS.has(String((outcome.error as { code?: string }).code)) &&
    /(the event's is|has no entry ")/.test(outcome.error.message));

const described = (outcome: ApplyOutcome) =>
  outcome.kind === 'failed'
    ? `failed (${outcome.retryable ? 'retryable' : 'permanent'}): ${outcome.error.message}`
    : JSON.stringify(outcome);

describe('vendor payloads with their nullable and optional fields left empty', () => {
  it('covers every contract with a fixture, and finds the open fields of each schema', () => {
    expect(new Set(cases.map((c) => c.contract.id))).toEqual(
      new Set(registry.contracts.map((c) => c.id)),
    );
    for (const c of cases) expect(c.variants.length, c.name).toBeGreaterThan(0);
    const customer = cases.find((c) => c.name === 'stripe/customer.created');
    expect(customer?.variants.map((v) => v.name)).toEqual(
      expect.arrayContaining([
        'data.object.name: null',
        'data.object.email: null',
        'data.object.address.country: null',
        'data.object.preferred_locales: absent',
        'every nullable field null',
      ]),
    );
  });

  it.each(cases.map((c) => [c.name, c] as const))(
    '%s: every variant passes its contract',
    (_, { contract, variants }) => {
      // Null and absent come straight from the schema, so they must pass it; an empty string or
      // list the schema refuses (a pattern, minItems) is not a payload the vendor can send.
      const refused = variants
        .filter((v) => !v.name.endsWith(': ""') && !v.name.endsWith(': []'))
        .map((v) => ({ variant: v.name, violations: registry.validate(contract, v.event) }))
        .filter((r) => r.violations.length > 0);
      expect(refused).toEqual([]);
    },
  );

  it.each(cases.map((c) => [c.name, c] as const))(
    '%s: every variant ends applied or skipped with a reason, never failed',
    async (name, { contract, variants, headers }) => {
      const failed: string[] = [];
      // Variants that map to the same Odoo values land the same way: each is written once.
      const written = new Set<string>();
      for (const variant of variants) {
        const { envelope, violations } = envelopeOf(contract, variant.event, headers);
        if (violations.length > 0) continue;
        const context = {
          entityKey: envelope.subject,
          eventId: envelope.id,
          source: envelope.spinesource,
        };
        const values = await mapEvent(contract, envelope.data, context).then(
          (mapped) => JSON.stringify(mapped),
          (error: unknown) => `mapping failed: ${String(error)}`,
        );
        if (written.has(values)) continue;
        written.add(values);
        const outcome = await applyInFreshOdoo(contract, envelope);
        const refusal = CONTRADICTS_ITS_TOTAL[`${name} ${variant.name}`];
        if (refusal) {
          expect(outcome, variant.name).toMatchObject({
            kind: 'failed',
            retryable: false,
            error: { code: refusal },
          });
          continue;
        }
        if (!settledWell(outcome)) failed.push(`${variant.name} → ${described(outcome)}`);
      }
      expect(failed).toEqual([]);
    },
  );
});

/** The Odoo values a fixture maps to once the fields named by their paths have these values. */
async function mappedWith(name: string, changes: Readonly<Record<string, unknown>>) {
  const [entry] = fixtureEvents().filter((f) => f.name === name);
  if (!entry) throw new Error(`no fixture ${name}`);
  const event = structuredClone(entry.event);
  for (const [path, value] of Object.entries(changes)) edit(event, path.split('.'), setTo(value));
  const { envelope, violations } = envelopeOf(entry.contract, event, entry.headers);
  expect(violations).toEqual([]);
  const context = {
    entityKey: envelope.subject,
    eventId: envelope.id,
    source: envelope.spinesource,
  };
  return mapEvent(entry.contract, envelope.data, context);
}

describe('a partner the vendor sent without a name', () => {
  it('Stripe customer: named after its e-mail, else after its Stripe id', async () => {
    expect(await mappedWith('stripe/customer.created', { 'data.object.name': null })).toMatchObject(
      { name: 'Camille.Durand@example.com' },
    );
    expect(
      await mappedWith('stripe/customer.created', {
        'data.object.name': ' ',
        'data.object.business_name': 'Durand SARL',
      }),
    ).toMatchObject({ name: 'Durand SARL' });
    expect(
      await mappedWith('stripe/customer.created', {
        'data.object.name': null,
        'data.object.email': null,
      }),
    ).toMatchObject({ name: 'Stripe customer cus_RdrHvYMPzaRkCn', email: null });
  });

  it('Stripe invoice with no customer and no e-mail: a partner of its own, named after the invoice', async () => {
    const values = await mappedWith('stripe/invoice.paid', {
      'data.object.customer': null,
      'data.object.customer_email': null,
      'data.object.customer_name': null,
    });
    expect(values.partner_id).toEqual({
      '@model': 'res.partner',
      '@externalId': 'stripe_invoice_in_1QkaPzLkdIwHu7ixW3hJ8sRq_customer',
      '@match': {},
      '@create': { name: 'Stripe invoice 8F2C1A7B-0002' },
    });
  });

  it('Shopify customer: named after the company on its address, else its Shopify id', async () => {
    const nameless = { first_name: null, last_name: null, email: null };
    expect(await mappedWith('shopify/customers-create', nameless)).toMatchObject({
      name: 'Norman Supplies',
    });
    expect(
      await mappedWith('shopify/customers-create', { ...nameless, default_address: null }),
    ).toMatchObject({ name: 'Shopify customer 706405506930370084' });
  });

  it('Clerk user: named after the username, else the e-mail, else the Clerk id', async () => {
    const nameless = { 'data.first_name': null, 'data.last_name': '' };
    expect(
      await mappedWith('clerk/user.created', { ...nameless, 'data.username': 'amara' }),
    ).toMatchObject({ name: 'amara' });
    expect(await mappedWith('clerk/user.created', nameless)).toMatchObject({
      name: 'amara.okafor@example.com',
    });
    expect(
      await mappedWith('clerk/user.created', {
        ...nameless,
        'data.email_addresses': [],
        'data.primary_email_address_id': null,
      }),
    ).toMatchObject({ name: 'Clerk user user_2sA1rNm3kQ8yZpD4vX6tLhB9cWe' });
  });

  it('Shopify guest order with no e-mail and no name: a buyer of its own; a custom line on the custom-item product', async () => {
    const values = await mappedWith('shopify/orders-create', {
      customer: null,
      email: null,
      billing_address: null,
      shipping_address: null,
      'line_items.1.variant_id': null,
      'line_items.1.product_id': null,
      'line_items.1.sku': '',
      // Without an address, a tax has no country to be found by (see below).
      'line_items.0.tax_lines': [],
    });
    expect(values.partner_id).toEqual({
      '@model': 'res.partner',
      '@externalId': 'shopify_order_820982911946154508_buyer',
      '@match': {},
      '@create': { name: 'Shopify buyer of order #1001', customer_rank: 1 },
    });
    expect(values.order_line).toMatchObject([
      { product_id: { '@externalId': 'shopify_variant_39072856' } },
      { name: 'Discount TENOFF on IPod Nano - 8gb - green' },
      {
        product_id: { '@model': 'product.product', '@externalId': 'shopify_custom_item' },
        name: 'Screen protector - clear',
      },
    ]);
  });

  it('Shopify order charging tax with no address: refused naming the tax key it could not complete', async () => {
    await expect(
      mappedWith('shopify/orders-create', { billing_address: null, shipping_address: null }),
    ).rejects.toThrow(/crosswalk taxes has no entry "shopify::State Tax:6%:excluded"/);
  });

  it('Shopify refund that returned no money: nothing to write, so the event is skipped', async () => {
    expect(await mappedWith('shopify/refunds-create', { transactions: [] })).toEqual({});
  });
});
