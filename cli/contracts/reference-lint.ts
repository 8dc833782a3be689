/**
 * Rules a crosswalk file (contracts/reference/<crosswalk>.yaml) must pass before it is compiled:
 * its format, a model reference data may point to, `find` fields that model has, and keys that
 * cannot be confused. Whether the records exist is `spine reference check`'s question, not lint's.
 */
import { readFileSync } from 'node:fs';
import { createAjv } from './ajv.ts';
import { closest } from './did-you-mean.ts';
import type { Finding } from './findings.ts';
import { dotted, pointerToKeyPath } from './key-paths.ts';
import {
  type CrosswalkYaml,
  crosswalkNameOf,
  REFERENCE_MODELS,
  RELATIONAL_FIELDS,
} from './reference-file.ts';
import type { KeyPath, SourceDocument } from './source-document.ts';

export interface CheckedCrosswalk {
  readonly doc: SourceDocument;
  readonly crosswalk: CrosswalkYaml;
}

const referenceFormat = JSON.parse(
  readFileSync(new URL('../../contracts/reference.schema.json', import.meta.url), 'utf8'),
) as { properties: Record<string, unknown>; $defs: { entry: { properties: object } } };

let formatValidator: ReturnType<ReturnType<typeof createAjv>['compile']> | undefined;
function validateFormat(data: unknown) {
  formatValidator ??= createAjv().compile(referenceFormat);
  formatValidator(data);
  return formatValidator.errors ?? [];
}

/** Keys a person would read as the same: case and spacing aside. */
const squeeze = (key: string) => key.replace(/\s+/g, ' ').trim().toLowerCase();

