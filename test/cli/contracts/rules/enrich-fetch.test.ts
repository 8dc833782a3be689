import { describe, expect, it } from 'vitest';
import { enrichFetch } from '../../../../cli/contracts/rules/enrich-fetch.ts';
import { CONTACT, input, PAYMENT_INTENT } from './contracts.ts';

describe('enrich-fetch', () => {
  describe('HubSpot: the properties asked for', () => {
    it('Compliance 1 – every property read is fetched', () => {
      const mapping = `(
        $p := $contact.properties;
        { "email": $p.email, "name": $p.firstname & " " & $p.lastname,
          "phone": $contact.properties.(phone) }
      )`;
      expect(enrichFetch(input({ enrich: CONTACT, mapping }))).toEqual([]);
    });

    it('Compliance 2 – members outside properties need no fetching', () => {
      const mapping = '{ "ref": $contact.id, "active": $not($contact.archived) }';
      expect(
        enrichFetch(input({ enrich: { ...CONTACT, properties: undefined }, mapping })),
      ).toEqual([]);
    });

    it('Noncompliance 1 – a property read but not fetched, named with the hint to fetch it', () => {
      const mapping = '{ "function": $contact.properties.jobtitle }';
      const [finding, ...rest] = enrichFetch(input({ enrich: CONTACT, mapping }));
      expect(rest).toEqual([]);
      expect(finding).toMatchObject({
        severity: 'error',
        rule: 'enrich-fetch',
        at: ['target', 'mapping'],
        message:
          'reads $contact.properties.jobtitle, but enrich.properties does not fetch "jobtitle"',
        hint: 'add jobtitle to enrich.properties: HubSpot answers only the properties asked for',
      });
    });

    it('Noncompliance 2 – a misspelt property, with the fetched one meant', () => {
      const mapping = '( $p := $contact.properties; { "name": $p.fristname } )';
      const [finding] = enrichFetch(input({ enrich: CONTACT, mapping }));
      expect(finding?.hint).toBe(
        'did you mean "firstname"? Otherwise add fristname to enrich.properties: HubSpot answers only the properties asked for',
      );
    });
  });

  describe('Stripe: the expansions asked for', () => {
    const stripe = (mapping: string, expand?: string[]) =>
      enrichFetch(
        input({
          system: 'stripe',
          enrich: { ...PAYMENT_INTENT, ...(expand ? { expand } : {}) },
          mapping,
        }),
      );

    it('Compliance 1 – inside an expanded field, and the id of one not expanded', () => {
      expect(
        stripe(
          '{ "charge": $intent.latest_charge.id, "tx": $intent.latest_charge.balance_transaction }',
        ),
      ).toEqual([]);
    });

    it('Compliance 2 – a nested expansion expands its parents', () => {
      expect(
        stripe('{ "fee": $intent.latest_charge.balance_transaction.fee }', [
          'latest_charge.balance_transaction',
        ]),
      ).toEqual([]);
    });

    it('Noncompliance 1 – inside a field answered as its id, naming the expansion to add', () => {
      const [finding, ...rest] = stripe('{ "fee": $intent.latest_charge.balance_transaction.fee }');
      expect(rest).toEqual([]);
      expect(finding).toMatchObject({
        message:
          'reads $intent.latest_charge.balance_transaction.fee, but enrich.expand does not expand latest_charge.balance_transaction',
        hint: 'add latest_charge.balance_transaction to enrich.expand: Stripe answers latest_charge.balance_transaction as its id unless it is expanded',
      });
    });

    it('Noncompliance 2 – a misspelt expansion, pointed at', () => {
      const [finding] = stripe('{ "fee": $intent.latest_charge.balance_transaction.fee }', [
        'latest_charge.balance_transacton',
      ]);
      expect(finding?.hint).toContain(
        'add latest_charge.balance_transaction to enrich.expand (is latest_charge.balance_transacton misspelt?)',
      );
    });

    it('Noncompliance 3 – nothing expanded at all', () => {
      const [finding] = stripe('{ "charge": $intent.latest_charge.id }', []);
      expect(finding?.message).toBe(
        'reads $intent.latest_charge.id, but enrich.expand does not expand latest_charge',
      );
    });
  });
});
