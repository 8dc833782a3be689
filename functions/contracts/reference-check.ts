/**
 * Resolves every crosswalk entry against a live Odoo, with the query relation resolution runs
 * at event time (the entry's keys, archived records included), so what this reports resolved
 * is what events will find. Also says what the event-time query cannot: an archived record, and
 * keys that match more than one record (the event would take whichever Odoo lists first).
 */
import type { FieldInfo, OdooClient } from '../odoo/client.ts';
import { OdooAccessDenied } from '../odoo/errors/odoo-access-denied.ts';
import { OdooError } from '../odoo/errors/odoo-error.ts';
import type { CompiledCrosswalk, CompiledReferenceEntry, ReferenceValue } from './model.ts';

export type ReferenceStatus = 'resolved' | 'missing' | 'inactive' | 'ambiguous' | 'unresolvable';

export interface ReferenceResolution {
  readonly crosswalk: string;
  readonly key: string;
  readonly model: string;
  readonly find: Readonly<Record<string, ReferenceValue>>;
  readonly status: ReferenceStatus;
  /** The record events resolve to, when there is one. */
  readonly recordId?: number;
  /** Every record the keys match, when there are several. */
  readonly recordIds?: readonly number[];
  /** Why it is not resolved, in a line. */
  readonly detail?: string;
  /** What to do in Odoo: the entry's own instruction, or how to fix the entry. */
  readonly action?: string;
}

export interface ReferenceCheckReport {
  readonly ok: boolean;
  readonly checked: number;
  readonly counts: Readonly<Record<ReferenceStatus, number>>;
  readonly entries: readonly ReferenceResolution[];
}

export interface ReferenceCheckOptions {
  /** Called after each crosswalk, for progress on long checks. */
  readonly onProgress?: (progress: { crosswalk: string; done: number; total: number }) => void;
}

/** The same domain relation resolution searches with at event time. */
export function referenceDomain(entry: CompiledReferenceEntry): unknown[] {
  return Object.entries(entry.find).map(([field, value]) => [field, '=', value]);
}

/** Fields of `find` this Odoo does not have on the model (`company_id.name` is checked by its head). */
function unknownFields(entry: CompiledReferenceEntry, fields: Record<string, FieldInfo>): string[] {
  return Object.keys(entry.find).filter((path) => !((path.split('.')[0] ?? path) in fields));
}

/** A refusal about this model or entry; a bad credential or an unreachable Odoo stops the check. */
function permanent(error: unknown): error is OdooError {
  return error instanceof OdooError && !error.retryable && !(error instanceof OdooAccessDenied);
}

async function resolveEntry(
  client: OdooClient,
  crosswalk: CompiledCrosswalk,
  entry: CompiledReferenceEntry,
  hasActive: boolean,
): Promise<Omit<ReferenceResolution, 'crosswalk' | 'key' | 'model' | 'find'>> {
  const records = await client.searchRead(crosswalk.model, referenceDomain(entry), {
    fields: hasActive ? ['id', 'active'] : ['id'],
    limit: 2,
    context: { active_test: false },
  });
  const [first, second] = records;
  if (!first)
    return {
      status: 'missing',
      detail: `no ${crosswalk.model} record has ${describeFind(entry)}`,
      action: entry.create,
    };
  if (second)
    return {
      status: 'ambiguous',
      recordId: first.id,
      recordIds: records.map((r) => r.id),
      detail: `several ${crosswalk.model} records have ${describeFind(entry)}; events would take ${crosswalk.model} ${first.id}, the first Odoo lists`,
      action: `add keys to the entry's find in ${crosswalk.file} (company_id.name, type_tax_use, ...) so that exactly one record matches, or archive the duplicate`,
    };
  if (hasActive && first.active === false)
    return {
      status: 'inactive',
      recordId: first.id,
      detail: `${crosswalk.model} ${first.id} is archived`,
      action: `unarchive ${crosswalk.model} ${first.id} in Odoo (or: ${entry.create.trim()})`,
    };
  return { status: 'resolved', recordId: first.id };
}

export function describeFind(entry: CompiledReferenceEntry): string {
  return Object.entries(entry.find)
    .map(([field, value]) => `${field} = ${JSON.stringify(value)}`)
    .join(' and ');
}

/** Resolves every entry of `crosswalks`; `ok` only when each one finds exactly one active record. */
export async function checkReferenceData(
  client: OdooClient,
  crosswalks: readonly CompiledCrosswalk[],
  options: ReferenceCheckOptions = {},
): Promise<ReferenceCheckReport> {
  const entries: ReferenceResolution[] = [];
  let done = 0;
  for (const crosswalk of crosswalks) {
    const all = Object.values(crosswalk.entries);
    let fields: Record<string, FieldInfo> | undefined;
    let unreadable: string | undefined;
    try {
      fields = await client.fieldsGet(crosswalk.model);
    } catch (error) {
      // A model this Odoo lacks (its app not installed) or may not read: every entry is named.
      if (!permanent(error)) throw error;
      unreadable = `Odoo refused to describe ${crosswalk.model}: ${error.message}`;
    }
    for (const entry of all) {
      const base = {
        crosswalk: crosswalk.name,
        key: entry.key,
        model: crosswalk.model,
        find: entry.find,
      };
      const missingFields = fields ? unknownFields(entry, fields) : [];
      if (!fields || missingFields.length > 0) {
        entries.push({
          ...base,
          status: 'unresolvable',
          detail:
            unreadable ?? `this Odoo's ${crosswalk.model} has no field ${missingFields.join(', ')}`,
          action: fields
            ? `find the record by fields this Odoo version has (see ${crosswalk.file})`
            : `install the Odoo app that brings ${crosswalk.model} and give Spine's Odoo user read access to it`,
        });
        continue;
      }
      try {
        entries.push({
          ...base,
          ...(await resolveEntry(client, crosswalk, entry, 'active' in fields)),
        });
      } catch (error) {
        if (!permanent(error)) throw error;
        entries.push({
          ...base,
          status: 'unresolvable',
          detail: `Odoo refused the search: ${error.message}`,
          action: `correct the entry's find in ${crosswalk.file}`,
        });
      }
    }
    done += all.length;
    options.onProgress?.({
      crosswalk: crosswalk.name,
      done,
      total: crosswalks.reduce((n, c) => n + Object.keys(c.entries).length, 0),
    });
  }
  const counts: Record<ReferenceStatus, number> = {
    resolved: 0,
    missing: 0,
    inactive: 0,
    ambiguous: 0,
    unresolvable: 0,
  };
  for (const entry of entries) counts[entry.status]++;
  return {
    ok: entries.every((e) => e.status === 'resolved'),
    checked: entries.length,
    counts,
    entries,
  };
}
