import { describe, expect, it } from 'vitest';
import {
  type CompiledContract,
  type Delivery,
  externalIdFor,
  loadContractRegistry,
  mapEvent,
  minimise,
  readLocator,
  readLocatorString,
  reconcileMeasure,
  redact,
  toEpochMillis,
} from '../../functions/contracts/index.ts';
import { parseEventJson } from '../../functions/ingest/event-json.ts';
import { allFixtures, type Fixture, loadFixture, PERSONAL_VALUES } from '../support/fixtures.ts';
import { FixtureVendors } from '../support/vendor-fixtures.ts';

const registry = loadContractRegistry();
const key = { secret: 'test-redaction-key' };

/** Splits a fixture into the events it carries (a HubSpot body is an array) and routes each. */
function eventsOf(fixture: Fixture): { delivery: Delivery; contract: CompiledContract }[] {
  const profile = registry.source(fixture.source);
  if (!profile) throw new Error(`no contract names source ${fixture.source}`);
  const body = parseEventJson(fixture.raw);
  const events = profile.batch === 'array' ? (body as unknown[]) : [body];
  return events.map((event) => {
    const delivery = { event, headers: fixture.headers };
    const type = String(readLocator(profile.eventType, delivery));
    const contract = registry.route(fixture.source, type);
    if (!contract) throw new Error(`${fixture.name}: ${type} routes nowhere`);
    return { delivery, contract };
  });
}

async function mapFixture(
  name: string,
  index = 0,
  enriched?: { readonly as: string; readonly object: unknown },
) {
  const entry = eventsOf(loadFixture(name))[index];
  if (!entry) throw new Error(`${name} has no event ${index}`);
  const { delivery, contract } = entry;
  const context = {
    entityKey: readLocatorString(contract.source.entityKey, delivery) ?? '',
    eventId: readLocatorString(contract.source.eventId, delivery) ?? '',
    source: contract.source.system,
    ...(enriched ? { enriched } : {}),
  };
  const event = minimise(contract.shape, delivery.event);
  const values = await mapEvent(contract, event, context);
  return {
    contract,
    context,
    values,
    measure: await reconcileMeasure(contract, event, values, context),
  };
}

describe('contract registry over real vendor payloads', () => {
  const fixtures = allFixtures();

  it('has at least 10 contracts in the customers, orders and payments flows', () => {
    expect(registry.contracts.length).toBeGreaterThanOrEqual(10);
    expect(registry.flows.map((f) => f.name).sort()).toEqual(['customers', 'orders', 'payments']);
    for (const flow of registry.flows) expect(flow.contracts.length).toBeGreaterThan(0);
  });

  it.each(fixtures.map((f) => [f.name, f] as const))(
    '%s routes to a contract and satisfies it',
    (_, fixture) => {
      for (const { delivery, contract } of eventsOf(fixture)) {
        expect(registry.validate(contract, delivery.event)).toEqual([]);
        expect(readLocatorString(contract.source.eventId, delivery)).toMatch(/\S/);
        expect(readLocatorString(contract.source.entityKey, delivery)).toMatch(/\S/);
        const occurred = toEpochMillis(readLocator(contract.source.occurredAt, delivery));
        expect(occurred).toBeGreaterThan(Date.UTC(2024, 0, 1));
        expect(occurred).toBeLessThan(Date.UTC(2030, 0, 1));
      }
    },
  );

  it.each(fixtures.map((f) => [f.name, f] as const))(
    '%s leaves no personal value in its redacted copy',
    (_, fixture) => {
      for (const { delivery, contract } of eventsOf(fixture)) {
        const redacted = JSON.stringify(redact(contract.shape, delivery.event, key));
        for (const value of PERSONAL_VALUES) expect(redacted).not.toContain(value);
      }
    },
  );

  it('every fixture source and every contract is exercised by a fixture', () => {
    const routed = new Set(fixtures.flatMap((f) => eventsOf(f).map((e) => e.contract.id)));
    // Each contract, whatever its majors (a deprecated one reads only what is already queued).
    expect([...routed].sort()).toEqual([...new Set(registry.contracts.map((c) => c.id))].sort());
  });

  it('answers undefined for an event type no contract routes, and for an unknown source', () => {
    expect(registry.route('stripe', 'customer.deleted')).toBeUndefined();
    expect(registry.source('salesforce')).toBeUndefined();
  });

  it('reports each violation with a JSON path into the event', () => {
    const contract = registry.contract('stripe.payment-intent');
    if (!contract) throw new Error('missing contract');
    const event = parseEventJson(loadFixture('stripe/payment_intent.succeeded').raw) as {
      data: { object: Record<string, unknown> };
    };
    delete event.data.object.currency;
    event.data.object.amount_received = '149.00';
    const violations = registry.validate(contract, event);
    expect(violations).toContainEqual({
      path: '$.data.object.currency',
      keyword: 'required',
      message: 'is required but missing',
    });
    expect(violations).toContainEqual(
      expect.objectContaining({ path: '$.data.object.amount_received', keyword: 'type' }),
    );
  });
});

