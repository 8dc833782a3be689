/**
 * Reads a contract's JSONata mapping without running it, to learn which Odoo fields it can
 * write. That is what lets `build` and `lint` refuse a mapping that writes outside the
 * contract's allowlist before any event is mapped.
 */
import jsonata from 'jsonata';

/** A relation is an object literal with these keys; its own keys are not fields of the parent. */
export const RELATION_KEYS = new Set(['@model', '@externalId', '@match', '@create', '@of']);
/** `"@of": {...}`: the Spine record whose many2one field holds the related record. */
const ORIGIN_KEYS = ['@model', '@externalId', '@field'];

export interface WrittenField {
  /** `name`, or `order_line/product_id` for a field of an x2many line. */
  readonly field: string;
  /** Character offset of the key in the expression, for line numbers in findings. */
  readonly position: number;
}

export interface MappingProblem {
  readonly message: string;
  readonly hint: string;
  readonly position: number;
}

export interface MappingAnalysis {
  readonly fields: readonly WrittenField[];
  readonly problems: readonly MappingProblem[];
}

interface AstNode {
  type: string;
  value?: unknown;
  position?: number;
  lhs?: AstNode | [AstNode, AstNode][];
  rhs?: AstNode;
  expressions?: AstNode[];
  steps?: AstNode[];
  condition?: AstNode;
  then?: AstNode;
  else?: AstNode;
  procedure?: AstNode;
  arguments?: AstNode[];
}

/** Object literals an expression can evaluate to, or `opaque` when that cannot be known. */
function resultObjects(node: AstNode | undefined): AstNode[] | 'opaque' {
  if (!node) return [];
  switch (node.type) {
    case 'unary':
      if (node.value === '{') return [node];
      if (node.value === '[') return collect(node.expressions ?? []);
      return 'opaque';
    case 'block':
      return resultObjects(node.expressions?.at(-1));
    case 'condition':
      return collect([node.then, node.else]);
    case 'path':
      return resultObjects(node.steps?.at(-1));
    case 'function':
      // $merge([{...}, cond ? {...}]) is a common way to assemble optional groups of fields.
      if (node.procedure?.value === 'merge') return collect(node.arguments ?? []);
      return 'opaque';
    default:
      return 'opaque';
  }
}

function collect(nodes: (AstNode | undefined)[]): AstNode[] | 'opaque' {
  const found: AstNode[] = [];
  for (const node of nodes) {
    const objects = resultObjects(node);
    if (objects === 'opaque') return 'opaque';
    found.push(...objects);
  }
  return found;
}

function pairsOf(object: AstNode): [AstNode, AstNode][] {
  return Array.isArray(object.lhs) ? object.lhs : [];
}

function isRelation(object: AstNode): boolean {
  return pairsOf(object).some(
    ([key]) => key.type === 'string' && String(key.value).startsWith('@'),
  );
}

export function analyseMapping(expression: string): MappingAnalysis {
  const ast = jsonata(expression).ast() as AstNode;
  const fields: WrittenField[] = [];
  const problems: MappingProblem[] = [];

  const walkObject = (object: AstNode, prefix: string) => {
    for (const [key, value] of pairsOf(object)) {
      if (key.type !== 'string') {
        problems.push({
          message: 'a key of the mapping is computed, so the fields it writes cannot be checked',
          hint: 'write each Odoo field as a literal key, e.g. "email": propertyName = "email" ? propertyValue',
          position: key.position ?? object.position ?? 0,
        });
        continue;
      }
      const field = `${prefix}${String(key.value)}`;
      fields.push({ field, position: key.position ?? 0 });
      const nested = resultObjects(value);
      if (nested === 'opaque') continue;
      for (const inner of nested) {
        if (isRelation(inner)) checkRelation(inner, field);
        else walkObject(inner, `${field}/`);
      }
    }
  };

  const checkRelation = (object: AstNode, field: string) => {
    const keys = pairsOf(object).map(([key]) => String(key.value));
    for (const key of keys) {
      if (!RELATION_KEYS.has(key)) {
        problems.push({
          message: `the relation written to "${field}" has the key "${key}"`,
          hint: `a relation object takes only ${[...RELATION_KEYS].join(', ')}`,
          position: object.position ?? 0,
        });
      }
    }
    if (!keys.includes('@model')) {
      problems.push({
        message: `the relation written to "${field}" does not name its "@model"`,
        hint: 'add "@model": "res.partner" (the Odoo model the relation points to)',
        position: object.position ?? 0,
      });
    }
    if (keys.includes('@of')) {
      checkOrigin(object, field, keys);
      return;
    }
    if (!keys.includes('@externalId') && !keys.includes('@match')) {
      problems.push({
        message: `the relation written to "${field}" has neither "@externalId" nor "@match"`,
        hint: 'say how the related record is found: by its external id, by natural keys, by both, or as a field of another record ("@of")',
        position: object.position ?? 0,
      });
    }
  };

  // "@of" reads the record another Spine record holds: it is never created or matched, so it
  // stands alone, and names the other record in full.
  const checkOrigin = (object: AstNode, field: string, keys: string[]) => {
    const others = keys.filter((k) => k !== '@model' && k !== '@of');
    if (others.length > 0)
      problems.push({
        message: `the relation written to "${field}" has "@of" beside ${others.map((k) => `"${k}"`).join(', ')}`,
        hint: 'a relation with "@of" takes only "@model" (what the field holds) and "@of"; choose between the forms with a condition',
        position: object.position ?? 0,
      });
    const origin = pairsOf(object).find(([key]) => key.value === '@of')?.[1];
    const literals = resultObjects(origin);
    if (literals === 'opaque') return;
    for (const literal of literals) {
      const has = pairsOf(literal).map(([key]) => String(key.value));
      const missing = ORIGIN_KEYS.filter((k) => !has.includes(k));
      const extra = has.filter((k) => !ORIGIN_KEYS.includes(k));
      if (missing.length > 0 || extra.length > 0)
        problems.push({
          message: `the "@of" of the relation written to "${field}" ${missing.length > 0 ? `lacks ${missing.map((k) => `"${k}"`).join(', ')}` : `has ${extra.map((k) => `"${k}"`).join(', ')}`}`,
          hint: 'write "@of": { "@model": "sale.order", "@externalId": "shopify_order_" & order_id, "@field": "partner_id" }',
          position: literal.position ?? object.position ?? 0,
        });
    }
  };

  const top = resultObjects(ast);
  if (top === 'opaque' || top.length === 0) {
    problems.push({
      message:
        'the mapping does not end in an object literal, so the fields it writes cannot be checked',
      hint: 'make the result { "field": expression, ... }, optionally after ( $x := ...; ) bindings',
      position: ast.position ?? 0,
    });
  } else {
    for (const object of top) walkObject(object, '');
  }
  return { fields: dedupe(fields), problems };
}

function dedupe(fields: WrittenField[]): WrittenField[] {
  const seen = new Map<string, WrittenField>();
  for (const field of fields) if (!seen.has(field.field)) seen.set(field.field, field);
  return [...seen.values()];
}
