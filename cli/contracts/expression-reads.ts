/**
 * Which variables a contract's JSONata expression reads without binding them itself, and the
 * member paths it reads under each, found without running it: `$contact.properties.firstname`
 * reads `contact` at `properties.firstname`. That is what lets lint tell that a mapping reads a
 * HubSpot property the enrichment does not fetch, or a variable nothing binds.
 *
 * Followed: aliases (`$p := $contact.properties; $p.firstname`), steps evaluated in the path's
 * context (`$contact.properties.(firstname & " " & lastname)`), filters, sorts, groups, focus
 * variables (`$order.lines@$l`) and `$lookup(object, "name")`. A path ends where it can no longer
 * be told (a wildcard, a computed step, a lambda's parameter): reads are under-counted, never
 * invented, so a rule built on them can miss a read but never refuse one that is not there.
 */
import jsonata from 'jsonata';

export interface VariableRead {
  /** The variable, without `$`: `contact`. */
  readonly variable: string;
  /** The member names read under it, in order; empty when the value is read whole. */
  readonly path: readonly string[];
  /** The variable is called as a function (`$fromMinorUnits(...)`) rather than read. */
  readonly called: boolean;
  /** Character offset in the expression, for line numbers in findings. */
  readonly position: number;
}

export interface ExpressionReads {
  /** Reads of variables the expression does not bind, aliases followed to what they stand for. */
  readonly reads: readonly VariableRead[];
  /** Variables the expression binds itself: `:=`, lambda parameters, `@$item`, `#$index`. */
  readonly bound: ReadonlySet<string>;
}

interface AstNode {
  readonly type: string;
  readonly value?: unknown;
  readonly position?: number;
  readonly steps?: readonly AstNode[];
  readonly stages?: readonly AstNode[];
  readonly predicate?: readonly AstNode[];
  readonly group?: { readonly lhs: readonly (readonly [AstNode, AstNode])[] };
  readonly expr?: AstNode;
  readonly expression?: AstNode;
  readonly lhs?: AstNode | readonly (readonly [AstNode, AstNode])[];
  readonly rhs?: AstNode;
  readonly expressions?: readonly AstNode[];
  readonly condition?: AstNode;
  readonly then?: AstNode;
  readonly else?: AstNode;
  readonly procedure?: AstNode;
  readonly arguments?: readonly AstNode[];
  readonly body?: AstNode;
  readonly terms?: readonly { readonly expression: AstNode }[];
  readonly focus?: string;
  readonly index?: string;
}

/** A value the walk can still name: a variable and the members reached under it. */
interface Reached {
  readonly variable: string;
  readonly path: readonly string[];
  readonly position: number;
}

function isNode(value: unknown): value is AstNode {
  return typeof value === 'object' && value !== null && typeof (value as AstNode).type === 'string';
}

