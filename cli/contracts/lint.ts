/**
 * Every rule a contract must pass before it is compiled. Each finding names the file, the
 * line and the path, and says how to fix it; `build` refuses to compile while any error stands.
 */
import { readFileSync } from 'node:fs';
import jsonata from 'jsonata';
import { parseJsonPath } from '../../functions/contracts/json-path.ts';
import { LIFECYCLE_EXPRESSIONS } from '../../functions/contracts/model.ts';
import { createAjv } from './ajv.ts';
import {
  type ContractYaml,
  durationSeconds,
  type FlowsYaml,
  type LifecycleStepYaml,
  type LocatorYaml,
  parseContractPath,
} from './contract-file.ts';
import { closest } from './did-you-mean.ts';
import type { Finding } from './findings.ts';
import {
  carriesPii,
  isSchemaObject,
  type JsonSchema,
  propertiesOf,
  resolveSchema,
  typesOf,
  walkFields,
} from './json-schema.ts';
import { dotted, pointerToKeyPath } from './key-paths.ts';
import { analyseMapping, type MappingAnalysis } from './mapping-analysis.ts';
import { personalDataKind } from './personal-data.ts';
import { crosswalkNameOf } from './reference-file.ts';
import { type CheckedCrosswalk, lintReferenceData } from './reference-lint.ts';
import { type ReferenceUse, referenceUses } from './reference-usage.ts';
import { CONTRACT_RULES, ENRICH_SCHEMA_RULES, ruleInput } from './rules/index.ts';
import type { KeyPath, SourceDocument } from './source-document.ts';

export interface CheckedContract {
  readonly doc: SourceDocument;
  readonly contract: ContractYaml;
  readonly mapping: MappingAnalysis;
  /** The `$reference(...)` calls of its mapping. */
  readonly references: readonly ReferenceUse[];
}

export interface LintResult {
  readonly findings: Finding[];
  /** Contracts that passed every error-level rule, ready to compile. */
  readonly contracts: CheckedContract[];
  readonly flows?: FlowsYaml;
  /** Crosswalks of contracts/reference/ that passed every error-level rule. */
  readonly reference: CheckedCrosswalk[];
}

const contractFormat = JSON.parse(
  readFileSync(new URL('../../contracts/contract.schema.json', import.meta.url), 'utf8'),
) as JsonSchema;

let formatValidator: ReturnType<ReturnType<typeof createAjv>['compile']> | undefined;
function validateFormat(data: unknown) {
  formatValidator ??= createAjv().compile(contractFormat);
  formatValidator(data);
  return formatValidator.errors ?? [];
}

const SCHEMA_KEYWORDS = new Set([
  '$schema',
  '$id',
  '$ref',
  '$anchor',
  '$dynamicRef',
  '$dynamicAnchor',
  '$vocabulary',
  '$comment',
  '$defs',
  'allOf',
  'anyOf',
  'oneOf',
  'not',
  'if',
  'then',
  'else',
  'dependentSchemas',
  'prefixItems',
  'items',
  'contains',
  'properties',
  'patternProperties',
  'additionalProperties',
  'propertyNames',
  'unevaluatedItems',
  'unevaluatedProperties',
  'type',
  'enum',
  'const',
  'multipleOf',
  'maximum',
  'exclusiveMaximum',
  'minimum',
  'exclusiveMinimum',
  'maxLength',
  'minLength',
  'pattern',
  'maxItems',
  'minItems',
  'uniqueItems',
  'maxContains',
  'minContains',
  'maxProperties',
  'minProperties',
  'required',
  'dependentRequired',
  'title',
  'description',
  'default',
  'deprecated',
  'readOnly',
  'writeOnly',
  'examples',
  'format',
  'contentEncoding',
  'contentMediaType',
  'contentSchema',
  'x-pii',
]);
const SCHEMA_MAPS = ['properties', 'patternProperties', '$defs', 'dependentSchemas'];
const SCHEMA_LISTS = ['allOf', 'anyOf', 'oneOf', 'prefixItems'];
const SCHEMA_SINGLES = [
  'not',
  'if',
  'then',
  'else',
  'items',
  'contains',
  'additionalProperties',
  'propertyNames',
  'unevaluatedItems',
  'unevaluatedProperties',
  'contentSchema',
];

