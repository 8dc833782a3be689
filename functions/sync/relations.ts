/**
 * Relations in mapped values (`{"@model", "@externalId", "@match", "@create"}`) become Odoo ids:
 * found by external id, else by natural keys (and linked), else created from `@create`. All
 * relations of a batch are resolved together, one upsert per related model.
 *
 * `{"@model", "@of": {"@model", "@externalId", "@field"}}` is the record a field of another
 * Spine record holds: a refund's partner is its original's (a Shopify refund names only its
 * order). It is read, never created, so the two cannot disagree; an original Odoo does not hold
 * yet fails retryably (its own event may still be on its way), naming the original.
 *
 * Errors name the model and the keys, never their values: the values are often personal (an
 * e-mail), and error messages travel to lineage, logs and dead-letter reports.
 */

import type { ReferenceTag } from '../contracts/reference.ts';
import { ReferenceNotFound } from '../errors/reference-not-found.ts';
import { RelationNotFound } from '../errors/relation-not-found.ts';
import type { OdooClient } from '../odoo/client.ts';
import { OdooError } from '../odoo/errors/index.ts';
import {
  type MatchKey,
  matchMany,
  type NaturalKeyLocks,
  type Normaliser,
  normaliseKey,
} from '../odoo/match.ts';
import {
  bareExternalId,
  EXTERNAL_ID_MODULE,
  type UpsertResult,
  type UpsertRow,
  upsertByExternalId,
} from '../odoo/upsert.ts';

export interface Relation {
  readonly '@model': string;
  readonly '@externalId'?: string;
  readonly '@match'?: Readonly<Record<string, unknown>>;
  readonly '@create'?: Readonly<Record<string, unknown>>;
  /** Set by `$reference`: the crosswalk entry behind the relation, named when Odoo lacks it. */
  readonly '@reference'?: ReferenceTag;
  /** The record is what a field of another Spine record holds; stands alone (no other keys). */
  readonly '@of'?: RelationOrigin;
}

/** Another Spine record (by external id, module `spine`) and its many2one field to read. */
export interface RelationOrigin {
  readonly '@model': string;
  readonly '@externalId': string;
  readonly '@field': string;
}

/** Not found: a declared crosswalk entry is named with its own instruction, anything else by its keys. */
function notFound(relation: Relation, keys: readonly MatchKey[]): Error {
  const reference = relation['@reference'];
  return reference
    ? new ReferenceNotFound(relation['@model'], reference.entry, reference.create)
    : new RelationNotFound(relation['@model'], `the given ${keyNames(keys) || 'relation'}`, false);
}

export function isRelation(value: unknown): value is Relation {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    typeof (value as Relation)['@model'] === 'string'
  );
}

/** A record an event refers to, for lineage: what it is, and whether this event created it. */
export interface RelatedRecord {
  readonly model: string;
  readonly recordId: number;
  /** `spine.<name>` when the record has a Spine external id. */
  readonly externalId?: string;
  /** created by this event, linked to it by a natural key, or found as it was. */
  readonly status: 'created' | 'linked' | 'found';
  /** The field that refers to it, e.g. `partner_id` or `order_line/product_id`. */
  readonly field: string;
}

/** One value set of a batch, and the external id of the record it becomes (names what it creates). */
export interface RelationSource {
  readonly values: Readonly<Record<string, unknown>>;
  readonly owner: string;
}

export type ResolvedValues =
  | { readonly values: Record<string, unknown>; readonly related: readonly RelatedRecord[] }
  | { readonly error: Error; readonly related: readonly RelatedRecord[] };

const NORMALISERS: Record<string, Normaliser> = { email: 'email', vat: 'vat', default_code: 'sku' };

function matchKeys(match: Readonly<Record<string, unknown>> | undefined): MatchKey[] {
  return Object.entries(match ?? {})
    .filter(([, value]) => value !== null && value !== undefined && value !== '')
    .map(([field, value]) => ({ field, value, normalise: NORMALISERS[field] ?? 'exact' }));
}

