/**
 * `enrich-object`: the object fetched is one Spine can fetch, from the contract's own vendor,
 * and the keys that narrow the fetch are the ones that vendor takes (HubSpot: `properties`,
 * Stripe: `expand`).
 */
import { closest } from '../did-you-mean.ts';
import { isVendorObjectKind, VENDOR_OBJECTS } from '../vendor-objects.ts';
import type { ContractRule, RuleFinding } from './rule.ts';

/** The objects fetched by the given means, e.g. `hubspot.contact` for `properties`. */
function objectsFetchedBy(fetches: 'properties' | 'expand'): string {
  return Object.entries(VENDOR_OBJECTS)
    .filter(([, object]) => object.fetches === fetches)
    .map(([kind]) => kind)
    .join(', ');
}

export const enrichObject: ContractRule = ({ contract }) => {
  const enrich = contract.enrich;
  if (!enrich) return [];
  const error = (at: string, message: string, hint: string): RuleFinding => ({
    severity: 'error',
    rule: 'enrich-object',
    at: ['enrich', at],
    message,
    hint,
  });
  const kinds = Object.keys(VENDOR_OBJECTS);
  if (!isVendorObjectKind(enrich.object)) {
    const suggestion = closest(enrich.object, kinds);
    return [
      error(
        'object',
        `enrich.object "${enrich.object}" is not a vendor object Spine can fetch`,
        suggestion ? `did you mean "${suggestion}"?` : `use one of ${kinds.join(', ')}`,
      ),
    ];
  }
  const object = VENDOR_OBJECTS[enrich.object];
  const findings: RuleFinding[] = [];
  const system = contract.source.system;
  if (object.source !== system) {
    const own = kinds.filter((kind) => kind.startsWith(`${system}.`));
    findings.push(
      error(
        'object',
        `enrich.object ${enrich.object} is fetched from ${object.source}, but this contract's events come from ${system}`,
        own.length > 0
          ? `an event is enriched from its own vendor: use ${own.join(' or ')}`
          : `an event is enriched from its own vendor, and no ${system} object can be fetched yet`,
      ),
    );
  }
  for (const key of ['properties', 'expand'] as const) {
    if (enrich[key] === undefined || object.fetches === key) continue;
    findings.push(
      error(
        key,
        `enrich.${key} applies to ${objectsFetchedBy(key)}, not ${enrich.object}`,
        object.fetches === 'expand'
          ? `remove it; ${object.vendor} answers the whole object, and enrich.expand names the fields to expand`
          : `remove it; name the ${object.vendor} properties to fetch in enrich.properties`,
      ),
    );
  }
  return findings;
};
