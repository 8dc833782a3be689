/**
 * `enrich-undeclared`: every member of the fetched object an expression reads is declared in
 * `enrich.schema`. The worker minimises the object to its schema, as it does the event, so an
 * undeclared member is gone before the mapping runs.
 */
import type { Shape } from '../../../functions/contracts/model.ts';
import { shapeOf } from '../compile.ts';
import { closest } from '../did-you-mean.ts';
import { formatRead } from '../expression-reads.ts';
import type { ContractRule, RuleFinding } from './rule.ts';

/** How far `path` stays within what `shape` declares: the first undeclared name, if any. */
export function undeclaredMember(
  shape: Shape,
  path: readonly string[],
): { readonly index: number; readonly declared: readonly string[] } | undefined {
  let node = shape;
  for (const [index, name] of path.entries()) {
    // A name step maps over an array's items.
    while (node.kind === 'array') node = node.items;
    // A value kept whole (an object without declared members, a scalar) hides nothing.
    if (node.kind === 'value') return undefined;
    const child = Object.hasOwn(node.properties, name) ? node.properties[name] : node.additional;
    if (!child) return { index, declared: Object.keys(node.properties) };
    node = child;
  }
  return undefined;
}

export const enrichUndeclared: ContractRule = ({ contract, expressions }) => {
  const enrich = contract.enrich;
  if (!enrich) return [];
  const shape = shapeOf(enrich.schema, enrich.schema);
  const findings: RuleFinding[] = [];
  for (const expression of expressions) {
    const reported = new Set<string>();
    for (const read of expression.reads.reads) {
      if (read.variable !== enrich.as) continue;
      const undeclared = undeclaredMember(shape, read.path);
      if (!undeclared) continue;
      const path = read.path.slice(0, undeclared.index + 1);
      const shown = formatRead({ variable: read.variable, path });
      if (reported.has(shown)) continue;
      reported.add(shown);
      const suggestion = closest(path.at(-1) ?? '', undeclared.declared);
      findings.push({
        severity: 'error',
        rule: 'enrich-undeclared',
        at: expression.at,
        position: read.position,
        message: `reads ${shown}, which enrich.schema does not declare`,
        hint: suggestion
          ? `did you mean ${formatRead({ variable: read.variable, path: [...path.slice(0, -1), suggestion] })}? Members enrich.schema does not declare are dropped before mapping`
          : 'declare it in enrich.schema: members it does not declare are dropped before mapping',
      });
    }
  }
  return findings;
};