function forEachSchemaNode(
  schema: unknown,
  keyPath: KeyPath,
  visit: (node: JsonSchema, keyPath: KeyPath) => void,
) {
  if (!isSchemaObject(schema)) return;
  visit(schema, keyPath);
  for (const key of SCHEMA_MAPS) {
    const map = schema[key];
    if (isSchemaObject(map)) {
      for (const [name, child] of Object.entries(map))
        forEachSchemaNode(child, [...keyPath, key, name], visit);
    }
  }
  for (const key of SCHEMA_LISTS) {
    const list = schema[key];
    if (Array.isArray(list))
      list.forEach((child, i) => {
        forEachSchemaNode(child, [...keyPath, key, i], visit);
      });
  }
  for (const key of SCHEMA_SINGLES) forEachSchemaNode(schema[key], [...keyPath, key], visit);
}

/** Lints one contract on its own; cross-contract rules are in `lintContracts`. */
function lintContract(
  doc: SourceDocument,
  flows: FlowsYaml | undefined,
): {
  findings: Finding[];
  checked?: CheckedContract;
} {
  const findings: Finding[] = [...doc.syntaxErrors];
  if (doc.data === undefined) return { findings };
  const report: Report = (severity, rule, keyPath, message, hint, line) => {
    findings.push({
      severity,
      rule,
      file: doc.file,
      line: line ?? doc.lineOf(keyPath),
      path: dotted(keyPath) || undefined,
      message,
      hint,
    });
  };

  for (const error of validateFormat(doc.data)) {
    const keyPath = pointerToKeyPath(error.instancePath);
    if (error.keyword === 'additionalProperties') {
      const extra = String((error.params as { additionalProperty?: string }).additionalProperty);
      const parent = keyPath.reduce<unknown>(
        (n, k) => (isSchemaObject(n) ? n[k] : undefined),
        contractFormat.properties,
      );
      const known = keyPath.length === 0 ? Object.keys(contractFormat.properties as object) : [];
      const suggestion = closest(
        extra,
        known.length > 0 ? known : isSchemaObject(parent) ? Object.keys(parent) : [],
      );
      report(
        'error',
        'contract-format',
        [...keyPath, extra],
        `unknown key "${extra}"`,
        suggestion
          ? `did you mean "${suggestion}"?`
          : 'see contracts/contract.schema.json for the keys a contract takes',
      );
    } else if (error.keyword === 'required') {
      const missing = String((error.params as { missingProperty?: string }).missingProperty);
      report(
        'error',
        'contract-format',
        keyPath,
        `missing required key "${missing}"${keyPath.length ? ` in ${dotted(keyPath)}` : ''}`,
        'see contracts/contract.schema.json for what this key takes',
      );
    } else if (error.keyword === 'oneOf' || error.keyword === 'if') {
      // The branch errors that follow say what is wrong; the summary adds nothing.
    } else {
      report(
        'error',
        'contract-format',
        keyPath,
        `${error.message ?? 'is not valid'}${
          error.keyword === 'enum'
            ? `: ${JSON.stringify((error.params as { allowedValues?: unknown }).allowedValues)}`
            : ''
        }`,
        'see contracts/contract.schema.json for what this key takes',
      );
    }
  }
  if (findings.length > 0) return { findings };
  const contract = doc.data as ContractYaml;

  // The file name, id and version must agree: contracts/<source>/<name>.v<major>.yaml.
  const place = parseContractPath(doc.file);
  const major = Number(contract.version.split('.')[0]);
  if (!place) {
    report(
      'error',
      'file-name',
      [],
      `${doc.file} is not named contracts/<source>/<name>.v<major>.yaml`,
      'rename the file so its folder is the source and its suffix the major version',
    );
  } else {
    if (contract.id !== `${place.source}.${place.name}`) {
      report(
        'error',
        'file-name',
        ['id'],
        `id "${contract.id}" does not match the file name (expected "${place.source}.${place.name}")`,
        'the id is <source folder>.<file name without .v<major>.yaml>',
      );
    }
    if (major !== place.major) {
      report(
        'error',
        'file-name',
        ['version'],
        `version ${contract.version} is major ${major}, but the file is .v${place.major}.yaml`,
        `a new major is a new file: copy this one to ${place.name}.v${major}.yaml and keep v${place.major} live while producers migrate`,
      );
    }
    if (contract.source.system !== place.source) {
      report(
        'error',
        'file-name',
        ['source', 'system'],
        `source.system "${contract.source.system}" differs from the folder "${place.source}"`,
        'put the contract in the folder named after its source system',
      );
    }
  }

  if (flows && !(contract.flow in flows.flows)) {
    report(
      'error',
      'flow-unknown',
      ['flow'],
      `flow "${contract.flow}" is not declared in contracts/flows.yaml`,
      `use one of ${Object.keys(flows.flows).join(', ')}, or declare the flow in contracts/flows.yaml`,
    );
  }
  if (Number.isNaN(durationSeconds(contract.quality.freshness))) {
    report(
      'error',
      'contract-format',
      ['quality', 'freshness'],
      `"${contract.quality.freshness}" is not an ISO 8601 duration`,
      'write e.g. PT15M or P1DT12H',
    );
  }

  // The event schema itself, and the enriched object's.
  const schema = contract.schema;
  const schemaUsable = lintSchema(schema, ['schema'], report, { root: '$', described: true });
  const enrichSchemaUsable =
    contract.enrich !== undefined &&
    lintSchema(contract.enrich.schema, ['enrich', 'schema'], report, {
      root: `$${contract.enrich.as}`,
      // The vendor documents its own object; what Spine must know is what is personal.
      described: false,
    });

  // Locators must parse, and body paths must name fields the schema declares (minimising drops
  // everything else, so an undeclared key would be gone by the time the worker needs it).
  const locators: (readonly [string, KeyPath, LocatorYaml])[] = [
    ['eventType', ['source', 'eventType', 'path'], contract.source.eventType],
    ['eventId', ['source', 'eventId', 'path'], contract.source.eventId],
    ['occurredAt', ['source', 'occurredAt', 'path'], contract.source.occurredAt],
    ['entityKey', ['source', 'entityKey', 'path'], contract.source.entityKey],
    ...(contract.source.account
      ? [['account', ['source', 'account', 'path'], contract.source.account] as const]
      : []),
    // The worker reads the object's id from the minimised event, never from headers.
    ...(contract.enrich
      ? [['enrich.id', ['enrich', 'id', 'path'], contract.enrich.id] as const]
      : []),
  ];
  // A joined locator's paths are each checked as a locator of their own.
  const paths = locators.flatMap(([name, keyPath, locator]) =>
    'join' in locator
      ? locator.join.map(
          (path, i) =>
            [name, [...keyPath.slice(0, -1), 'join', i], { path }] as const satisfies readonly [
              string,
              KeyPath,
              LocatorYaml,
            ],
        )
      : [[name, keyPath, locator] as const],
  );
  for (const [name, keyPath, locator] of paths) {
    if (!('path' in locator)) continue;
    let segments: (string | number)[];
    try {
      segments = parseJsonPath(locator.path);
    } catch (error) {
      report(
        'error',
        'locator',
        keyPath,
        (error as Error).message,
        "write e.g. $.data.object.id or $['x-id']",
      );
      continue;
    }
    if (!schemaUsable) continue;
    let node: JsonSchema | undefined = schema;
    for (const segment of segments) {
      if (!node) break;
      const resolved: JsonSchema = resolveSchema(node, schema);
      node =
        typeof segment === 'number'
          ? isSchemaObject(resolved.items)
            ? resolved.items
            : undefined
          : propertiesOf(resolved, schema).get(segment)?.schema;
    }
    if (!node) {
      report(
        'error',
        'locator',
        keyPath,
        `${name} points to ${locator.path}, which the schema does not declare`,
        'declare that field in schema (with a description), or correct the path',
      );
    } else if (name === 'eventType') {
      const resolved = resolveSchema(node, schema);
      const allowed =
        'const' in resolved
          ? [resolved.const]
          : Array.isArray(resolved.enum)
            ? resolved.enum
            : undefined;
      for (const event of contract.source.events) {
        if (allowed && !allowed.includes(event)) {
          report(
            'error',
            'locator',
            ['source', 'events'],
            `routes "${event}", but the schema only allows ${JSON.stringify(allowed)} at ${locator.path}`,
            'add the event type to the schema, or remove it from source.events',
          );
        }
      }
    }
  }

  // The mapping: it must parse, and it may only write what the allowlist holds.
  let mapping: MappingAnalysis = { fields: [], problems: [] };
  const mappingPath = ['target', 'mapping'];
  try {
    mapping = analyseMapping(contract.target.mapping);
  } catch (error) {
    const e = error as { message: string; position?: number; token?: string };
    report(
      'error',
      'mapping-syntax',
      mappingPath,
      `the JSONata mapping does not parse: ${e.message}`,
      'check brackets, quotes and ":" between key and value near that position',
      doc.lineWithin(mappingPath, e.position ?? 0),
    );
    mapping = { fields: [], problems: [] };
  }
  for (const problem of mapping.problems) {
    report(
      'error',
      'mapping-shape',
      mappingPath,
      problem.message,
      problem.hint,
      doc.lineWithin(mappingPath, problem.position),
    );
  }
  const allowed = new Set(contract.target.write);
  for (const field of mapping.fields) {
    if (!allowed.has(field.field)) {
      report(
        'error',
        'write-allowlist',
        mappingPath,
        `the mapping writes "${field.field}", which target.write does not allow`,
        `add "${field.field}" to target.write if this contract may set it, or remove it from the mapping`,
        doc.lineWithin(mappingPath, field.position),
      );
    }
  }
  const written = new Set(mapping.fields.map((f) => f.field));
  (contract.target.createOnly ?? []).forEach((field, i) => {
    if (!allowed.has(field)) {
      report(
        'error',
        'ownership',
        ['target', 'createOnly', i],
        `createOnly names "${field}", which target.write does not allow`,
        'a create-only field must also be in target.write',
      );
    }
  });
  const sum = contract.reconcile.sum;
  if (sum?.from !== undefined) {
    checkExpression(report, doc, ['reconcile', 'sum', 'from'], sum.from);
  } else if (sum && !written.has(sum.field)) {
    report(
      'error',
      'reconcile',
      ['reconcile', 'sum', 'field'],
      `reconcile sums "${sum.field}", which the mapping does not write`,
      'give reconcile.sum.from, a JSONata expression for the expected value, for fields Odoo computes',
    );
  }
  lintReconcileFigures(contract, report, doc);

  lintLifecycle(contract, report, doc);

  // The rules written one a file (rules/): the variables the expressions read, and the
  // enrichment they read it from.
  const input = ruleInput(contract);
  for (const rule of [...CONTRACT_RULES, ...(enrichSchemaUsable ? ENRICH_SCHEMA_RULES : [])])
    for (const found of rule(input))
      report(
        found.severity,
        found.rule,
        found.at,
        found.message,
        found.hint,
        found.position === undefined ? undefined : doc.lineWithin(found.at, found.position),
      );

  let references: ReferenceUse[] = [];
  try {
    // Lifecycle expressions name reference data too (the rounding product of an order).
    references = [
      contract.target.mapping,
      ...(contract.target.lifecycle ?? []).flatMap((step) =>
        LIFECYCLE_EXPRESSIONS.flatMap((key) => step[key] ?? []),
      ),
    ].flatMap(referenceUses);
  } catch {
    // A mapping that does not parse is already reported above.
  }

  const ok = !findings.some((f) => f.severity === 'error');
  return { findings, checked: ok ? { doc, contract, mapping, references } : undefined };
}

