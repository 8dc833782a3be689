/**
 * `spine contracts check --against <ref>`: compares every contract with its version at a git
 * ref and refuses a breaking change that is not a new major version.
 */
import { type ContractYaml, parseContractPath } from './contract-file.ts';
import { enrichChanges, enrichSchemaChanges } from './enrich-compat.ts';
import type { Finding } from './findings.ts';
import { hasErrors } from './findings.ts';
import { lintContracts } from './lint.ts';
import type { ContractSources } from './project.ts';
import { referenceChanges } from './reference-compat.ts';
import { diffSchemas, type SchemaChange } from './schema-diff.ts';
import type { SourceDocument } from './source-document.ts';

export interface ContractChange {
  readonly severity: 'break' | 'warning';
  readonly file: string;
  /** `stripe.customer@1.2.0` (the version in the working tree). */
  readonly contract: string;
  /**
   * A JSON path into the event, into the fetched object (`$contact.properties.email`), or a
   * contract key such as `target.externalId`.
   */
  readonly path: string;
  readonly kind: string;
  readonly old: string;
  readonly new: string;
  readonly why: string;
}

export interface CompatibilityReport {
  readonly ok: boolean;
  readonly compared: number;
  readonly breaking: number;
  readonly warnings: number;
  readonly changes: readonly ContractChange[];
  /** Lint errors in the working tree: a contract that does not lint cannot be compared. */
  readonly findings: readonly Finding[];
}

const STRICTNESS = { none: 0, backward: 1, forward: 1, full: 2 } as const;

function breaks(change: SchemaChange, mode: ContractYaml['compatibility']): boolean {
  switch (mode ?? 'backward') {
    case 'backward':
      return change.breaksBackward;
    case 'forward':
      return change.breaksForward;
    case 'full':
      return change.breaksBackward || change.breaksForward;
    default:
      return false;
  }
}

function semver(version: string): [number, number, number] {
  const [a = 0, b = 0, c = 0] = version.split('.').map(Number);
  return [a, b, c];
}

function compareVersions(a: string, b: string): number {
  const [x, y] = [semver(a), semver(b)];
  return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
}

type Change = Omit<ContractChange, 'severity' | 'file' | 'contract'>;

/** Changes outside the schema; the `breaking` ones break whoever relies on the contract. */
function targetChanges(
  before: ContractYaml,
  after: ContractYaml,
): (Change & { breaking: boolean })[] {
  const found: (Change & { breaking: boolean })[] = [];
  if (before.target.model !== after.target.model) {
    found.push({
      path: 'target.model',
      kind: 'target-model-changed',
      old: before.target.model,
      new: after.target.model,
      breaking: true,
      why: 'records already written live in the old model; events would now create a second copy elsewhere',
    });
  }
  if (before.target.externalId !== after.target.externalId) {
    found.push({
      path: 'target.externalId',
      kind: 'external-id-changed',
      old: before.target.externalId,
      new: after.target.externalId,
      breaking: true,
      why: 'records written under the old external id are no longer found, so every entity would be created again (duplicates)',
    });
  }
  for (const locator of ['eventId', 'entityKey'] as const) {
    const a = JSON.stringify(before.source[locator]);
    const b = JSON.stringify(after.source[locator]);
    if (a !== b) {
      found.push({
        path: `source.${locator}`,
        kind: `${locator}-changed`,
        old: a,
        new: b,
        breaking: true,
        why:
          locator === 'eventId'
            ? 'idempotency keys change, so a vendor retry of an event already applied would be applied again'
            : 'FIFO groups, the stale guard and external ids are keyed on the entity: its history is split in two',
      });
    }
  }
  for (const event of before.source.events) {
    if (!after.source.events.includes(event)) {
      found.push({
        path: 'source.events',
        kind: 'event-unrouted',
        old: event,
        new: '(not routed)',
        breaking: true,
        why: `"${event}" events would be answered 202 ignored and never reach Odoo`,
      });
    }
  }
  if (before.flow !== after.flow) {
    found.push({
      path: 'flow',
      kind: 'flow-changed',
      old: before.flow,
      new: after.flow,
      breaking: false,
      why: 'events in flight on the old flow queue or its DLQ must be drained or replayed there',
    });
  }
  if (JSON.stringify(before.target.match ?? []) !== JSON.stringify(after.target.match ?? [])) {
    found.push({
      path: 'target.match',
      kind: 'match-changed',
      old: JSON.stringify(before.target.match ?? []),
      new: JSON.stringify(after.target.match ?? []),
      breaking: false,
      why: 'new entities may link to different existing records than before',
    });
  }
  if (
    STRICTNESS[after.compatibility ?? 'backward'] < STRICTNESS[before.compatibility ?? 'backward']
  ) {
    found.push({
      path: 'compatibility',
      kind: 'compatibility-loosened',
      old: before.compatibility ?? 'backward',
      new: after.compatibility ?? 'backward',
      breaking: true,
      why: 'loosening the policy in the same change would let breaking edits through unchecked',
    });
  }
  return found;
}

interface Comparable {
  readonly doc: SourceDocument;
  readonly contract: ContractYaml;
}

/**
 * Contracts that can be compared: they parse and have the parts a comparison reads. A contract
 * that fails a lint rule is still compared, so a removed field is named even when it also
 * broke a locator; lint's errors are reported beside the changes.
 */