describe('minimise', () => {
  it('drops fields the contract does not declare and keeps declared ones', () => {
    const contract = registry.contract('stripe.customer') as CompiledContract;
    const event = parseEventJson(loadFixture('stripe/customer.created').raw);
    const kept = minimise(contract.shape, event) as {
      data: { object: Record<string, unknown> };
      pending_webhooks: number;
    };
    expect(kept.data.object.invoice_settings).toBeUndefined();
    expect(kept.data.object.test_clock).toBeUndefined();
    expect(kept.data.object.email).toBe('Camille.Durand@example.com');
    expect(kept.data.object.metadata).toEqual({ crm_owner: 'sales-eu', signup_source: 'website' });
    expect(kept.pending_webhooks).toBe(1);
  });
});

describe('mapping to Odoo values', () => {
  it('maps a Stripe customer to a partner with its country as a relation', async () => {
    const { values, context } = await mapFixture('stripe/customer.created');
    expect(values).toEqual({
      name: 'Camille Durand',
      email: 'Camille.Durand@example.com',
      phone: '+33 4 72 00 11 22',
      street: '12 Rue de la République',
      street2: 'Bâtiment B',
      city: 'Lyon',
      zip: '69002',
      country_id: { '@model': 'res.country', '@match': { code: 'FR' } },
      customer_rank: 1,
    });
    expect(externalIdFor('stripe_customer_{entityKey}', context)).toBe(
      'stripe_customer_cus_RdrHvYMPzaRkCn',
    );
  });

  it('maps a succeeded PaymentIntent to an inbound payment in major units', async () => {
    const { values, measure } = await mapFixture('stripe/payment_intent.succeeded');
    expect(values).toMatchObject({
      payment_type: 'inbound',
      partner_type: 'customer',
      amount: 149,
      date: '2025-01-27',
      partner_id: { '@model': 'res.partner', '@externalId': 'stripe_customer_cus_RdrHvYMPzaRkCn' },
      currency_id: { '@model': 'res.currency', '@match': { name: 'EUR' } },
      payment_reference: 'pi_3QkZCxLkdIwHu7ix0a8GzK1P',
    });
    expect(measure).toBe(149);
  });

  it('maps a refunded charge to an outbound payment of the cumulative refund', async () => {
    const { values } = await mapFixture('stripe/charge.refunded');
    expect(values).toMatchObject({ payment_type: 'outbound', amount: 49, date: '2025-01-28' });
  });

  it('maps a paid invoice to a customer invoice with a line per Stripe line', async () => {
    const { values, measure } = await mapFixture('stripe/invoice.paid');
    expect(values.move_type).toBe('out_invoice');
    expect(values.invoice_date).toBe('2025-01-29');
    expect(values.ref).toBe('8F2C1A7B-0002');
    expect(values.invoice_line_ids).toEqual([
      // No tax rates on the lines: an explicit empty list, so Odoo adds no default tax.
      { name: '2 × Team seat (at €99.00 / month)', quantity: 2, price_unit: 99, tax_ids: [] },
      { name: 'Priority support add-on', quantity: 1, price_unit: 40, tax_ids: [] },
    ]);
    expect(values.partner_id).toMatchObject({
      '@externalId': 'stripe_customer_cus_RdrHvYMPzaRkCn',
      '@match': { email: 'camille.durand@example.com' },
      '@create': { name: 'Camille Durand-Morel', email: 'camille.durand@example.com' },
    });
    expect(measure).toBe(238);
  });

  it('keeps every digit of a Shopify id above 2^53 in the entity key and external ids', async () => {
    const { context, values } = await mapFixture('shopify/customers-create');
    expect(context.entityKey).toBe('706405506930370084');
    expect(context.eventId).toBe('b54557e4-bdd9-4b37-8a5f-bf7d70bcd043');
    expect(values).toMatchObject({
      name: 'Bob Norman',
      email: 'bob.norman@example.com',
      city: 'Louisville',
    });
    expect(values.country_id).toEqual({ '@model': 'res.country', '@match': { code: 'US' } });
  });

  it('maps a Shopify order to a sales order in its pricelist, lines by SKU with their taxes and discounts', async () => {
    const { values, measure } = await mapFixture('shopify/orders-create');
    expect(values.client_order_ref).toBe('#1001');
    expect(values.date_order).toBe('2025-01-28 14:00:12');
    expect(values.partner_id).toMatchObject({
      '@externalId': 'shopify_customer_706405506930370084',
      '@match': { email: 'bob.norman@example.com' },
    });
    expect(values.pricelist_id).toMatchObject({
      '@model': 'product.pricelist',
      '@reference': { entry: 'pricelists/shopify:USD' },
    });
    const stateTax = {
      '@model': 'account.tax',
      '@match': expect.objectContaining({ name: 'US KY State Tax 6%', amount: 6 }),
      '@reference': expect.objectContaining({ entry: 'taxes/shopify:US:State Tax:6%:excluded' }),
    };
    expect(values.order_line).toEqual([
      {
        product_id: {
          '@model': 'product.product',
          '@externalId': 'shopify_variant_39072856',
          '@match': { default_code: 'IPOD2008GREEN' },
          '@create': { name: 'IPod Nano - 8gb', default_code: 'IPOD2008GREEN', list_price: 199 },
        },
        name: 'IPod Nano - 8gb - green',
        product_uom_qty: 1,
        price_unit: 199,
        tax_ids: [stateTax],
      },
      // The discount is a line of its own, taxed like the line it reduces.
      expect.objectContaining({
        product_id: expect.objectContaining({
          '@reference': expect.objectContaining({ entry: 'service-products/shopify:discount' }),
        }),
        name: 'Discount TENOFF on IPod Nano - 8gb - green',
        product_uom_qty: 1,
        price_unit: -3.33,
        tax_ids: [stateTax],
      }),
      // Shopify charged no tax on it: no tax, not the product's default one.
      expect.objectContaining({
        name: 'Screen protector - clear',
        product_uom_qty: 2,
        price_unit: 1.99,
        tax_ids: [],
      }),
    ]);
    expect(measure).toBe(199.65);
  });

  it('maps a Shopify refund to the money actually returned', async () => {
    const { values } = await mapFixture('shopify/refunds-create');
    expect(values).toMatchObject({
      payment_type: 'outbound',
      amount: 3.98,
      currency_id: { '@model': 'res.currency', '@match': { name: 'USD' } },
      memo: 'Shopify refund 929361464 of order 820982911946154508',
    });
  });

  it('maps a HubSpot contact as fetched, whichever thin event names it, and names one without a name', async () => {
    const [contact] = new FixtureVendors().contacts.values();
    const enriched = { as: 'contact', object: contact };
    const bob = {
      name: 'Bob Norman',
      email: 'bob.norman@example.com',
      phone: '+1 613 555 0177',
      function: 'Head of Purchasing',
      website: 'https://norman-supplies.example.com',
    };
    for (const [name, index] of [
      ['hubspot/contact-creation', 0],
      ['hubspot/contact-propertyChange', 0],
      ['hubspot/contact-propertyChange', 3],
    ] as const)
      expect((await mapFixture(name, index, enriched)).values).toEqual(bob);
    const blank = { ...contact, properties: { hs_object_id: '51' } };
    expect(
      (await mapFixture('hubspot/contact-creation', 0, { as: 'contact', object: blank })).values,
    ).toEqual({ name: 'HubSpot contact 51' });
    const creation = await mapFixture('hubspot/contact-creation');
    expect(creation.contract.enrich).toMatchObject({ object: 'hubspot.contact', as: 'contact' });
  });

  it('maps a Clerk user with their primary e-mail, following a change of primary', async () => {
    expect((await mapFixture('clerk/user.created')).values).toEqual({
      name: 'Amara Okafor',
      email: 'amara.okafor@example.com',
      phone: '+447700900123',
      customer_rank: 1,
    });
    const updated = await mapFixture('clerk/user.updated');
    expect(updated.values).toMatchObject({
      name: 'Amara Okafor-Bello',
      email: 'amara@okafor-studio.example',
    });
    expect(updated.context.eventId).toBe('msg_2sB9wZk1mN4bV7cX0zL3qW6eR9t');
  });
});
