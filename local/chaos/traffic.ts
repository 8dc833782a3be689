/**
 * The traffic of a chaos run and the harness's own ledger of it. Every vendor event is built
 * from a real fixture with its ids, times and values changed, and grouped in stories: one
 * person's or one entity's events, sent in the order the vendor sent them (or newest first, for
 * out-of-order stories). Beside the deliveries, the plan keeps what Odoo must hold once they are
 * applied — the newest version's values of each entity, each order's lines, one record per natural
 * key — written down from what was sent, never from what Spine reports.
 */
import { readFileSync } from 'node:fs';
import { loadContractRegistry, readLocatorString } from '../../functions/contracts/index.ts';
import { seededRandom } from '../seeded-random.ts';

/** A vendor event the harness sent, by the ids Spine knows it by. */
export interface SentEvent {
  readonly source: string;
  readonly eventId: string;
  /** Contract id (`stripe.customer`). */
  readonly contract: string;
  /** External id (module `spine`) of the record the event writes. */
  readonly externalId: string;
  /** When the change happened at the vendor (ms). */
  readonly occurredAt: number;
}

/** One POST to the gateway (signed when it is sent, as a vendor signs each attempt). */
export interface Delivery {
  readonly source: string;
  readonly body: string;
  /** Non-signature headers: topic, webhook id, content type. */
  readonly headers: Readonly<Record<string, string>>;
  readonly events: readonly SentEvent[];
  /** A re-delivery of events already sent: right after the first, or once they were processed. */
  readonly repeat?: 'at-once' | 'later';
}

/** Deliveries sent at the same moment (the same person from two vendors, a burst of guest orders). */
export type Step = readonly Delivery[];

export interface Story {
  readonly name: string;
  readonly steps: readonly Step[];
}

/** Values one version of an entity must leave in Odoo when it is the newest applied. */
export interface Version {
  readonly source: string;
  readonly eventId: string;
  readonly occurredAt: number;
  readonly values: Readonly<Record<string, string | number>>;
}

/** An entity's stream of versions, over the fields that stream writes. */
export interface EntityExpectation {
  readonly externalId: string;
  readonly model: string;
  readonly contract: string;
  readonly versions: readonly Version[];
  /** Thin updates (HubSpot): the record may rightly not exist when no event could link it. */
  readonly mayBeAbsent?: boolean;
}

export interface ExpectedLine {
  /** product.product default_code, for orders. */
  readonly sku?: string;
  /** The line label, for invoices (no product). */
  readonly name?: string;
  readonly quantity: number;
  readonly price: number;
}

export interface LinesExpectation {
  readonly externalId: string;
  readonly model: 'sale.order' | 'account.move';
  readonly eventId: string;
  readonly source: string;
  readonly lines: readonly ExpectedLine[];
}

/** A field a record carries that names it on its own, to find copies made without an external id. */
export interface RecordIdentity {
  readonly externalId: string;
  readonly model: string;
  readonly field: string;
  readonly value: string;
}

export interface TrafficPlan {
  readonly stories: readonly Story[];
  /** Re-deliveries sent after the first drain, outside any FIFO deduplication window. */
  readonly later: readonly Delivery[];
  readonly entities: readonly EntityExpectation[];
  readonly lines: readonly LinesExpectation[];
  readonly identities: readonly RecordIdentity[];
  /** Normalised e-mails of the people sent: one partner each. */
  readonly emails: readonly string[];
  readonly skus: readonly string[];
  /** Every unique event, by `source/eventId`. */
  readonly events: ReadonlyMap<string, SentEvent>;
  /** UTC days (YYYY-MM-DD) the events happened on, for reconciliation. */
  readonly days: readonly string[];
}

export interface TrafficOptions {
  readonly events: number;
  readonly seed: number;
  readonly duplicates: number;
  readonly outOfOrder: number;
  /** Keeps the ids of two runs on the same state apart. */
  readonly runTag: number;
  /** When the first event happened (ms); the rest follow a second apart. */
  readonly start: number;
}