/** The fields of natural keys, for messages: `email`, `code and name`. */
function keyNames(keys: readonly MatchKey[]): string {
  return keys.map((k) => k.field).join(' and ');
}

interface Found {
  readonly relation: Relation;
  /** Which value set of the batch it belongs to. */
  readonly item: number;
  /** `order_line/product_id` */
  readonly field: string;
  /** `order_line_0_product_id`: unique within its value set, names a record it creates. */
  readonly slot: string;
}

function collect(value: unknown, item: number, path: string[], slot: string[], found: Found[]) {
  if (isRelation(value)) {
    found.push({ relation: value, item, field: path.join('/'), slot: slot.join('_') });
    for (const [key, nested] of Object.entries(value['@create'] ?? {}))
      collect(nested, item, [...path, key], [...slot, key], found);
  } else if (Array.isArray(value)) {
    for (const [i, entry] of value.entries())
      collect(entry, item, path, [...slot, String(i)], found);
  } else if (value && typeof value === 'object') {
    for (const [key, entry] of Object.entries(value))
      collect(entry, item, [...path, key], [...slot, key], found);
  }
}

interface Resolution {
  /** false: the original is there, its field is empty (a payment with no partner). */
  readonly id: number | false;
  readonly externalId?: string;
  readonly status: RelatedRecord['status'];
}

function resolution(result: UpsertResult): Resolution {
  return {
    id: result.id as number,
    externalId: `spine.${result.externalId}`,
    status: result.status === 'created' ? 'created' : result.linkedBy ? 'linked' : 'found',
  };
}

const referenceCache = new Map<string, number>();

