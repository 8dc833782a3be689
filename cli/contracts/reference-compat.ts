/**
 * What `contracts check` says about reference data: an entry (or a whole crosswalk) removed
 * while a contract still uses it breaks that contract, as a removed field would: events that
 * resolved yesterday would be dead-lettered today. A mapping that reads its key from the event
 * (`$reference('currencies', currency)`) may use every entry of the crosswalk.
 */
import type { ContractChange } from './check.ts';
import type { ContractYaml } from './contract-file.ts';
import type { CrosswalkYaml } from './reference-file.ts';
import { referenceUses } from './reference-usage.ts';
import type { SourceDocument } from './source-document.ts';

interface Crosswalk {
  readonly file: string;
  readonly model?: string;
  readonly entries: Readonly<Record<string, { find?: unknown }>>;
}

/** Crosswalks by name, read leniently: the base is compared as it was written. */
function crosswalksOf(docs: readonly SourceDocument[]): Map<string, Crosswalk> {
  const found = new Map<string, Crosswalk>();
  for (const doc of docs) {
    const data = doc.data as Partial<CrosswalkYaml> | undefined;
    if (!data || typeof data.crosswalk !== 'string' || typeof data.entries !== 'object') continue;
    found.set(data.crosswalk, {
      file: doc.file,
      ...(typeof data.model === 'string' ? { model: data.model } : {}),
      entries: (data.entries ?? {}) as Crosswalk['entries'],
    });
  }
  return found;
}

interface User {
  readonly file: string;
  readonly label: string;
  /** Literal keys, or `*` when a key comes from the event. */
  readonly keys: ReadonlySet<string>;
}

/** Per crosswalk, the contracts whose mappings use it. */
function usersOf(contracts: readonly { doc: SourceDocument; contract: ContractYaml }[]) {
  const users = new Map<string, User[]>();
  for (const { doc, contract } of contracts) {
    let uses: ReturnType<typeof referenceUses> = [];
    try {
      uses = referenceUses(contract.target.mapping);
    } catch {
      continue; // a mapping that does not parse is lint's to report
    }
    const byCrosswalk = new Map<string, Set<string>>();
    for (const use of uses) {
      if (use.crosswalk === undefined) continue;
      const keys = byCrosswalk.get(use.crosswalk) ?? new Set<string>();
      keys.add(use.key ?? '*');
      byCrosswalk.set(use.crosswalk, keys);
    }
    for (const [crosswalk, keys] of byCrosswalk)
      users.set(crosswalk, [
        ...(users.get(crosswalk) ?? []),
        { file: doc.file, label: `${contract.id}@${contract.version}`, keys },
      ]);
  }
  return users;
}

const uses = (user: User, key: string) => user.keys.has('*') || user.keys.has(key);

export function referenceChanges(
  base: readonly SourceDocument[],
  head: readonly SourceDocument[],
  headContracts: readonly { doc: SourceDocument; contract: ContractYaml }[],
): ContractChange[] {
  const before = crosswalksOf(base);
  const after = crosswalksOf(head);
  const users = usersOf(headContracts);
  const changes: ContractChange[] = [];
  for (const [name, old] of before) {
    const now = after.get(name);
    for (const user of users.get(name) ?? []) {
      if (now && old.model && now.model && old.model !== now.model) {
        changes.push({
          severity: 'break',
          file: now.file,
          contract: user.label,
          path: `${name}.model`,
          kind: 'reference-model-changed',
          old: old.model,
          new: now.model,
          why: `${user.file} resolves ${name} entries to ${old.model} records; its events would now write ${now.model} ids into the same fields. Give the new model a crosswalk of its own`,
        });
        continue;
      }
      for (const [key, entry] of Object.entries(old.entries)) {
        if (!uses(user, key)) continue;
        const current = now && Object.hasOwn(now.entries, key) ? now.entries[key] : undefined;
        if (!current) {
          changes.push({
            severity: 'break',
            file: now?.file ?? old.file,
            contract: user.label,
            path: `${name}.entries[${JSON.stringify(key)}]`,
            kind: now ? 'reference-entry-removed' : 'reference-crosswalk-removed',
            old: JSON.stringify(entry.find ?? {}),
            new: '(removed)',
            why: `${user.file} still uses ${name}${user.keys.has('*') ? ' with keys from the event' : ` entry ${JSON.stringify(key)}`}: its events with ${JSON.stringify(key)} would fail (reference-not-declared) instead of applying. Keep the entry until no contract needs it`,
          });
        } else if (JSON.stringify(current.find) !== JSON.stringify(entry.find)) {
          changes.push({
            severity: 'warning',
            file: now?.file ?? old.file,
            contract: user.label,
            path: `${name}.entries[${JSON.stringify(key)}].find`,
            kind: 'reference-entry-changed',
            old: JSON.stringify(entry.find ?? {}),
            new: JSON.stringify(current.find ?? {}),
            why: 'events from now on resolve to the record the new keys find; records written before keep the old one. Run `spine reference check` before deploying',
          });
        }
      }
    }
  }
  return changes;
}