export const eventKey = (source: string, eventId: string) => `${source}/${eventId}`;

const registry = loadContractRegistry();

/** The id Spine files a HubSpot event under: what its contract's `source.eventId` locates. */
function hubspotEventKey(event: Record<string, unknown>): string {
  const contract = registry.route('hubspot', String(event.subscriptionType));
  const id = contract && readLocatorString(contract.source.eventId, { event, headers: {} });
  if (!id) throw new Error(`no contract files HubSpot ${String(event.subscriptionType)} events`);
  return id;
}

/** E-mails compare as Spine's natural key does: trimmed, lower-cased. */
export const normaliseEmail = (email: string) => email.trim().toLowerCase();

const FIXTURES = new URL('../../test/fixtures/', import.meta.url).pathname;
const fixture = (name: string) =>
  JSON.parse(readFileSync(`${FIXTURES}${name}.json`, 'utf8')) as Record<string, unknown>;
const fixtureHeaders = (name: string) =>
  JSON.parse(readFileSync(`${FIXTURES}${name}.headers.json`, 'utf8')) as Record<string, string>;

const FIRST = ['Amara', 'Bob', 'Camille', 'Dev', 'Elif', 'Femi', 'Greta', 'Hiro', 'Ines', 'Jonas'];
const LAST = ['Okafor', 'Norman', 'Durand', 'Patel', 'Yilmaz', 'Adeyemi', 'Berg', 'Sato', 'Lopes'];
const CITIES = ['Lyon', 'Louisville', 'Villeurbanne', 'Porto', 'Osaka', 'Lagos', 'Bergen', 'Izmir'];
const STREETS = ['Rue de la République', 'Chestnut Street', 'Avenida da Boavista', 'Main Street'];
const JOBS = ['Head of Purchasing', 'Buyer', 'CFO', 'Office Manager', 'Founder', 'Analyst'];

interface Person {
  readonly first: string;
  readonly last: string;
  /** As the person typed it first; vendors send variants of it. */
  readonly email: string;
}

interface Address {
  readonly line1: string;
  readonly city: string;
  readonly zip: string;
}

class Generator {
  private readonly random: () => number;
  private counter = 0;
  private clock: number;
  readonly events = new Map<string, SentEvent>();
  readonly entities: EntityExpectation[] = [];
  readonly lines: LinesExpectation[] = [];
  readonly identities: RecordIdentity[] = [];
  readonly emails = new Set<string>();
  readonly later: Delivery[] = [];
  readonly skus: { sku: string; variants: number[]; title: string }[] = [];

  constructor(private readonly options: TrafficOptions) {
    this.random = seededRandom(options.seed);
    this.clock = options.start;
    const skuCount = Math.max(4, Math.round(options.events / 150));
    for (let i = 0; i < skuCount; i++)
      this.skus.push({
        sku: `CHAOS-${options.runTag.toString(36).toUpperCase()}-${i}`,
        // Two variant ids share one SKU: the second must link to the product the first made.
        variants: [this.numericId(), this.numericId()],
        title: `Chaos part ${i}`,
      });
  }

  chance(p: number): boolean {
    return this.random() < p;
  }

