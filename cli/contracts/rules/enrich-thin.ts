/**
 * `enrich-thin` (a warning): enrichment is for events that only notify. An event that carries
 * the object already would cost a vendor call per event for what it holds.
 */
import type { ContractRule } from './rule.ts';

export const enrichThin: ContractRule = ({ contract }) =>
  contract.enrich && contract.source.thin !== true
    ? [
        {
          severity: 'warning',
          rule: 'enrich-thin',
          at: ['enrich'],
          message: `enrich fetches ${contract.enrich.object}, but source.thin is not true: enrichment is for events that only notify`,
          hint: 'mark the event source.thin: true if it only names the object; otherwise map what it carries and remove enrich',
        },
      ]
    : [];
