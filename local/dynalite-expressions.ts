/**
 * dynalite parses every condition, update and projection expression with a PEG parser on every
 * request, about a millisecond of CPU each: most of the local DynamoDB's time, since Spine sends
 * the same few expressions again and again (Powertools idempotency, entity claims, queries) with
 * new values. This keeps each parse as a template and fills in the new values on the next call.
 *
 * The parse depends on the expression, the attribute names, the values' types (`size` and
 * `begins_with` check them) and whether it is a key condition; it is cached under all of those.
 * BETWEEN and attribute_type also look at the values themselves, so those are always parsed.
 * Only successful parses are kept: an invalid expression throws the parser's error every time.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

type AttributeValue = Record<string, unknown>;

interface ParseContext {
  attrNames?: Record<string, string>;
  attrVals?: Record<string, AttributeValue>;
  unusedAttrNames?: Record<string, boolean>;
  unusedAttrVals?: Record<string, boolean>;
  isKeyCondition?: boolean;
}

interface Parser {
  parse(input: string, options: { context: ParseContext }): unknown;
}

interface Template {
  readonly tree: unknown;
  readonly usedNames: readonly string[];
  readonly usedValues: readonly string[];
}

const MAX_TEMPLATES = 1000;
/** Marks where an expression attribute value goes in a template. */
const VALUE = Symbol('expression attribute value');
const VALUE_DEPENDENT = /\b(between|attribute_type)\b/i;

const typeOf = (value: AttributeValue) => Object.keys(value).find((k) => value[k] != null) ?? '';

function toTemplate(node: unknown, nameOf: Map<unknown, string>): unknown {
  const value = nameOf.get(node);
  if (value !== undefined) return { [VALUE]: value };
  if (Array.isArray(node)) return node.map((n) => toTemplate(n, nameOf));
  if (node && typeof node === 'object') {
    const copy: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) copy[k] = toTemplate(v, nameOf);
    return copy;
  }
  return node;
}

function fill(node: unknown, values: Record<string, AttributeValue>): unknown {
  if (Array.isArray(node)) return node.map((n) => fill(n, values));
  if (node && typeof node === 'object') {
    const value = (node as { [VALUE]?: string })[VALUE];
    if (value !== undefined) return values[value];
    const copy: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) copy[k] = fill(v, values);
    return copy;
  }
  return node;
}

/** Wraps one of dynalite's parsers so that a repeated expression is parsed once. */
export function rememberParses(parser: Parser): void {
  const parse = parser.parse.bind(parser);
  const templates = new Map<string, Template>();
  parser.parse = (input, options) => {
    const context = options.context;
    const values = context.attrVals ?? {};
    if (VALUE_DEPENDENT.test(input)) return parse(input, options);
    const key = JSON.stringify([
      input,
      context.attrNames ?? null,
      Object.entries(values).map(([name, value]) => [name, typeOf(value)]),
      Boolean(context.isKeyCondition),
    ]);
    const known = templates.get(key);
    if (known) {
      for (const name of known.usedNames) delete context.unusedAttrNames?.[name];
      for (const name of known.usedValues) delete context.unusedAttrVals?.[name];
      return fill(known.tree, values);
    }
    const namesBefore = Object.keys(context.unusedAttrNames ?? {});
    const valuesBefore = Object.keys(context.unusedAttrVals ?? {});
    const tree = parse(input, options);
    if (templates.size >= MAX_TEMPLATES) templates.clear();
    templates.set(key, {
      tree: toTemplate(tree, new Map(Object.entries(values).map(([name, v]) => [v, name]))),
      usedNames: namesBefore.filter((n) => !(n in (context.unusedAttrNames ?? {}))),
      usedValues: valuesBefore.filter((n) => !(n in (context.unusedAttrVals ?? {}))),
    });
    return tree;
  };
}

let installed = false;

/** Makes dynalite's own expression parsers remember their parses (once per process). */
export function rememberDynaliteParses(): void {
  if (installed) return;
  installed = true;
  const require = createRequire(import.meta.url);
  const root = dirname(require.resolve('dynalite/package.json'));
  for (const file of ['conditionParser.js', 'updateParser.js', 'projectionParser.js'])
    rememberParses(require(join(root, 'db', file)) as Parser);
}