function lintCrosswalk(doc: SourceDocument): { findings: Finding[]; checked?: CheckedCrosswalk } {
  const findings: Finding[] = [...doc.syntaxErrors];
  if (doc.data === undefined) return { findings };
  const report = (
    severity: Finding['severity'],
    rule: string,
    keyPath: KeyPath,
    message: string,
    hint: string,
  ) =>
    findings.push({
      severity,
      rule,
      file: doc.file,
      // An entry is named by its key: point at the key's line, not at its value's.
      line: keyPath[0] === 'entries' ? doc.lineOfKey(keyPath) : doc.lineOf(keyPath),
      path: dotted(keyPath) || undefined,
      message,
      hint,
    });

  for (const error of validateFormat(doc.data)) {
    const keyPath = pointerToKeyPath(error.instancePath);
    const params = error.params as { additionalProperty?: string; missingProperty?: string };
    if (error.keyword === 'additionalProperties') {
      const extra = String(params.additionalProperty);
      const inEntry = keyPath[0] === 'entries' && keyPath.length === 2;
      const known = Object.keys(
        inEntry ? referenceFormat.$defs.entry.properties : referenceFormat.properties,
      );
      const suggestion = closest(extra, known);
      report(
        'error',
        'reference-format',
        [...keyPath, extra],
        `unknown key "${extra}"`,
        suggestion
          ? `did you mean "${suggestion}"?`
          : `${inEntry ? 'an entry' : 'a crosswalk'} takes ${known.join(', ')}`,
      );
    } else if (error.keyword === 'required') {
      report(
        'error',
        'reference-format',
        keyPath,
        `missing required key "${String(params.missingProperty)}"${keyPath.length ? ` in ${dotted(keyPath)}` : ''}`,
        'see contracts/reference.schema.json for what a crosswalk and its entries take',
      );
    } else if (error.keyword !== 'anyOf') {
      report(
        'error',
        'reference-format',
        keyPath,
        error.message ?? 'is not valid',
        'see contracts/reference.schema.json for what this key takes',
      );
    } else {
      report(
        'error',
        'reference-format',
        keyPath,
        'a find value is a non-empty string, a number or true/false',
        'write the value the Odoo field holds, e.g. name: USD, amount: 6, price_include: false',
      );
    }
  }
  if (findings.length > 0) return { findings };
  const crosswalk = doc.data as CrosswalkYaml;

  const name = crosswalkNameOf(doc.file);
  if (name === undefined) {
    report(
      'error',
      'file-name',
      [],
      `${doc.file} is not named contracts/reference/<crosswalk>.yaml`,
      'put crosswalks directly in contracts/reference/, one file each',
    );
  } else if (crosswalk.crosswalk !== name) {
    report(
      'error',
      'file-name',
      ['crosswalk'],
      `crosswalk "${crosswalk.crosswalk}" does not match the file name (expected "${name}")`,
      'the crosswalk is named after its file: mappings call $reference with that name',
    );
  }

  const fields = REFERENCE_MODELS[crosswalk.model];
  if (!fields) {
    const suggestion = closest(crosswalk.model, Object.keys(REFERENCE_MODELS));
    report(
      'error',
      'reference-model',
      ['model'],
      `"${crosswalk.model}" is not a model reference data may point to`,
      suggestion
        ? `did you mean "${suggestion}"?`
        : `use one of ${Object.keys(REFERENCE_MODELS).join(', ')}; records events create (partners, products sold) are found by relations in the mapping, not crosswalks`,
    );
  }

  const seen = new Map<string, string>();
  for (const [key, entry] of Object.entries(crosswalk.entries)) {
    const same = seen.get(squeeze(key));
    if (same !== undefined)
      report(
        'error',
        'reference-duplicate-key',
        ['entries', key],
        `key ${JSON.stringify(key)} differs from ${JSON.stringify(same)} only in case or spacing`,
        'keep one spelling: mappings must build exactly one of them',
      );
    else seen.set(squeeze(key), key);
    if (!fields) continue;
    for (const path of Object.keys(entry.find)) {
      const [head = path, tail] = path.split('.');
      if (!fields.includes(head)) {
        const suggestion = closest(head, fields);
        report(
          'error',
          'reference-field',
          ['entries', key, 'find', path],
          `${crosswalk.model} has no field "${head}" to find a record by`,
          suggestion ? `did you mean "${suggestion}"?` : `use one of ${fields.join(', ')}`,
        );
      } else if (RELATIONAL_FIELDS.has(head) && tail === undefined) {
        report(
          'error',
          'reference-field',
          ['entries', key, 'find', path],
          `"${head}" is a record, not a value to compare with`,
          `name it through one of its fields, e.g. ${head}.name`,
        );
      } else if (!RELATIONAL_FIELDS.has(head) && tail !== undefined) {
        report(
          'error',
          'reference-field',
          ['entries', key, 'find', path],
          `"${head}" is not a relation, so "${path}" goes nowhere`,
          `compare ${head} itself`,
        );
      }
    }
  }

  const ok = !findings.some((f) => f.severity === 'error');
  return { findings, ...(ok ? { checked: { doc, crosswalk } } : {}) };
}

/** Lints every crosswalk file, then the rule that spans them (one file per crosswalk name). */
export function lintReferenceData(docs: readonly SourceDocument[]): {
  findings: Finding[];
  crosswalks: CheckedCrosswalk[];
} {
  const findings: Finding[] = [];
  const crosswalks: CheckedCrosswalk[] = [];
  const byName = new Map<string, CheckedCrosswalk>();
  for (const doc of docs) {
    const result = lintCrosswalk(doc);
    findings.push(...result.findings);
    if (!result.checked) continue;
    const other = byName.get(result.checked.crosswalk.crosswalk);
    if (other) {
      findings.push({
        severity: 'error',
        rule: 'reference-duplicate-crosswalk',
        file: doc.file,
        line: doc.lineOf(['crosswalk']),
        path: 'crosswalk',
        message: `crosswalk ${result.checked.crosswalk.crosswalk} is also declared in ${other.doc.file}`,
        hint: 'one file per crosswalk: merge the entries into one of them',
      });
      continue;
    }
    byName.set(result.checked.crosswalk.crosswalk, result.checked);
    crosswalks.push(result.checked);
  }
  return { findings, crosswalks };
}