  int(min: number, max: number): number {
    return min + Math.floor(this.random() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)] as T;
  }

  /** A fresh id, unique in this run and apart from other runs. */
  id(): string {
    return `${this.options.runTag.toString(36)}x${(this.counter++).toString(36)}`;
  }

  numericId(): number {
    return this.options.runTag * 10_000_000 + this.counter++;
  }

  /** The time of the next change: every version of everything a second after the one before. */
  tick(): number {
    this.clock += 1000;
    return this.clock;
  }

  person(): Person {
    const first = this.pick(FIRST);
    const last = this.pick(LAST);
    const email = `${first}.${last}.${this.id()}@example.com`;
    this.emails.add(normaliseEmail(email));
    return { first, last, email };
  }

  /** The same address typed another way: case changed here and there, stray spaces around. */
  variant(email: string): string {
    const cased = [...email].map((c) => (this.chance(0.3) ? c.toUpperCase() : c)).join('');
    return this.chance(0.3) ? ` ${cased} ` : cased;
  }

  address(): Address {
    return {
      line1: `${this.int(1, 199)} ${this.pick(STREETS)}`,
      city: this.pick(CITIES),
      zip: String(this.int(10000, 99999)),
    };
  }

  record(event: SentEvent): SentEvent {
    this.events.set(eventKey(event.source, event.eventId), event);
    return event;
  }

  /** Sends versions in the vendor's order, or newest first for an out-of-order story. */
  order<T>(versions: T[]): T[] {
    return versions.length > 1 && this.chance(this.options.outOfOrder)
      ? [...versions].reverse()
      : versions;
  }

  /** Adds the steps of these deliveries, each maybe re-delivered at once or later. */
  steps(deliveries: readonly Delivery[][]): Step[] {
    const steps: Step[] = [];
    for (const step of deliveries) {
      steps.push(step);
      for (const delivery of step) {
        if (!this.chance(this.options.duplicates)) continue;
        if (this.chance(0.5)) steps.push([{ ...delivery, repeat: 'at-once' }]);
        else this.later.push({ ...delivery, repeat: 'later' });
      }
    }
    return steps;
  }

  // ---- vendors' events ----------------------------------------------------------------------

  stripeCustomer(
    customerId: string,
    person: Person,
    type: string,
    address: Address,
    at: number,
  ): Delivery {
    const event = fixture('stripe/customer.created');
    const eventId = `evt_${this.id()}`;
    const object = (event.data as { object: Record<string, unknown> }).object;
    Object.assign(event, { id: eventId, type, created: Math.floor(at / 1000) });
    Object.assign(object, {
      id: customerId,
      email: this.variant(person.email),
      name: `${person.first} ${person.last}`,
      created: Math.floor(at / 1000),
      address: {
        city: address.city,
        country: 'FR',
        line1: address.line1,
        line2: null,
        postal_code: address.zip,
        state: null,
      },
    });
    return this.stripe(event, 'stripe.customer', `stripe_customer_${customerId}`, at);
  }

  stripe(event: Record<string, unknown>, contract: string, externalId: string, at: number) {
    return {
      source: 'stripe',
      body: JSON.stringify(event),
      headers: { 'content-type': 'application/json' },
      events: [
        this.record({
          source: 'stripe',
          eventId: String(event.id),
          contract,
          externalId,
          occurredAt: at,
        }),
      ],
    };
  }

  shopify(
    topic: string,
    body: Record<string, unknown>,
    contract: string,
    externalId: string,
    at: number,
  ): Delivery {
    const webhookId = `${this.id()}-${this.int(1000, 9999)}`;
    return {
      source: 'shopify',
      body: JSON.stringify(body),
      headers: {
        ...fixtureHeaders('shopify/customers-create'),
        'x-shopify-topic': topic,
        'x-shopify-webhook-id': webhookId,
        'x-shopify-event-id': `${this.id()}-event`,
        'x-shopify-triggered-at': new Date(at).toISOString(),
      },
      events: [
        this.record({
          source: 'shopify',
          eventId: webhookId,
          contract,
          externalId,
          occurredAt: at,
        }),
      ],
    };
  }

  shopifyCustomer(customerId: number, person: Person, topic: string, address: Address, at: number) {
    const body = fixture('shopify/customers-create');
    const defaultAddress = {
      ...(body.default_address as Record<string, unknown>),
      customer_id: customerId,
      first_name: person.first,
      last_name: person.last,
      address1: address.line1,
      address2: '',
      city: address.city,
      zip: address.zip,
      country_code: 'US',
    };
    Object.assign(body, {
      id: customerId,
      email: this.variant(person.email),
      first_name: person.first,
      last_name: person.last,
      created_at: new Date(at).toISOString(),
      updated_at: new Date(at).toISOString(),
      admin_graphql_api_id: `gid://shopify/Customer/${customerId}`,
      default_address: defaultAddress,
      addresses: [defaultAddress],
    });
    return this.shopify(topic, body, 'shopify.customer', `shopify_customer_${customerId}`, at);
  }

  /** A Shopify order with 1 to 3 lines; with a customer, or a guest checkout when none. */
  shopifyOrder(person: Person, customerId: number | undefined): Delivery {
    const at = this.tick();
    const orderId = this.numericId();
    const body = fixture('shopify/orders-create');
    const lines: ExpectedLine[] = [];
    const items = Array.from({ length: this.int(1, 3) }, () => {
      const product = this.pick(this.skus);
      const quantity = this.int(1, 4);
      const cents = this.int(100, 20_000);
      lines.push({ sku: product.sku, quantity, price: cents / 100 });
      return {
        id: this.numericId(),
        name: `${product.title} - ${product.sku}`,
        price: (cents / 100).toFixed(2),
        product_id: product.variants[0],
        quantity,
        sku: product.sku,
        title: product.title,
        variant_id: this.pick(product.variants),
        variant_title: null,
      };
    });
    const cents = lines.reduce((sum, l) => sum + Math.round(l.price * 100) * l.quantity, 0);
    const total = (cents / 100).toFixed(2);
    const email = this.variant(person.email);
    const address = {
      ...(body.billing_address as Record<string, unknown>),
      first_name: person.first,
      last_name: person.last,
    };
    Object.assign(body, {
      id: orderId,
      admin_graphql_api_id: `gid://shopify/Order/${orderId}`,
      name: `#C${orderId}`,
      order_number: orderId % 1_000_000,
      email,
      contact_email: email,
      created_at: new Date(at).toISOString(),
      updated_at: new Date(at).toISOString(),
      processed_at: new Date(at).toISOString(),
      currency: 'USD',
      total_price: total,
      subtotal_price: total,
      current_subtotal_price: total,
      current_total_price: total,
      total_line_items_price: total,
      total_tax: '0.00',
      current_total_tax: '0.00',
      total_discounts: '0.00',
      current_total_discounts: '0.00',
      discount_codes: [],
      billing_address: address,
      shipping_address: address,
      customer:
        customerId === undefined
          ? null
          : {
              id: customerId,
              email,
              first_name: person.first,
              last_name: person.last,
              created_at: new Date(at).toISOString(),
              updated_at: new Date(at).toISOString(),
            },
      line_items: items,
    });
    const externalId = `shopify_order_${orderId}`;
    const delivery = this.shopify('orders/create', body, 'shopify.order', externalId, at);
    const eventId = delivery.events[0]?.eventId as string;
    this.lines.push({ externalId, model: 'sale.order', eventId, source: 'shopify', lines });
    this.identities.push({
      externalId,
      model: 'sale.order',
      field: 'client_order_ref',
      value: `#C${orderId}`,
    });
    return delivery;
  }

  shopifyRefund(orderExternalId: string): Delivery {
    const at = this.tick();
    const orderId = orderExternalId.replace('shopify_order_', '');
    const refundId = this.numericId();
    const body = fixture('shopify/refunds-create');
    const cents = this.int(100, 5000);
    const transaction = {
      ...((body.transactions as Record<string, unknown>[])[0] as Record<string, unknown>),
      id: this.numericId(),
      order_id: Number(orderId),
      amount: (cents / 100).toFixed(2),
      currency: 'USD',
      created_at: new Date(at).toISOString(),
      processed_at: new Date(at).toISOString(),
    };
    Object.assign(body, {
      id: refundId,
      order_id: Number(orderId),
      created_at: new Date(at).toISOString(),
      processed_at: new Date(at).toISOString(),
      admin_graphql_api_id: `gid://shopify/Refund/${refundId}`,
      refund_line_items: [],
      transactions: [transaction],
    });
    const externalId = `shopify_refund_${refundId}`;
    const delivery = this.shopify('refunds/create', body, 'shopify.refund', externalId, at);
    this.entities.push({
      externalId,
      model: 'account.payment',
      contract: 'shopify.refund',
      versions: [
        {
          source: 'shopify',
          eventId: delivery.events[0]?.eventId as string,
          occurredAt: at,
          values: { amount: cents / 100 },
        },
      ],
    });
    this.identities.push({
      externalId,
      model: 'account.payment',
      field: 'memo',
      value: `Shopify refund ${refundId} of order ${orderId}`,
    });
    return delivery;
  }

  clerkUser(userId: string, person: Person, type: string, at: number): Delivery {
    const event = fixture('clerk/user.created');
    const emailId = `idn_${userId}`;
    const data = event.data as Record<string, unknown>;
    Object.assign(data, {
      id: userId,
      first_name: person.first,
      last_name: person.last,
      email_addresses: [
        {
          ...((data.email_addresses as Record<string, unknown>[])[0] as object),
          id: emailId,
          email_address: this.variant(person.email),
        },
      ],
      primary_email_address_id: emailId,
      phone_numbers: [],
      primary_phone_number_id: null,
      updated_at: at,
    });
    Object.assign(event, { type, timestamp: at });
    const webhookId = `msg_${this.id()}`;
    return {
      source: 'clerk',
      body: JSON.stringify(event),
      headers: { 'content-type': 'application/json', 'webhook-id': webhookId },
      events: [
        this.record({
          source: 'clerk',
          eventId: webhookId,
          contract: 'clerk.user',
          externalId: `clerk_user_${userId}`,
          occurredAt: at,
        }),
      ],
    };
  }

  hubspot(
    objectId: number,
    type: 'contact.creation' | 'contact.propertyChange',
    at: number,
    property?: { name: string; value: string },
  ): Delivery {
    const eventId = this.numericId();
    const event = {
      eventId,
      subscriptionId: 2871246,
      portalId: 62515,
      appId: 1160452,
      occurredAt: at,
      subscriptionType: type,
      attemptNumber: 0,
      objectId,
      ...(property ? { propertyName: property.name, propertyValue: property.value } : {}),
      changeFlag: type === 'contact.creation' ? 'NEW' : undefined,
      changeSource: 'CRM',
      sourceId: 'userId:4821907',
    };
    return {
      source: 'hubspot',
      body: JSON.stringify([event]),
      headers: { 'content-type': 'application/json' },
      events: [
        this.record({
          source: 'hubspot',
          // As the contracts key HubSpot events (its event id is not unique alone).
          eventId: hubspotEventKey(event),
          contract:
            type === 'contact.creation'
              ? 'hubspot.contact-creation'
              : 'hubspot.contact-property-change',
          externalId: `hubspot_contact_${objectId}`,
          occurredAt: at,
        }),
      ],
    };
  }

  // ---- stories ------------------------------------------------------------------------------

  /** A Stripe customer whose address changes, and what it pays, is refunded and invoiced. */
  stripeStory(person: Person = this.person(), alongside: readonly Delivery[] = []): Story {
    const customerId = `cus_${this.id()}`;
    const externalId = `stripe_customer_${customerId}`;
    const versions = Array.from({ length: this.int(1, 4) }, (_, i) => {
      const at = this.tick();
      const address = this.address();
      const delivery = this.stripeCustomer(
        customerId,
        person,
        i === 0 ? 'customer.created' : 'customer.updated',
        address,
        at,
      );
      return { delivery, at, address };
    });
    this.entities.push({
      externalId,
      model: 'res.partner',
      contract: 'stripe.customer',
      versions: versions.map((v) => ({
        source: 'stripe',
        eventId: v.delivery.events[0]?.eventId as string,
        occurredAt: v.at,
        values: {
          street: v.address.line1,
          city: v.address.city,
          zip: v.address.zip,
          email: normaliseEmail(person.email),
        },
      })),
    });
    const sent = this.order(versions).map((v) => [v.delivery]);
    // The same person signing up elsewhere at the very moment Stripe creates them.
    (sent[0] as Delivery[]).push(...alongside);

    const payments: Delivery[][] = [];
    for (let i = this.int(0, 2); i > 0; i--) {
      const at = this.tick();
      const intentId = `pi_${this.id()}`;
      const cents = this.int(500, 50_000);
      const event = fixture('stripe/payment_intent.succeeded');
      Object.assign(event, { id: `evt_${this.id()}`, created: Math.floor(at / 1000) });
      Object.assign((event.data as { object: object }).object, {
        id: intentId,
        amount: cents,
        amount_received: cents,
        customer: customerId,
        created: Math.floor(at / 1000),
      });
      const delivery = this.stripe(
        event,
        'stripe.payment-intent',
        `stripe_payment_${intentId}`,
        at,
      );
      payments.push([delivery]);
      this.entities.push({
        externalId: `stripe_payment_${intentId}`,
        model: 'account.payment',
        contract: 'stripe.payment-intent',
        versions: [
          {
            source: 'stripe',
            eventId: delivery.events[0]?.eventId as string,
            occurredAt: at,
            values: { amount: cents / 100 },
          },
        ],
      });
      this.identities.push({
        externalId: `stripe_payment_${intentId}`,
        model: 'account.payment',
        field: 'memo',
        value: `Stripe payment ${intentId}`,
      });
    }
    if (this.chance(0.4)) {
      // Cumulative refunds of one charge: each event carries the total refunded so far.
      const chargeId = `ch_${this.id()}`;
      const amount = this.int(5000, 50_000);
      let refunded = 0;
      const refunds = Array.from({ length: this.int(1, 3) }, () => {
        const at = this.tick();
        refunded += this.int(100, Math.floor(amount / 4));
        const event = fixture('stripe/charge.refunded');
        Object.assign(event, { id: `evt_${this.id()}`, created: Math.floor(at / 1000) });
        Object.assign((event.data as { object: object }).object, {
          id: chargeId,
          amount,
          amount_captured: amount,
          amount_refunded: refunded,
          customer: customerId,
          // A charge of its own, not one of the PaymentIntents above: its refund's partner is
          // then the customer's (a refund of a PaymentIntent waits for that payment in Odoo).
          payment_intent: null,
        });
        return {
          at,
          refunded,
          delivery: this.stripe(
            event,
            'stripe.charge-refund',
            `stripe_charge_refund_${chargeId}`,
            at,
          ),
        };
      });
      this.entities.push({
        externalId: `stripe_charge_refund_${chargeId}`,
        model: 'account.payment',
        contract: 'stripe.charge-refund',
        versions: refunds.map((r) => ({
          source: 'stripe',
          eventId: r.delivery.events[0]?.eventId as string,
          occurredAt: r.at,
          values: { amount: r.refunded / 100 },
        })),
      });
      this.identities.push({
        externalId: `stripe_charge_refund_${chargeId}`,
        model: 'account.payment',
        field: 'memo',
        value: `Stripe refund of ${chargeId}`,
      });
      payments.push(...this.order(refunds).map((r) => [r.delivery]));
    }
    if (this.chance(0.4)) payments.push([this.stripeInvoice(customerId, person)]);
    return { name: `stripe customer ${customerId}`, steps: this.steps([...sent, ...payments]) };
  }

  stripeInvoice(customerId: string, person: Person): Delivery {
    const at = this.tick();
    const invoiceId = `in_${this.id()}`;
    const event = fixture('stripe/invoice.paid');
    const lines: ExpectedLine[] = [];
    const data = Array.from({ length: this.int(1, 3) }, (_, i) => {
      const quantity = this.int(1, 3);
      const unit = this.int(100, 20_000);
      const name = `Chaos seat ${i + 1} ${invoiceId}`;
      lines.push({ name, quantity, price: unit / 100 });
      return {
        id: `il_${this.id()}`,
        object: 'line_item',
        amount: unit * quantity,
        currency: 'eur',
        description: name,
        livemode: false,
        quantity,
        type: 'subscription',
      };
    });
    const subtotal = data.reduce((sum, l) => sum + l.amount, 0);
    Object.assign(event, { id: `evt_${this.id()}`, created: Math.floor(at / 1000) });
    const object = (event.data as { object: Record<string, unknown> }).object;
    Object.assign(object, {
      id: invoiceId,
      customer: customerId,
      customer_email: this.variant(person.email),
      customer_name: `${person.first} ${person.last}`,
      number: `CHAOS-${invoiceId}`,
      // Paid otherwise than by one of the PaymentIntents sent: nothing to match it with.
      payment_intent: null,
      amount_due: subtotal,
      amount_paid: subtotal,
      subtotal,
      total: subtotal,
      created: Math.floor(at / 1000),
      status_transitions: {
        ...(object.status_transitions as object),
        paid_at: Math.floor(at / 1000),
      },
      lines: { ...(object.lines as object), data, total_count: data.length },
    });
    const externalId = `stripe_invoice_${invoiceId}`;
    const delivery = this.stripe(event, 'stripe.invoice-paid', externalId, at);
    this.lines.push({
      externalId,
      model: 'account.move',
      eventId: delivery.events[0]?.eventId as string,
      source: 'stripe',
      lines,
    });
    this.identities.push({
      externalId,
      model: 'account.move',
      field: 'payment_reference',
      value: invoiceId,
    });
    return delivery;
  }

  /** A Shopify customer whose address changes, with orders (and a refund) in between. */
  shopifyStory(): Story {
    const person = this.person();
    const customerId = this.numericId();
    const externalId = `shopify_customer_${customerId}`;
    const versions = Array.from({ length: this.int(1, 3) }, (_, i) => {
      const at = this.tick();
      const address = this.address();
      return {
        at,
        address,
        delivery: this.shopifyCustomer(
          customerId,
          person,
          i === 0 ? 'customers/create' : 'customers/update',
          address,
          at,
        ),
      };
    });
    this.entities.push({
      externalId,
      model: 'res.partner',
      contract: 'shopify.customer',
      versions: versions.map((v) => ({
        source: 'shopify',
        eventId: v.delivery.events[0]?.eventId as string,
        occurredAt: v.at,
        values: {
          street: v.address.line1,
          city: v.address.city,
          zip: v.address.zip,
          email: normaliseEmail(person.email),
        },
      })),
    });
    const steps: Delivery[][] = this.order(versions).map((v) => [v.delivery]);
    for (let i = this.int(0, 2); i > 0; i--) {
      const order = this.shopifyOrder(person, customerId);
      // The order may come with Shopify's customer webhook (two flows create the same partner at
      // once), or before it.
      const when = this.random();
      if (when < 0.4) (steps[0] as Delivery[]).push(order);
      else if (when < 0.6) steps.unshift([order]);
      else steps.push([order]);
      if (this.chance(0.3)) steps.push([this.shopifyRefund(order.events[0]?.externalId as string)]);
    }
    return { name: `shopify customer ${customerId}`, steps: this.steps(steps) };
  }

  /** A new buyer's guest checkouts, several at the same moment, each typing the e-mail anew. */
  guestStory(): Story {
    const person = this.person();
    const orders = Array.from({ length: this.int(2, 3) }, () =>
      this.shopifyOrder(person, undefined),
    );
    return { name: `guest ${person.email}`, steps: this.steps([orders]) };
  }

  /** One person from Stripe and Clerk (and a Shopify guest checkout) at once, then HubSpot's CRM changes to them. */
  twoVendorsStory(): Story {
    const person = this.person();
    const userId = `user_${this.id()}`;
    const created = this.clerkUser(userId, person, 'user.created', this.tick());
    // Sometimes the same person also checks out on Shopify as a guest at that very moment: the
    // orders flow and the customers flow both want a partner for one e-mail.
    const alongside = this.chance(0.5)
      ? [created, this.shopifyOrder(person, undefined)]
      : [created];
    const stripe = this.stripeStory(person, alongside);
    const updated = this.clerkUser(userId, person, 'user.updated', this.tick());
    this.entities.push({
      externalId: `clerk_user_${userId}`,
      model: 'res.partner',
      contract: 'clerk.user',
      versions: [created, updated].map((d) => ({
        source: 'clerk',
        eventId: d.events[0]?.eventId as string,
        occurredAt: d.events[0]?.occurredAt as number,
        values: { email: normaliseEmail(person.email) },
      })),
    });
    const objectId = this.numericId();
    const contact = `hubspot_contact_${objectId}`;
    const hubspot: Delivery[][] = [
      [this.hubspot(objectId, 'contact.creation', this.tick())],
      [
        this.hubspot(objectId, 'contact.propertyChange', this.tick(), {
          name: 'email',
          value: this.variant(person.email).trim(),
        }),
      ],
    ];
    for (const [property, field, values] of [
      ['jobtitle', 'function', JOBS],
      ['website', 'website', ['https://example.com/a', 'https://example.com/b']],
    ] as const) {
      const changes = Array.from({ length: this.int(1, 3) }, () => {
        const value = this.pick(values);
        const at = this.tick();
        return {
          at,
          value,
          delivery: this.hubspot(objectId, 'contact.propertyChange', at, { name: property, value }),
        };
      });
      this.entities.push({
        externalId: contact,
        model: 'res.partner',
        contract: 'hubspot.contact-property-change',
        mayBeAbsent: true,
        versions: changes.map((c) => ({
          source: 'hubspot',
          eventId: c.delivery.events[0]?.eventId as string,
          occurredAt: c.at,
          values: { [field]: c.value },
        })),
      });
      hubspot.push(...this.order(changes).map((c) => [c.delivery]));
    }
    return {
      name: `${person.email} from stripe, clerk and hubspot`,
      steps: [...stripe.steps, ...this.steps([[updated], ...hubspot])],
    };
  }
}

const countEvents = (story: Story) =>
  new Set(
    story.steps.flatMap((step) =>
      step.flatMap((d) => d.events.map((e) => eventKey(e.source, e.eventId))),
    ),
  ).size;

/** The whole traffic of a run, from its seed: about `events` unique events, every source and flow. */
export function planTraffic(options: TrafficOptions): TrafficPlan {
  const generate = new Generator(options);
  const stories: Story[] = [];
  let events = 0;
  while (events < options.events) {
    const roll = generate.int(0, 9);
    const story =
      roll < 3
        ? generate.stripeStory()
        : roll < 6
          ? generate.shopifyStory()
          : roll < 8
            ? generate.guestStory()
            : generate.twoVendorsStory();
    events += countEvents(story);
    stories.push(story);
  }
  const days = new Set(
    [...generate.events.values()].map((e) => new Date(e.occurredAt).toISOString().slice(0, 10)),
  );
  return {
    stories,
    later: generate.later,
    entities: generate.entities,
    lines: generate.lines,
    identities: generate.identities,
    emails: [...generate.emails],
    skus: generate.skus.map((s) => s.sku),
    events: generate.events,
    days: [...days].sort(),
  };
}