function comparable(sources: ContractSources): Map<string, Comparable> {
  const found = new Map<string, Comparable>();
  for (const doc of sources.contracts) {
    const data = doc.data as Partial<ContractYaml> | undefined;
    if (
      data &&
      typeof data === 'object' &&
      typeof data.id === 'string' &&
      typeof data.version === 'string' &&
      data.schema &&
      typeof data.schema === 'object' &&
      data.source &&
      typeof data.source === 'object' &&
      Array.isArray(data.source.events) &&
      data.target &&
      typeof data.target === 'object'
    ) {
      found.set(doc.file, { doc, contract: data as ContractYaml });
    }
  }
  return found;
}

export function checkContracts(base: ContractSources, head: ContractSources): CompatibilityReport {
  const headLint = lintContracts(head);
  // The base is what was accepted then; it is compared as written even if today's rules are stricter.
  const baseContracts = comparable(base);
  const headContracts = comparable(head);
  const changes: ContractChange[] = [];
  let compared = 0;

  const push = (
    severity: ContractChange['severity'],
    file: string,
    contract: string,
    change: Change,
  ) => changes.push({ severity, file, contract, ...change });

  for (const { contract, doc } of headContracts.values()) {
    const label = `${contract.id}@${contract.version}`;
    const before = baseContracts.get(doc.file);
    if (before) {
      compared++;
      const old = before.contract;
      const place = parseContractPath(doc.file);
      const nextMajor = place
        ? `${place.source}/${place.name}.v${place.major + 1}.yaml`
        : 'the next major file';
      const mode =
        STRICTNESS[contract.compatibility ?? 'backward'] >=
        STRICTNESS[old.compatibility ?? 'backward']
          ? contract.compatibility
          : old.compatibility;
      // The fetched object's schema is judged as the event's is.
      for (const change of [
        ...diffSchemas(old.schema, contract.schema),
        ...enrichSchemaChanges(old, contract),
      ]) {
        const { breaksBackward: _b, breaksForward: _f, ...rest } = change;
        if (breaks(change, mode)) {
          push('break', doc.file, label, {
            ...rest,
            why: `${change.why}. Keep this major compatible, or publish the change as contracts/${nextMajor}`,
          });
        } else if (
          change.kind === 'x-pii-changed' ||
          (mode === 'none' && (change.breaksBackward || change.breaksForward))
        ) {
          push('warning', doc.file, label, rest);
        }
      }
      for (const { breaking, ...rest } of [
        ...targetChanges(old, contract),
        ...enrichChanges(old, contract),
      ]) {
        push(
          breaking ? 'break' : 'warning',
          doc.file,
          label,
          breaking ? { ...rest, why: `${rest.why}. Publish it as contracts/${nextMajor}` } : rest,
        );
      }
      const order = compareVersions(contract.version, old.version);
      if (order < 0) {
        push('break', doc.file, label, {
          path: 'version',
          kind: 'version-lowered',
          old: old.version,
          new: contract.version,
          why: 'versions only go up; deployed lineage already names the higher version',
        });
      } else if (
        order === 0 &&
        JSON.stringify({ ...old, version: '' }) !== JSON.stringify({ ...contract, version: '' })
      ) {
        push('warning', doc.file, label, {
          path: 'version',
          kind: 'version-not-bumped',
          old: old.version,
          new: contract.version,
          why: 'the contract changed but its version did not: bump the minor (new optional field, mapping change) or the patch (descriptions)',
        });
      }
      continue;
    }

    // A new file: a new contract, or a new major of an existing one.
    const previous = [...baseContracts.values()]
      .filter(
        (b) =>
          b.contract.id === contract.id &&
          semver(b.contract.version)[0] < semver(contract.version)[0],
      )
      .sort((a, b) => compareVersions(b.contract.version, a.contract.version))[0];
    if (previous) {
      compared++;
      const schemaBreaks = [
        ...diffSchemas(previous.contract.schema, contract.schema),
        ...enrichSchemaChanges(previous.contract, contract),
      ].filter((c) => breaks(c, contract.compatibility));
      const otherBreaks = [
        ...targetChanges(previous.contract, contract),
        ...enrichChanges(previous.contract, contract),
      ].filter((c) => c.breaking);
      if (schemaBreaks.length === 0 && otherBreaks.length === 0) {
        push('warning', doc.file, label, {
          path: 'version',
          kind: 'major-not-needed',
          old: previous.contract.version,
          new: contract.version,
          why: `nothing in this major breaks ${previous.doc.file}; a minor version in place would spare producers a migration`,
        });
      }
    }
  }

  // Files that disappeared.
  for (const [file, before] of baseContracts) {
    if (head.contracts.some((d) => d.file === file)) continue;
    const successor = [...headContracts.values()].find((c) => c.contract.id === before.contract.id);
    if (before.contract.status === 'active') {
      push('break', file, `${before.contract.id}@${before.contract.version}`, {
        path: '(file)',
        kind: 'contract-removed',
        old: 'active',
        new: '(removed)',
        why: successor
          ? `producers still sending this major would be checked against ${successor.contract.id}@${successor.contract.version}; mark it deprecated first and remove it once traffic has moved`
          : 'its events would be answered 202 ignored and never reach Odoo; mark it deprecated first',
      });
    }
  }

  changes.push(...referenceChanges(base.reference, head.reference, [...headContracts.values()]));

  const findings = headLint.findings.filter((f) => f.severity === 'error');
  const breaking = changes.filter((c) => c.severity === 'break').length;
  return {
    ok: breaking === 0 && !hasErrors(findings),
    compared,
    breaking,
    warnings: changes.length - breaking,
    changes,
    findings,
  };
}