/** Resolves every relation in `batch`; each value set gets its relations replaced by ids, or an error. */
export async function resolveRelations(
  client: OdooClient,
  batch: readonly RelationSource[],
  options: { readonly locks?: NaturalKeyLocks } = {},
): Promise<ResolvedValues[]> {
  const upsertOptions = options.locks ? { locks: options.locks } : {};
  const found: Found[] = [];
  batch.forEach((source, item) => {
    collect(source.values, item, [], [], found);
  });
  const resolved = new Map<Relation, Resolution | Error>();
  // Several relations to one record share its resolution; only the first one created it.
  const credited = new Set<string>();
  const settle = (relation: Relation, outcome: Resolution | Error, shared: string) => {
    if (outcome instanceof Error) resolved.set(relation, outcome);
    else {
      resolved.set(relation, credited.has(shared) ? { ...outcome, status: 'found' } : outcome);
      credited.add(shared);
    }
  };

  // Natural keys only: reference data (a country by code, a currency by name) is looked up
  // first, as records created below may refer to it; a record with @create (a guest buyer by
  // e-mail) is matched, else created, last.
  const natural = new Map<string, { keys: MatchKey[]; entries: Found[] }>();
  for (const entry of found.filter((f) => !f.relation['@externalId'] && !f.relation['@of'])) {
    const { relation } = entry;
    const keys = matchKeys(relation['@match']);
    if (keys.length === 0) {
      settle(
        relation,
        new RelationNotFound(
          relation['@model'],
          'a relation without @externalId or @match values',
          false,
        ),
        '',
      );
      continue;
    }
    const normalised = keys.map((k) => [k.field, normaliseKey(k.normalise, k.value)]);
    const group = `${relation['@model']}|${relation['@create'] ? 'create' : 'find'}|${JSON.stringify(normalised)}`;
    const existing = natural.get(group);
    if (existing) existing.entries.push(entry);
    else natural.set(group, { keys, entries: [entry] });
  }

  const creatable: { keys: MatchKey[]; entries: Found[] }[] = [];
  for (const { keys, entries } of natural.values()) {
    const [first] = entries as [Found];
    const model = first.relation['@model'];
    if (first.relation['@create']) {
      creatable.push({ keys, entries });
      continue;
    }
    const cacheKey = `${client.config.url}|${model}|${JSON.stringify(keys)}`;
    let id = referenceCache.get(cacheKey);
    if (id === undefined) {
      const [record] = await client.searchRead(
        model,
        keys.map((k) => [k.field, '=', k.value]),
        { fields: ['id'], limit: 1, context: { active_test: false } },
      );
      id = record?.id;
      if (id !== undefined) referenceCache.set(cacheKey, id);
    }
    for (const { relation } of entries)
      settle(
        relation,
        id !== undefined ? { id, status: 'found' } : notFound(relation, keys),
        `${model}#${id}`,
      );
  }

  await resolveOrigins(
    client,
    found.filter((f) => f.relation['@of']),
    (item) => batch[item]?.owner ?? '',
    settle,
  );

  // External ids: one upsert per related model, creating from @create where allowed.
  const byModel = new Map<string, Found[]>();
  for (const entry of found.filter((f) => f.relation['@externalId'] && !f.relation['@of'])) {
    const model = entry.relation['@model'];
    byModel.set(model, [...(byModel.get(model) ?? []), entry]);
  }
  for (const [model, list] of byModel) {
    const rows = new Map<string, UpsertRow>();
    for (const { relation } of list) {
      const externalId = relation['@externalId'] as string;
      if (rows.has(externalId)) continue;
      const create = relation['@create']
        ? await substitute(relation['@create'], resolved)
        : undefined;
      rows.set(externalId, {
        externalId,
        values: create ?? {},
        // A related record is created from the event, never overwritten by it.
        createOnly: Object.keys(create ?? {}),
        match: matchKeys(relation['@match']),
        updateOnly: !create,
      });
    }
    const results = await upsertByExternalId(client, model, [...rows.values()], upsertOptions);
    const byId = new Map(results.map((r) => [r.externalId, r]));
    for (const { relation } of list) {
      const externalId = relation['@externalId'] as string;
      const result = byId.get(externalId);
      if (result?.id !== undefined && result.status !== 'failed')
        settle(relation, resolution(result), `${model}#${result.id}`);
      else if (result?.error) settle(relation, result.error, '');
      else
        settle(relation, new RelationNotFound(model, `external id spine.${externalId}`, true), '');
    }
  }

  const creatableByModel = new Map<string, typeof creatable>();
  for (const group of creatable) {
    const model = (group.entries[0] as Found).relation['@model'];
    creatableByModel.set(model, [...(creatableByModel.get(model) ?? []), group]);
  }
  for (const [model, groups] of creatableByModel) {
    const matched = await matchMany(client, model, groups);
    const missing: { group: (typeof groups)[number]; row: UpsertRow }[] = [];
    for (const [i, group] of groups.entries()) {
      const match = matched[i];
      if (match) {
        for (const { relation } of group.entries)
          settle(relation, { id: match.id, status: 'found' }, `${model}#${match.id}`);
        continue;
      }
      const first = group.entries[0] as Found;
      const create = await substitute(first.relation['@create'] ?? {}, resolved).catch(
        (error: unknown) => error as Error,
      );
      if (create instanceof Error) {
        for (const { relation } of group.entries) settle(relation, create, '');
        continue;
      }
      missing.push({
        group,
        row: {
          // Named after the record that refers to it, so a retry of the event finds what it created.
          externalId: `${batch[first.item]?.owner}__${first.slot}`,
          values: create,
          createOnly: Object.keys(create),
          match: group.keys,
        },
      });
    }
    if (missing.length === 0) continue;
    const results = await upsertByExternalId(
      client,
      model,
      missing.map((m) => m.row),
      upsertOptions,
    );
    missing.forEach(({ group }, i) => {
      const result = results[i];
      for (const { relation } of group.entries) {
        if (result?.id !== undefined && result.status !== 'failed')
          settle(relation, resolution(result), `${model}#${result.id}`);
        else
          settle(
            relation,
            result?.error ??
              new RelationNotFound(model, `the given ${keyNames(group.keys)}`, false),
            '',
          );
      }
    });
  }

  return Promise.all(
    batch.map(async (source, item) => {
      const related: RelatedRecord[] = [];
      for (const entry of found.filter((f) => f.item === item)) {
        const outcome = resolved.get(entry.relation);
        // Reference data found by natural keys (a currency, a country) is not traced per event.
        const traced =
          entry.relation['@externalId'] || entry.relation['@create'] || entry.relation['@of'];
        if (outcome && !(outcome instanceof Error) && outcome.id !== false && traced)
          related.push({
            model: entry.relation['@model'],
            recordId: outcome.id,
            ...(outcome.externalId ? { externalId: outcome.externalId } : {}),
            status: outcome.status,
            field: entry.field,
          });
      }
      try {
        return {
          values: (await substitute(source.values, resolved)) as Record<string, unknown>,
          related,
        };
      } catch (error) {
        return { error: error as Error, related };
      }
    }),
  );
}