/** How a check reports a finding, at a key path (or a line within its value). */
type Report = (
  severity: Finding['severity'],
  rule: string,
  keyPath: KeyPath,
  message: string,
  hint?: string,
  line?: number,
) => void;

/**
 * A JSON Schema of the contract (the event's, or the enriched object's at `at`): only 2020-12
 * keywords, valid against the meta-schema, compilable; each field described when `described`,
 * and personal-looking fields marked. Field paths in findings start at `root` (`$`, `$contact`).
 * Says whether the schema is usable by the rules that walk it.
 */
function lintSchema(
  schema: JsonSchema,
  at: KeyPath,
  report: Report,
  options: { root: string; described: boolean },
): boolean {
  let usable = true;
  forEachSchemaNode(schema, at, (node, keyPath) => {
    for (const key of Object.keys(node)) {
      if (!SCHEMA_KEYWORDS.has(key)) {
        usable = false;
        const suggestion = closest(key, SCHEMA_KEYWORDS);
        report(
          'error',
          'schema-keyword',
          [...keyPath, key],
          `"${key}" is not a JSON Schema 2020-12 keyword`,
          suggestion
            ? `did you mean "${suggestion}"?`
            : 'remove it, or put a note in "description"',
        );
      }
    }
  });
  const ajv = createAjv();
  if (usable && !ajv.validateSchema(schema)) {
    usable = false;
    // The meta-schema explains one mistake several ways (enum, then array, then anyOf): keep
    // the first explanation for each place.
    const seen = new Set<string>();
    const errors = (ajv.errors ?? []).filter((e) => {
      if (e.keyword === 'anyOf' || e.keyword === 'oneOf' || seen.has(e.instancePath)) return false;
      seen.add(e.instancePath);
      return true;
    });
    for (const error of errors) {
      report(
        'error',
        'schema-invalid',
        [...at, ...pointerToKeyPath(error.instancePath)],
        `invalid JSON Schema: ${error.message ?? 'not valid'}${
          error.keyword === 'enum'
            ? ` ${JSON.stringify((error.params as { allowedValues?: unknown }).allowedValues)}`
            : ''
        }`,
        'see https://json-schema.org/draft/2020-12 for what the keyword takes',
      );
    }
  }
  if (usable) {
    try {
      ajv.compile(schema);
    } catch (error) {
      usable = false;
      report(
        'error',
        'schema-invalid',
        at,
        `the schema does not compile: ${(error as Error).message}`,
        'fix the keyword named above; a $ref must point inside this schema (#/$defs/...)',
      );
    }
  }

  walkFields(schema, (field) => {
    const keyPath = [...at, ...field.keyPath];
    const fieldPath = `${options.root}${field.fieldPath.slice(1)}`;
    if (
      options.described &&
      (typeof field.schema.description !== 'string' || field.schema.description.trim() === '')
    ) {
      report(
        'error',
        'field-description',
        keyPath,
        `field ${fieldPath} has no description`,
        'say what the field means to a consumer, its unit and format (e.g. "unix seconds")',
      );
    }
    const types = typesOf(field.schema);
    const onlyFlags = types.size > 0 && [...types].every((t) => t === 'boolean' || t === 'null');
    const kind = onlyFlags ? undefined : personalDataKind(field.name);
    if (kind && !field.parentPii && !carriesPii(field.written, schema)) {
      report(
        'warning',
        'personal-data',
        keyPath,
        `field ${fieldPath} looks like ${kind} but has no x-pii`,
        'add x-pii: hash (searchable pseudonym), mask or drop; or x-pii: none if it is not personal',
      );
    }
  });
  return usable;
}

