/**
 * The vendors' own SDKs against the emulators: what they send must be understood and what the
 * emulators answer must parse, or the emulators (and the tests built on them) drift from the
 * vendors. Each test then compares the SDK's answer with our client's for the same ids.
 */
import { Client as HubSpotClient } from '@hubspot/api-client';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubSpotContacts } from '../../functions/enrich/hubspot.ts';
import type { FetchResult } from '../../functions/enrich/model.ts';
import { StripePaymentIntents } from '../../functions/enrich/stripe.ts';
import { type HubSpotEmulator, startHubSpotEmulator } from '../../local/vendors/hubspot.ts';
import { type StripeEmulator, startStripeEmulator } from '../../local/vendors/stripe.ts';

const HUBSPOT_TOKEN = 'pat-na1-11111111-conformance';
const STRIPE_KEY = 'sk_test_51SpineConformance0000';

let hubspot: HubSpotEmulator;
let stripeEmulator: StripeEmulator;

beforeAll(async () => {
  [hubspot, stripeEmulator] = await Promise.all([
    startHubSpotEmulator({ token: HUBSPOT_TOKEN }),
    startStripeEmulator({
      token: STRIPE_KEY,
      seed: [{ amount: 4200, currency: 'usd', fee: 152, description: 'Conformance' }],
    }),
  ]);
});
afterAll(() => Promise.all([hubspot.stop(), stripeEmulator.stop()]));

function found(result: FetchResult | undefined) {
  if (!result || !('found' in result))
    throw new Error(`expected found, got ${JSON.stringify(result)}`);
  return result.found;
}

/** Plain JSON: Dates as ISO strings, SDK model classes as objects. */
const plain = (value: unknown) => JSON.parse(JSON.stringify(value)) as unknown;

describe('@hubspot/api-client against the HubSpot emulator', () => {
  // The package declares node >=22 (Lambda's runtime); it is tested here on the local Node too.
  it('creates contacts, merges one away, and batch-reads them as our client does', async () => {
    const sdk = new HubSpotClient({ accessToken: HUBSPOT_TOKEN, basePath: hubspot.url });
    const grace = await sdk.crm.contacts.basicApi.create({
      properties: { email: 'grace@example.com', firstname: 'Grace', lastname: 'Hopper' },
      associations: [],
    });
    const duplicate = await sdk.crm.contacts.basicApi.create({
      properties: { email: 'g.hopper@example.com', phone: '+1 555 0100' },
      associations: [],
    });
    expect(grace.id).toMatch(/^\d+$/);
    expect(grace.createdAt).toBeInstanceOf(Date);
    hubspot.contacts.merge(grace.id, duplicate.id);
    const properties = ['email', 'firstname', 'lastname', 'phone', 'hs_merged_object_ids'];
    const ids = [grace.id, duplicate.id, '424242'];

    const answer = await sdk.crm.contacts.batchApi.read({
      inputs: ids.map((id) => ({ id })),
      properties,
      propertiesWithHistory: [],
    });
    const ours = await new HubSpotContacts({ token: HUBSPOT_TOKEN, baseUrl: hubspot.url }).read(
      ids,
      { properties },
    );

    expect(answer.status).toBe('COMPLETE');
    expect(answer.results).toHaveLength(1);
    const [survivor] = answer.results;
    expect(survivor?.properties).toMatchObject({
      email: 'grace@example.com',
      phone: '+1 555 0100',
      hs_merged_object_ids: duplicate.id,
    });
    expect('errors' in answer && plain(answer.errors)).toEqual([
      expect.objectContaining({ category: 'OBJECT_NOT_FOUND', context: { ids: ['424242'] } }),
    ]);
    const record = found(ours.get(grace.id));
    expect(record.object).toEqual(plain(survivor));
    expect(record.version).toBe(survivor?.updatedAt.toISOString());
    expect(found(ours.get(duplicate.id))).toEqual(record);
    expect(ours.get('424242')).toMatchObject({ missing: true });
  });

  it("reads one contact by id, and is refused a wrong token with HubSpot's error", async () => {
    const sdk = new HubSpotClient({ accessToken: HUBSPOT_TOKEN, basePath: hubspot.url });
    const created = await sdk.crm.contacts.basicApi.create({
      properties: { email: 'katherine@example.com', firstname: 'Katherine' },
      associations: [],
    });
    const one = await sdk.crm.contacts.basicApi.getById(created.id, ['email', 'firstname']);
    expect(one.properties).toMatchObject({
      email: 'katherine@example.com',
      firstname: 'Katherine',
    });

    const wrong = new HubSpotClient({ accessToken: 'pat-na1-wrong', basePath: hubspot.url });
    await expect(wrong.crm.contacts.basicApi.getById(created.id)).rejects.toMatchObject({
      code: 401,
      body: expect.objectContaining({ category: 'INVALID_AUTHENTICATION' }),
    });
    await expect(sdk.crm.contacts.basicApi.getById('777777777')).rejects.toMatchObject({
      code: 404,
    });
  });
});

describe('stripe-node against the Stripe emulator', () => {
  const sdk = () =>
    new Stripe(STRIPE_KEY, {
      host: stripeEmulator.host,
      port: stripeEmulator.port,
      protocol: 'http',
      telemetry: false,
      maxNetworkRetries: 0,
    });

  it('retrieves a payment intent with its fee expanded, as our client answers it', async () => {
    const id = stripeEmulator.seeded[0]?.paymentIntent.id as string;

    const intent = await sdk().paymentIntents.retrieve(id, {
      expand: ['latest_charge.balance_transaction'],
    });
    const ours = await new StripePaymentIntents({
      token: STRIPE_KEY,
      baseUrl: stripeEmulator.url,
    }).read([id], { expand: ['latest_charge.balance_transaction'] });

    const charge = intent.latest_charge as Stripe.Charge;
    const txn = charge.balance_transaction as Stripe.BalanceTransaction;
    expect(txn).toMatchObject({ fee: 152, net: 4048, currency: 'usd' });
    expect(found(ours.get(id)).object).toEqual(plain(intent));
  });

  it("raises stripe-node's own errors for a missing intent, a wrong key and a rate limit", async () => {
    await expect(sdk().paymentIntents.retrieve('pi_3Missing000000000000000')).rejects.toMatchObject(
      {
        type: 'StripeInvalidRequestError',
        code: 'resource_missing',
        statusCode: 404,
      },
    );
    const wrong = new Stripe('sk_test_wrong', {
      host: stripeEmulator.host,
      port: stripeEmulator.port,
      protocol: 'http',
      telemetry: false,
    });
    await expect(wrong.paymentIntents.retrieve('pi_x')).rejects.toMatchObject({
      type: 'StripeAuthenticationError',
      statusCode: 401,
    });
    stripeEmulator.setFaults({ next: ['throttle'] });
    await expect(sdk().paymentIntents.retrieve('pi_x')).rejects.toMatchObject({
      type: 'StripeRateLimitError',
      statusCode: 429,
    });
    stripeEmulator.setFaults({});
  });
});
