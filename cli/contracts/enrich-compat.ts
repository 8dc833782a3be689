/**
 * What `contracts check` says about a contract's enrichment between two versions. The fetched
 * object's schema is compared like the event's (`diffSchemas`, judged by the compatibility
 * mode), its paths starting at the name the expressions read it by (`$contact.properties.email`).
 * The rest is judged here: another object, id or name breaks the contract, as does fetching
 * less (a property or an expansion removed); fetching more is compatible.
 */
import type { ContractChange } from './check.ts';
import type { ContractYaml, EnrichYaml } from './contract-file.ts';
import { isSchemaObject } from './json-schema.ts';
import { diffSchemas, type SchemaChange } from './schema-diff.ts';

export type EnrichChange = Omit<ContractChange, 'severity' | 'file' | 'contract'> & {
  readonly breaking: boolean;
};

/** The enrichment as written, read leniently: the base is compared as it was accepted then. */
function enrichOf(contract: ContractYaml): EnrichYaml | undefined {
  const enrich: unknown = contract.enrich;
  return isSchemaObject(enrich) && typeof enrich.object === 'string'
    ? (enrich as unknown as EnrichYaml)
    : undefined;
}

/** The fetched object's schema changes, when both versions fetch one with a schema. */
export function enrichSchemaChanges(before: ContractYaml, after: ContractYaml): SchemaChange[] {
  const [a, b] = [enrichOf(before), enrichOf(after)];
  if (!a || !b || !isSchemaObject(a.schema) || !isSchemaObject(b.schema)) return [];
  const root = `$${b.as}`;
  return diffSchemas(a.schema, b.schema, { subject: `fetched ${b.object} objects` }).map(
    (change) => ({
      ...change,
      path: `${root}${change.path.slice(1)}`,
    }),
  );
}

/** Changes to what is fetched and how the expressions name it; `breaking` ones need a new major. */
export function enrichChanges(before: ContractYaml, after: ContractYaml): EnrichChange[] {
  const [a, b] = [enrichOf(before), enrichOf(after)];
  if (!a && !b) return [];
  if (!a && b) {
    const system = after.source.system;
    return [
      {
        path: 'enrich',
        kind: 'enrich-added',
        old: '(none)',
        new: b.object,
        breaking: false,
        why: `the worker now fetches each event's ${b.object} before mapping: the ${system} API credential (spine/<env>/sources/${system}) must be in place when this deploys`,
      },
    ];
  }
  if (a && !b)
    return [
      {
        path: 'enrich',
        kind: 'enrich-removed',
        old: a.object,
        new: '(none)',
        breaking: true,
        why: `events are no longer enriched: what the mapping read from $${a.as} is no longer written`,
      },
    ];
  if (!a || !b) return [];

  const found: EnrichChange[] = [];
  const changed = (
    key: 'object' | 'id' | 'as',
    show: (enrich: EnrichYaml) => string,
    why: string,
  ) => {
    if (show(a) !== show(b))
      found.push({
        path: `enrich.${key}`,
        kind: `enrich-${key}-changed`,
        old: show(a),
        new: show(b),
        breaking: true,
        why,
      });
  };
  changed(
    'object',
    (e) => e.object,
    'the expressions would read another kind of object under the same names, fetched from another API',
  );
  changed(
    'id',
    (e) => JSON.stringify(e.id),
    'the same event would fetch another object, so a replay would write something other than it did',
  );
  changed(
    'as',
    (e) => `$${e.as}`,
    `violation reports name the fetched object's fields by it ($${a.as}.id): one major would name them two ways`,
  );
  const removed = (key: 'properties' | 'expand') =>
    (a[key] ?? []).filter((name) => !(b[key] ?? []).includes(name));
  for (const name of removed('properties'))
    found.push({
      path: 'enrich.properties',
      kind: 'enrich-property-removed',
      old: name,
      new: '(not fetched)',
      breaking: true,
      why: `$${b.as}.properties.${name} is no longer fetched: what the contract filled from it is no longer written`,
    });
  for (const name of removed('expand'))
    found.push({
      path: 'enrich.expand',
      kind: 'enrich-expansion-removed',
      old: name,
      new: '(not expanded)',
      breaking: true,
      why: `${name} is answered as its id again: what the contract read inside it is no longer written`,
    });
  return found;
}