/** A JSONata expression of the contract that must parse, reported on the line of its error. */
function checkExpression(report: Report, doc: SourceDocument, path: KeyPath, expression: string) {
  try {
    jsonata(expression);
  } catch (error) {
    const e = error as { message: string; position?: number };
    report(
      'error',
      'mapping-syntax',
      path,
      `the JSONata expression does not parse: ${e.message}`,
      'check brackets and quotes near that position',
      doc.lineWithin(path, e.position ?? 0),
    );
  }
}

/**
 * What the vendor said (reconcile.currency, amounts, state.when): JSONata that parses, and each
 * amount field once, since reconciliation keys the vendor's figures by field.
 */
function lintReconcileFigures(contract: ContractYaml, report: Report, doc: SourceDocument): void {
  const { currency, amounts = [], state } = contract.reconcile;
  const expressions: [KeyPath, string | undefined][] = [
    [['reconcile', 'currency'], currency],
    ...amounts.map((a, i): [KeyPath, string] => [['reconcile', 'amounts', i, 'from'], a.from]),
    [['reconcile', 'state', 'when'], state?.when],
  ];
  for (const [path, expression] of expressions) {
    if (expression !== undefined) checkExpression(report, doc, path, expression);
  }
  const seen = new Set<string>();
  amounts.forEach((amount, i) => {
    if (seen.has(amount.field))
      report(
        'error',
        'reconcile',
        ['reconcile', 'amounts', i, 'field'],
        `reconcile.amounts names "${amount.field}" twice`,
        'compare each Odoo field with one vendor figure',
      );
    seen.add(amount.field);
  });
}