/** Every node under `value` (itself included), for collecting bindings. */
function eachNode(value: unknown, visit: (node: AstNode) => void): void {
  if (Array.isArray(value)) {
    for (const item of value) eachNode(item, visit);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  if (isNode(value)) visit(value);
  for (const child of Object.values(value)) eachNode(child, visit);
}

/** The variables an expression binds anywhere in it; scopes are not told apart. */
function boundNames(ast: AstNode): Set<string> {
  const bound = new Set<string>();
  eachNode(ast, (node) => {
    if (node.type === 'bind' && isNode(node.lhs) && node.lhs.type === 'variable')
      bound.add(String(node.lhs.value));
    if (node.type === 'lambda')
      for (const parameter of node.arguments ?? []) bound.add(String(parameter.value));
    if (node.focus) bound.add(node.focus);
    if (node.index) bound.add(node.index);
  });
  return bound;
}

/** Parses `expression` and lists what it reads; throws when it does not parse (lint reports that). */
export function expressionReads(expression: string): ExpressionReads {
  const ast = jsonata(expression).ast() as AstNode;
  const bound = boundNames(ast);
  const aliases = new Map<string, Reached>();
  const reads: VariableRead[] = [];

  const record = (reached: Reached | undefined, called = false) => {
    if (reached) reads.push({ ...reached, called });
  };
  const member = (reached: Reached | undefined, name: string): Reached | undefined =>
    reached && { ...reached, path: [...reached.path, name] };

  /** What a `$name` step stands for in the context `context`. */
  const variable = (node: AstNode, context: Reached | undefined): Reached | undefined => {
    const name = String(node.value);
    if (name === '') return context; // `$`: the context itself
    if (name === '$') return undefined; // `$$`: the event
    const position = node.position ?? 0;
    if (bound.has(name)) {
      const alias = aliases.get(name);
      return alias && { ...alias, position };
    }
    return { variable: name, path: [], position };
  };

  /** What a path reaches, as long as it is made of a variable and names only. */
  const reachedBy = (node: AstNode | undefined, context: Reached | undefined) => {
    if (!node) return undefined;
    if (node.type === 'variable' && !node.predicate) return variable(node, context);
    if (node.type !== 'path' || node.group) return undefined;
    let reached: Reached | undefined;
    for (const [i, step] of (node.steps ?? []).entries()) {
      if (step.stages?.length || step.predicate?.length || step.focus || step.index)
        return undefined;
      if (i === 0 && step.type === 'variable') reached = variable(step, context);
      else if (step.type === 'name')
        reached = member(i === 0 ? context : reached, String(step.value));
      else return undefined;
    }
    return reached;
  };

  const walkPath = (node: AstNode, context: Reached | undefined) => {
    let reached: Reached | undefined;
    for (const [i, step] of (node.steps ?? []).entries()) {
      if (i === 0 && step.type === 'variable') {
        reached = variable(step, context);
      } else if (step.type === 'name') {
        reached = member(i === 0 ? context : reached, String(step.value));
      } else if (step.type === 'sort') {
        // Sorting keeps the values; its terms are read in each one's context.
        for (const term of step.terms ?? []) walk(term.expression, reached);
      } else {
        // A computed step (a block, a function, a wildcard): it reads in the context reached so
        // far, and what it yields can no longer be named.
        record(reached);
        walk(step, i === 0 ? context : reached);
        reached = undefined;
      }
      for (const stage of [...(step.stages ?? []), ...(step.predicate ?? [])])
        walk(stage.expr, reached);
      if (step.focus) {
        if (reached) aliases.set(step.focus, reached);
        else aliases.delete(step.focus);
      }
    }
    for (const [key, value] of node.group?.lhs ?? []) {
      walk(key, reached);
      walk(value, reached);
    }
    record(reached);
  };

  const walkCall = (node: AstNode, context: Reached | undefined) => {
    const procedure = node.procedure;
    if (procedure?.type === 'variable') record(variable(procedure, context), true);
    else walk(procedure, context);
    const args = node.arguments ?? [];
    for (const argument of args) walk(argument, context);
    // $lookup(object, "name") reads a member as a path step would.
    const [object, key] = args;
    if (procedure?.type === 'variable' && procedure.value === 'lookup' && key?.type === 'string')
      record(member(reachedBy(object, context), String(key.value)));
  };

  function walk(node: AstNode | undefined, context: Reached | undefined): void {
    if (!node) return;
    switch (node.type) {
      case 'path':
        walkPath(node, context);
        return;
      case 'variable':
        record(variable(node, context));
        for (const stage of node.predicate ?? []) walk(stage.expr, undefined);
        return;
      case 'function':
      case 'partial':
        walkCall(node, context);
        return;
      case 'bind': {
        walk(node.rhs, context);
        if (!isNode(node.lhs)) return;
        const name = String(node.lhs.value);
        const alias = reachedBy(node.rhs, context);
        if (alias) aliases.set(name, alias);
        else aliases.delete(name);
        return;
      }
      case 'lambda':
        // Called later, with arguments and a context that cannot be known here.
        walk(node.body, undefined);
        return;
      case 'unary':
        if (node.value === '{' && Array.isArray(node.lhs)) {
          for (const [key, value] of node.lhs as readonly (readonly [AstNode, AstNode])[]) {
            walk(key, context);
            walk(value, context);
          }
          return;
        }
        for (const child of [node.expression, ...(node.expressions ?? [])]) walk(child, context);
        return;
      default:
        // Operators, conditions, blocks and the rest evaluate their parts in the same context.
        for (const value of Object.values(node)) {
          if (isNode(value)) walk(value, context);
          else if (Array.isArray(value))
            for (const item of value) if (isNode(item)) walk(item, context);
        }
    }
  }

  walk(ast, undefined);
  return { reads, bound };
}

/** `$contact.properties.firstname`, for findings. */
export function formatRead(read: Pick<VariableRead, 'variable' | 'path'>): string {
  return [
    `$${read.variable}`,
    ...read.path.map((name) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : `\`${name}\``)),
  ].join('.');
}
