import { describe, expect, it } from 'vitest';
import { enrichObject } from '../../../../cli/contracts/rules/enrich-object.ts';
import { CONTACT, input, PAYMENT_INTENT } from './contracts.ts';

describe('enrich-object', () => {
  it('Compliance 1 – a HubSpot contact fetched by property for a HubSpot event', () => {
    expect(enrichObject(input({ enrich: CONTACT, mapping: '{}' }))).toEqual([]);
  });

  it('Compliance 2 – a Stripe payment intent expanded for a Stripe event', () => {
    expect(
      enrichObject(input({ system: 'stripe', enrich: PAYMENT_INTENT, mapping: '{}' })),
    ).toEqual([]);
  });

  it('Compliance 3 – a contract without enrich', () => {
    expect(enrichObject(input({ mapping: '{}' }))).toEqual([]);
  });

  it('Noncompliance 1 – an object Spine cannot fetch, with the kind meant', () => {
    const [finding, ...rest] = enrichObject(
      input({ enrich: { ...CONTACT, object: 'hubspot.contacts' }, mapping: '{}' }),
    );
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({
      severity: 'error',
      rule: 'enrich-object',
      at: ['enrich', 'object'],
      message: 'enrich.object "hubspot.contacts" is not a vendor object Spine can fetch',
      hint: 'did you mean "hubspot.contact"?',
    });
  });

  it("Noncompliance 2 – another vendor's object, naming the contract's own", () => {
    const [finding] = enrichObject(
      input({ system: 'stripe', enrich: { ...CONTACT, properties: undefined }, mapping: '{}' }),
    );
    expect(finding?.message).toBe(
      "enrich.object hubspot.contact is fetched from hubspot, but this contract's events come from stripe",
    );
    expect(finding?.hint).toBe(
      'an event is enriched from its own vendor: use stripe.payment_intent',
    );
  });

  it('Noncompliance 3 – expand on a HubSpot object, properties on a Stripe one', () => {
    const hubspot = enrichObject(input({ enrich: { ...CONTACT, expand: ['x'] }, mapping: '{}' }));
    expect(hubspot).toEqual([
      expect.objectContaining({
        at: ['enrich', 'expand'],
        message: 'enrich.expand applies to stripe.payment_intent, not hubspot.contact',
        hint: 'remove it; name the HubSpot properties to fetch in enrich.properties',
      }),
    ]);
    const stripe = enrichObject(
      input({
        system: 'stripe',
        enrich: { ...PAYMENT_INTENT, properties: ['amount'] },
        mapping: '{}',
      }),
    );
    expect(stripe).toEqual([
      expect.objectContaining({
        at: ['enrich', 'properties'],
        message: 'enrich.properties applies to hubspot.contact, not stripe.payment_intent',
      }),
    ]);
  });
});