/** The models each lifecycle step moves: posted documents, and orders. */
const STEP_MODELS: Readonly<Record<LifecycleStepYaml['step'], readonly string[]>> = {
  post: ['account.move', 'account.payment'],
  reconcile: ['account.move', 'account.payment'],
  totals: ['sale.order'],
  confirm: ['sale.order'],
  cancel: ['sale.order'],
  'credit-note': ['account.payment'],
};

/** The expression keys each step reads; any other is misplaced. */
const STEP_KEYS: Readonly<Record<LifecycleStepYaml['step'], readonly string[]>> = {
  post: ['total'],
  reconcile: ['with'],
  totals: ['total', 'tax', 'rounding'],
  confirm: ['when'],
  cancel: ['when'],
  'credit-note': ['of'],
};

/**
 * A step that must come after another: always (`needs`: it does nothing without the other), or
 * only when both are declared.
 */
const STEP_AFTER: readonly { step: string; after: string; needs: boolean; why: string }[] = [
  { step: 'reconcile', after: 'post', needs: true, why: 'only posted entries are reconciled' },
  {
    step: 'confirm',
    after: 'totals',
    needs: false,
    why: 'an order is confirmed only once its totals match',
  },
];

/**
 * The lifecycle's steps: each on a model it moves, at most once, in an order that works (post
 * before reconcile, totals before confirm), each key on the step that reads it, and JSONata
 * that parses.
 */
