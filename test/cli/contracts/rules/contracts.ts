/** The smallest contracts the rules are tested on: a thin HubSpot event and a Stripe one. */
import type { ContractYaml, EnrichYaml } from '../../../../cli/contracts/contract-file.ts';
import { type RuleInput, ruleInput } from '../../../../cli/contracts/rules/index.ts';

const nullableString = (pii?: 'hash') => ({
  type: ['string', 'null'],
  ...(pii ? { 'x-pii': pii } : {}),
});

/** A HubSpot contact as the CRM API answers it, with the properties a partner takes. */
export const CONTACT: EnrichYaml = {
  object: 'hubspot.contact',
  id: { path: '$.objectId' },
  properties: ['email', 'firstname', 'lastname', 'phone'],
  as: 'contact',
  schema: {
    type: 'object',
    required: ['id', 'properties', 'updatedAt'],
    properties: {
      id: { type: 'string' },
      updatedAt: { type: 'string' },
      archived: { type: 'boolean' },
      properties: {
        type: 'object',
        properties: {
          email: nullableString('hash'),
          firstname: nullableString('hash'),
          lastname: nullableString('hash'),
          phone: nullableString('hash'),
          jobtitle: nullableString(),
        },
      },
    },
  },
};

/** A Stripe payment intent: `latest_charge` and its `balance_transaction` are ids unless expanded. */
export const PAYMENT_INTENT: EnrichYaml = {
  object: 'stripe.payment_intent',
  id: { path: '$.data.object.id' },
  expand: ['latest_charge'],
  as: 'intent',
  schema: {
    type: 'object',
    required: ['id', 'amount'],
    properties: {
      id: { type: 'string' },
      amount: { type: 'integer' },
      latest_charge: {
        anyOf: [
          { type: 'string' },
          {
            type: 'object',
            properties: {
              id: { type: 'string' },
              balance_transaction: {
                anyOf: [
                  { type: 'string' },
                  {
                    type: 'object',
                    properties: { fee: { type: 'integer' }, net: { type: 'integer' } },
                  },
                ],
              },
            },
          },
        ],
      },
    },
  },
};

export interface ContractParts {
  readonly system?: string;
  readonly thin?: boolean;
  readonly enrich?: EnrichYaml;
  readonly mapping: string;
  readonly lifecycle?: ContractYaml['target']['lifecycle'];
}

/** A contract of `system` (hubspot by default, thin unless told) with the given parts. */
export function contract(parts: ContractParts): ContractYaml {
  const system = parts.system ?? 'hubspot';
  return {
    id: `${system}.thing`,
    version: '1.0.0',
    status: 'active',
    owner: { team: 'sales-operations', contact: 'salesops@example.com' },
    description: 'A fixture contract.',
    flow: 'customers',
    source: {
      system,
      signature: system === 'stripe' ? 'stripe' : 'hubspot',
      eventType: { path: '$.type' },
      events: ['thing.changed'],
      eventId: { path: '$.id' },
      occurredAt: { path: '$.at' },
      entityKey: { path: '$.objectId' },
      thin: parts.thin ?? true,
    },
    schema: { type: 'object', properties: {} },
    ...(parts.enrich ? { enrich: parts.enrich } : {}),
    target: {
      model: 'res.partner',
      externalId: `${system}_thing_{entityKey}`,
      mapping: parts.mapping,
      write: [],
      ...(parts.lifecycle ? { lifecycle: parts.lifecycle } : {}),
    },
    reconcile: { count: true },
    quality: { freshness: 'PT1H' },
  };
}

/** What a rule is given for those parts. */
export function input(parts: ContractParts): RuleInput {
  return ruleInput(contract(parts));
}
