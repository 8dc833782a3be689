/**
 * `enrich-fetch`: the fetch asks for everything the expressions read. HubSpot answers only the
 * properties named in `enrich.properties`; Stripe answers an expandable field as its id unless
 * `enrich.expand` names it. `enrich.schema` says which fields are expandable, as Stripe's own
 * API description does: by allowing a string (the id) beside the object.
 */
import { closest } from '../did-you-mean.ts';
import { formatRead, type VariableRead } from '../expression-reads.ts';
import {
  isSchemaObject,
  type JsonSchema,
  propertiesOf,
  resolveSchema,
  typesOf,
} from '../json-schema.ts';
import { isVendorObjectKind, VENDOR_OBJECTS } from '../vendor-objects.ts';
import type { ContractRule, RuleFinding } from './rule.ts';

/** The schema of the member `path` names, a name step mapping over an array's items. */
export function schemaAt(root: JsonSchema, path: readonly string[]): JsonSchema | undefined {
  let node: JsonSchema | undefined = root;
  for (const name of path) {
    if (!node) return undefined;
    let resolved = resolveSchema(node, root);
    let child = propertiesOf(resolved, root).get(name)?.schema;
    for (let depth = 0; !child && isSchemaObject(resolved.items) && depth < 32; depth++) {
      resolved = resolveSchema(resolved.items, root);
      child = propertiesOf(resolved, root).get(name)?.schema;
    }
    if (!child && isSchemaObject(resolved.additionalProperties))
      child = resolved.additionalProperties;
    node = child;
  }
  return node;
}

/** Whether the schema lets the value be a string, in any branch of an anyOf / oneOf. */
export function allowsString(schema: JsonSchema, root: JsonSchema, depth = 0): boolean {
  const resolved = resolveSchema(schema, root);
  if (typesOf(resolved).has('string')) return true;
  if (depth > 32) return false;
  return (['anyOf', 'oneOf'] as const).some((keyword) => {
    const branches = resolved[keyword];
    return (
      Array.isArray(branches) &&
      branches.some((branch) => isSchemaObject(branch) && allowsString(branch, root, depth + 1))
    );
  });
}

/** HubSpot: the property a read of `$as.properties.<name>...` needs, when not fetched. */
function missingProperty(read: VariableRead, fetched: readonly string[]): string | undefined {
  const [head, name] = read.path;
  return head === 'properties' && name !== undefined && !fetched.includes(name) ? name : undefined;
}

/**
 * Stripe: the deepest expandable field the read goes inside without expanding it. Expanding
 * `latest_charge.balance_transaction` expands `latest_charge` too.
 */
function missingExpansion(
  read: VariableRead,
  expand: readonly string[],
  schema: JsonSchema,
): string | undefined {
  const expanded = new Set(
    expand.flatMap((entry) =>
      entry.split('.').map((_, i, parts) => parts.slice(0, i + 1).join('.')),
    ),
  );
  for (let length = read.path.length - 1; length >= 1; length--) {
    const field = read.path.slice(0, length);
    const node = schemaAt(schema, field);
    if (node && allowsString(node, schema) && !expanded.has(field.join('.')))
      return field.join('.');
  }
  return undefined;
}

export const enrichFetch: ContractRule = ({ contract, expressions }) => {
  const enrich = contract.enrich;
  if (!enrich || !isVendorObjectKind(enrich.object)) return [];
  const { fetches, vendor } = VENDOR_OBJECTS[enrich.object];
  const findings: RuleFinding[] = [];
  for (const expression of expressions) {
    const reported = new Set<string>();
    for (const read of expression.reads.reads) {
      if (read.variable !== enrich.as) continue;
      const finding = (missing: string, message: string, hint: string) => {
        if (reported.has(missing)) return;
        reported.add(missing);
        findings.push({
          severity: 'error',
          rule: 'enrich-fetch',
          at: expression.at,
          position: read.position,
          message,
          hint,
        });
      };
      if (fetches === 'properties') {
        const fetched = enrich.properties ?? [];
        const name = missingProperty(read, fetched);
        if (name === undefined) continue;
        const suggestion = closest(name, fetched);
        const add = `add ${name} to enrich.properties: ${vendor} answers only the properties asked for`;
        finding(
          name,
          `reads ${formatRead({ variable: read.variable, path: ['properties', name] })}, but enrich.properties does not fetch "${name}"`,
          suggestion ? `did you mean "${suggestion}"? Otherwise ${add}` : add,
        );
      } else {
        const expand = enrich.expand ?? [];
        const field = missingExpansion(read, expand, enrich.schema);
        if (field === undefined) continue;
        const suggestion = closest(field, expand);
        finding(
          field,
          `reads ${formatRead(read)}, but enrich.expand does not expand ${field}`,
          `add ${field} to enrich.expand${suggestion ? ` (is ${suggestion} misspelt?)` : ''}: ${vendor} answers ${field} as its id unless it is expanded`,
        );
      }
    }
  }
  return findings;
};