function lintLifecycle(contract: ContractYaml, report: Report, doc: SourceDocument): void {
  const steps = contract.target.lifecycle ?? [];
  const model = contract.target.model;
  const seen = new Set<string>();
  steps.forEach((step, i) => {
    const at = ['target', 'lifecycle', i];
    const models = STEP_MODELS[step.step] ?? [];
    if (!models.includes(model))
      report(
        'error',
        'lifecycle',
        [...at, 'step'],
        `step ${step.step} on ${model}: it moves ${models.join(' and ')} only`,
        'remove the step, or write a model it moves',
      );
    if (seen.has(step.step))
      report(
        'error',
        'lifecycle',
        [...at, 'step'],
        `step ${step.step} appears twice`,
        'declare each step once',
      );
    for (const rule of STEP_AFTER)
      if (
        step.step === rule.step &&
        !seen.has(rule.after) &&
        (rule.needs || steps.some((s) => s.step === rule.after))
      )
        report(
          'error',
          'lifecycle',
          [...at, 'step'],
          `${rule.step} comes before ${rule.after}, but ${rule.why}`,
          `put the ${rule.after} step first`,
        );
    seen.add(step.step);
    for (const key of LIFECYCLE_EXPRESSIONS) {
      const expression = step[key];
      if (expression === undefined) continue;
      if (!(STEP_KEYS[step.step] ?? []).includes(key)) {
        const owners = Object.entries(STEP_KEYS)
          .filter(([, keys]) => keys.includes(key))
          .map(([name]) => name);
        report(
          'error',
          'lifecycle',
          [...at, key],
          `"${key}" belongs to ${owners.join(' or ')}, not ${step.step}`,
          `move it to the ${owners.join(' or ')} step`,
        );
        continue;
      }
      checkExpression(report, doc, [...at, key], expression);
    }
  });
}

/**
 * A mapping's `$reference` calls against the declared crosswalks: the crosswalk must be a
 * literal that exists, and a literal key must be one of its entries.
 */
