/**
 * Where a contract's JSONata uses reference data: each `$reference('<crosswalk>', key)` call,
 * read without running the expression. The crosswalk must be a literal (lint checks it exists
 * and the build bundles it with the contract); a literal key is checked too, while a key read
 * from the event (`$reference('currencies', currency)`) may be any entry of the crosswalk.
 */
import jsonata from 'jsonata';

export interface ReferenceUse {
  /** The crosswalk named by a literal, or undefined when the first argument is computed. */
  readonly crosswalk?: string;
  /** The key when it is a literal; undefined when it comes from the event. */
  readonly key?: string;
  /** Character offset of the call, for line numbers in findings. */
  readonly position: number;
}

interface Node {
  readonly type?: string;
  readonly value?: unknown;
  readonly position?: number;
  readonly procedure?: Node;
  readonly arguments?: readonly Node[];
}

function walk(value: unknown, visit: (node: Node) => void): void {
  if (Array.isArray(value)) {
    for (const item of value) walk(item, visit);
    return;
  }
  if (!value || typeof value !== 'object') return;
  visit(value as Node);
  for (const child of Object.values(value)) walk(child, visit);
}

/** Every `$reference(...)` call in `expression`; throws when it does not parse (lint reports that). */
export function referenceUses(expression: string): ReferenceUse[] {
  const uses: ReferenceUse[] = [];
  walk(jsonata(expression).ast(), (node) => {
    if (
      node.type !== 'function' ||
      node.procedure?.type !== 'variable' ||
      node.procedure.value !== 'reference'
    )
      return;
    const [crosswalk, key] = node.arguments ?? [];
    uses.push({
      ...(crosswalk?.type === 'string' ? { crosswalk: String(crosswalk.value) } : {}),
      ...(key?.type === 'string' ? { key: String(key.value) } : {}),
      position: node.position ?? 0,
    });
  });
  return uses;
}
