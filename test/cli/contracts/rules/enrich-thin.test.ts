import { describe, expect, it } from 'vitest';
import { enrichThin } from '../../../../cli/contracts/rules/enrich-thin.ts';
import { CONTACT, input } from './contracts.ts';

describe('enrich-thin', () => {
  it('Compliance 1 – a thin event enriched', () => {
    expect(enrichThin(input({ enrich: CONTACT, mapping: '{}' }))).toEqual([]);
  });

  it('Compliance 2 – a thin event without enrich maps what it carries, as before', () => {
    expect(enrichThin(input({ mapping: '{}' }))).toEqual([]);
  });

  it('Noncompliance 1 – an event that is not thin, warned about only', () => {
    expect(enrichThin(input({ thin: false, enrich: CONTACT, mapping: '{}' }))).toEqual([
      {
        severity: 'warning',
        rule: 'enrich-thin',
        at: ['enrich'],
        message:
          'enrich fetches hubspot.contact, but source.thin is not true: enrichment is for events that only notify',
        hint: 'mark the event source.thin: true if it only names the object; otherwise map what it carries and remove enrich',
      },
    ]);
  });
});