function lintReferenceUses(
  checked: CheckedContract,
  crosswalks: ReadonlyMap<string, CheckedCrosswalk>,
  failing: ReadonlySet<string>,
): Finding[] {
  const { doc } = checked;
  const mappingPath = ['target', 'mapping'];
  const finding = (use: ReferenceUse, rule: string, message: string, hint: string): Finding => ({
    severity: 'error',
    rule,
    file: doc.file,
    line: doc.lineWithin(mappingPath, use.position),
    path: 'target.mapping',
    message,
    hint,
  });
  const findings: Finding[] = [];
  for (const use of checked.references) {
    if (use.crosswalk === undefined) {
      findings.push(
        finding(
          use,
          'reference-use',
          'the mapping calls $reference with a computed crosswalk name, so the build cannot tell which reference data it needs',
          "name the crosswalk literally: $reference('currencies', currency)",
        ),
      );
      continue;
    }
    const crosswalk = crosswalks.get(use.crosswalk);
    if (!crosswalk) {
      findings.push(
        finding(
          use,
          'reference-unknown',
          failing.has(use.crosswalk)
            ? `the mapping uses crosswalk ${use.crosswalk}, whose file has errors (reported above)`
            : `the mapping uses crosswalk ${use.crosswalk}, which contracts/reference/ does not declare`,
          failing.has(use.crosswalk)
            ? `fix contracts/reference/${use.crosswalk}.yaml`
            : `add contracts/reference/${use.crosswalk}.yaml, or use one of ${[...crosswalks.keys()].join(', ') || '(none declared)'}`,
        ),
      );
      continue;
    }
    if (use.key !== undefined && !Object.hasOwn(crosswalk.crosswalk.entries, use.key)) {
      findings.push(
        finding(
          use,
          'reference-unknown',
          `the mapping uses ${use.crosswalk} entry ${JSON.stringify(use.key)}, which ${crosswalk.doc.file} does not declare`,
          `declare it in ${crosswalk.doc.file} (keys look like: ${crosswalk.crosswalk.key})`,
        ),
      );
    }
  }
  return findings;
}

function lintFlows(doc: SourceDocument): { findings: Finding[]; flows?: FlowsYaml } {
  const findings: Finding[] = [...doc.syntaxErrors];
  if (doc.data === undefined) return { findings };
  const data = doc.data as { flows?: unknown };
  const report = (keyPath: KeyPath, message: string, hint: string) =>
    findings.push({
      severity: 'error',
      rule: 'flows-format',
      file: doc.file,
      line: doc.lineOf(keyPath),
      path: dotted(keyPath),
      message,
      hint,
    });
  if (!isSchemaObject(data) || !isSchemaObject(data.flows)) {
    report(
      ['flows'],
      'expected a "flows" map of flow name to { description, fifo }',
      'see the comment at the top of contracts/flows.yaml',
    );
    return { findings };
  }
  for (const [name, flow] of Object.entries(data.flows)) {
    if (!/^[a-z][a-z0-9-]*$/.test(name))
      report(
        ['flows', name],
        `flow name "${name}" must be lower-case letters, digits and dashes`,
        'it becomes part of queue names',
      );
    if (!isSchemaObject(flow)) {
      report(
        ['flows', name],
        'expected { description, fifo }',
        'give each flow a description and fifo: true | false',
      );
      continue;
    }
    if (typeof flow.description !== 'string')
      report(['flows', name, 'description'], 'missing description', 'say what the flow carries');
    if (typeof flow.fifo !== 'boolean')
      report(
        ['flows', name, 'fifo'],
        'fifo must be true or false',
        'true keeps each entity in order; false gives more throughput',
      );
    for (const key of Object.keys(flow)) {
      if (!['description', 'fifo'].includes(key))
        report(['flows', name, key], `unknown key "${key}"`, 'a flow takes description and fifo');
    }
  }
  return findings.length > 0 ? { findings } : { findings, flows: data as unknown as FlowsYaml };
}