/**
 * `@of` relations: one external-id search and one read per original model. The original is
 * Spine's own record, so a missing one is behind (retryable), never reference data to create.
 */
async function resolveOrigins(
  client: OdooClient,
  entries: readonly Found[],
  ownerOf: (item: number) => string,
  settle: (relation: Relation, outcome: Resolution | Error, shared: string) => void,
): Promise<void> {
  const byModel = new Map<string, Found[]>();
  for (const entry of entries) {
    const model = (entry.relation['@of'] as RelationOrigin)['@model'];
    byModel.set(model, [...(byModel.get(model) ?? []), entry]);
  }
  for (const [model, list] of byModel) {
    const origin = (entry: Found) => entry.relation['@of'] as RelationOrigin;
    const names = [...new Set(list.map((e) => bareExternalId(origin(e)['@externalId'])))];
    const fields = [...new Set(list.map((e) => origin(e)['@field']))];
    let records: Map<string, Record<string, unknown>>;
    try {
      const data = await client.searchRead(
        'ir.model.data',
        [
          ['module', '=', EXTERNAL_ID_MODULE],
          ['model', '=', model],
          ['name', 'in', names],
        ],
        { fields: ['name', 'res_id'] },
      );
      const ids = data.map((d) => Number(d.res_id));
      const read = ids.length > 0 ? await client.read(model, ids, fields) : [];
      const byId = new Map(read.map((r) => [r.id, r]));
      records = new Map(
        data.flatMap((d) => {
          const record = byId.get(Number(d.res_id));
          return record ? [[String(d.name), record] as const] : [];
        }),
      );
    } catch (error) {
      for (const { relation } of list) settle(relation, error as Error, '');
      continue;
    }
    for (const entry of list) {
      const { '@externalId': externalId, '@field': field } = origin(entry);
      const name = bareExternalId(externalId);
      const record = records.get(name);
      if (!record) {
        settle(
          entry.relation,
          new RelationNotFound(
            model,
            `external id ${EXTERNAL_ID_MODULE}.${name} (the original whose ${field} spine.${ownerOf(entry.item)} takes)`,
            true,
          ),
          '',
        );
        continue;
      }
      const value = record[field];
      const id = Array.isArray(value) ? value[0] : value;
      const resolved = typeof id === 'number' && id > 0 ? id : false;
      settle(
        entry.relation,
        { id: resolved, status: 'found' },
        resolved ? `${entry.relation['@model']}#${resolved}` : '',
      );
    }
  }
}

async function substitute(
  value: unknown,
  resolved: Map<Relation, Resolution | Error>,
): Promise<Record<string, unknown>> {
  const walk = (v: unknown): unknown => {
    if (isRelation(v)) {
      const outcome = resolved.get(v);
      if (outcome instanceof Error) throw outcome;
      if (outcome === undefined) throw notFound(v, matchKeys(v['@match']));
      return outcome.id;
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object')
      return Object.fromEntries(Object.entries(v).map(([k, inner]) => [k, walk(inner)]));
    return v;
  };
  return walk(value) as Record<string, unknown>;
}

export function isOdooError(error: unknown): error is OdooError {
  return error instanceof OdooError;
}