/** Lints the flows file, the crosswalks and every contract, then the rules that span them. */
export function lintContracts(input: {
  flows: SourceDocument;
  contracts: readonly SourceDocument[];
  /** contracts/reference/*.yaml; none means no mapping may use `$reference`. */
  reference?: readonly SourceDocument[];
}): LintResult {
  const { findings, flows } = lintFlows(input.flows);
  const referenceLint = lintReferenceData(input.reference ?? []);
  findings.push(...referenceLint.findings);
  const crosswalks = new Map(referenceLint.crosswalks.map((c) => [c.crosswalk.crosswalk, c]));
  const failingCrosswalks = new Set(
    (input.reference ?? [])
      .map((doc) => crosswalkNameOf(doc.file))
      .filter((name): name is string => name !== undefined && !crosswalks.has(name)),
  );
  const contracts: CheckedContract[] = [];
  for (const doc of input.contracts) {
    const result = lintContract(doc, flows);
    findings.push(...result.findings);
    if (result.checked) {
      findings.push(...lintReferenceUses(result.checked, crosswalks, failingCrosswalks));
      contracts.push(result.checked);
    }
  }

  const byId = new Map<string, CheckedContract>();
  const routes = new Map<string, CheckedContract>();
  const sources = new Map<string, CheckedContract>();
  for (const checked of contracts) {
    const { contract, doc } = checked;
    const key = `${contract.id}@${contract.version.split('.')[0]}`;
    const other = byId.get(key);
    if (other) {
      findings.push({
        severity: 'error',
        rule: 'duplicate-contract',
        file: doc.file,
        line: doc.lineOf(['id']),
        path: 'id',
        message: `${contract.id} major ${key.split('@')[1]} is also defined in ${other.doc.file}`,
        hint: 'one file per contract and major version',
      });
    }
    byId.set(key, checked);

    // Routing needs one way to read the event type per source, before any contract is chosen.
    const first = sources.get(contract.source.system);
    if (!first) {
      sources.set(contract.source.system, checked);
    } else {
      for (const part of ['signature', 'batch', 'eventType'] as const) {
        const a = first.contract.source[part] ?? (part === 'batch' ? 'none' : undefined);
        const b = contract.source[part] ?? (part === 'batch' ? 'none' : undefined);
        if (JSON.stringify(a) !== JSON.stringify(b)) {
          findings.push({
            severity: 'error',
            rule: 'source-consistency',
            file: doc.file,
            line: doc.lineOf(['source', part]),
            path: `source.${part}`,
            message: `source ${contract.source.system} uses ${JSON.stringify(b)} here but ${JSON.stringify(a)} in ${first.doc.file}`,
            hint: `every contract of one source shares its ${part}: the receiver reads it before choosing a contract`,
          });
        }
      }
    }

    contract.source.events.forEach((event, i) => {
      const route = `${contract.source.system} ${event}`;
      const owner = routes.get(route);
      if (owner && owner.contract.id !== contract.id) {
        findings.push({
          severity: 'error',
          rule: 'duplicate-route',
          file: doc.file,
          line: doc.lineOf(['source', 'events', i]),
          path: `source.events[${i}]`,
          message: `${contract.source.system} event "${event}" is also routed by ${owner.contract.id} (${owner.doc.file})`,
          hint: 'an event type routes to exactly one contract; remove it from one of them',
        });
      } else if (owner && contract.status === owner.contract.status) {
        // Two majors of one contract may both route an event type while producers migrate,
        // but only one may be active: the deprecated one keeps the old shape working.
        findings.push({
          severity: 'error',
          rule: 'duplicate-route',
          file: doc.file,
          line: doc.lineOf(['source', 'events', i]),
          path: `source.events[${i}]`,
          message: `${contract.source.system} event "${event}" is routed by two ${contract.status} majors of ${contract.id} (also ${owner.doc.file})`,
          hint: 'mark the older major status: deprecated so the newer one owns the route',
        });
      } else if (!owner || owner.contract.status === 'deprecated') {
        routes.set(route, checked);
      }
    });
  }

  if (flows) {
    const used = new Set(contracts.map((c) => c.contract.flow));
    for (const name of Object.keys(flows.flows)) {
      if (!used.has(name) && contracts.length === input.contracts.length) {
        findings.push({
          severity: 'warning',
          rule: 'flow-unused',
          file: input.flows.file,
          line: input.flows.lineOf(['flows', name]),
          path: `flows.${name}`,
          message: `flow "${name}" has no contract`,
          hint: 'remove it, or it deploys an idle queue and worker',
        });
      }
    }
  }

  const failed = new Set(findings.filter((f) => f.severity === 'error').map((f) => f.file));
  return {
    findings,
    contracts: contracts.filter((c) => !failed.has(c.doc.file)),
    flows,
    reference: referenceLint.crosswalks,
  };
}
