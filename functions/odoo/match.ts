/**
 * Finding an existing record by natural keys, so a new source id is linked to the customer
 * Odoo already has instead of creating a second one. Keys are compared normalised: e-mail
 * trimmed and lower-cased, VAT without spaces or dots with its country prefix upper-cased, SKU
 * trimmed.
 */
import type { SpineError } from '../errors/spine-error.ts';
import type { Domain, OdooClient } from './client.ts';

export type Normaliser = 'email' | 'vat' | 'sku' | 'exact';

export interface MatchKey {
  /** The Odoo field compared, e.g. `email` or `default_code`. */
  readonly field: string;
  readonly value: unknown;
  readonly normalise: Normaliser;
}

export function normaliseKey(kind: Normaliser, value: unknown): string | undefined {
  if (value === null || value === undefined || value === false) return undefined;
  const text = String(value).trim();
  if (text === '') return undefined;
  switch (kind) {
    case 'email':
      return text.toLowerCase();
    case 'vat':
      return text.replace(/[\s.\-/]/g, '').toUpperCase();
    default:
      return text;
  }
}

/**
 * Locks on natural keys (`email=ada@example.com`) held while a record may be created with them,
 * so that two writers running side by side never both create one: a search alone cannot see a
 * record another transaction is creating right now.
 */
export interface NaturalKeyLocks {
  /**
   * Locks every key for this writer, or none: undefined when granted, else why not (a retryable
   * error: another writer is creating the record, and the retry will find it).
   */
  acquire(model: string, keys: readonly string[]): Promise<SpineError | undefined>;
  /** Ends this writer's locks, once the write they guard is known to be over. */
  release(model: string, keys: readonly string[]): Promise<void>;
}

/** Domain terms that find candidates for these normalised values; the caller re-checks them. */
function candidatesDomain(field: string, kind: Normaliser, values: string[]): Domain {
  let terms: unknown[][];
  // Stored e-mails may carry case and stray spaces: a contains-search finds them, the caller
  // keeps only exact matches after normalising.
  if (kind === 'email') terms = values.map((v) => [field, 'ilike', v.replace(/([%_\\])/g, '\\$1')]);
  // Stored VATs carry spaces and dots ("FR 12 345"): a % between characters finds them all.
  else if (kind === 'vat') terms = values.map((v) => [field, '=ilike', [...v].join('%')]);
  else return [[field, 'in', values]];
  return [...Array(Math.max(0, terms.length - 1)).fill('|'), ...terms];
}

/**
 * For each entry, the id of an existing record matching its first key that matches, in one
 * search per key field. A key matching several records takes the oldest (lowest id) and says so.
 */
export async function matchMany(
  client: OdooClient,
  model: string,
  entries: readonly { readonly keys: readonly MatchKey[] }[],
): Promise<({ id: number; key: MatchKey; ambiguous: boolean } | undefined)[]> {
  const results: ({ id: number; key: MatchKey; ambiguous: boolean } | undefined)[] = entries.map(
    () => undefined,
  );
  const fields = [
    ...new Set(entries.flatMap((e) => e.keys.map((k) => `${k.field}\u0000${k.normalise}`))),
  ];
  for (const entry of fields) {
    const [field, kind] = entry.split('\u0000') as [string, Normaliser];
    const pending = entries
      .map((e, i) => ({ i, key: e.keys.find((k) => k.field === field && k.normalise === kind) }))
      .filter(
        (p) => results[p.i] === undefined && p.key && normaliseKey(kind, p.key.value) !== undefined,
      );
    if (pending.length === 0) continue;
    const values = [...new Set(pending.map((p) => normaliseKey(kind, p.key?.value) as string))];
    const records = await client.searchRead(model, candidatesDomain(field, kind, values), {
      fields: [field],
      order: 'id',
    });
    const byValue = new Map<string, number[]>();
    for (const record of records) {
      const normalised = normaliseKey(kind, record[field]);
      if (normalised === undefined) continue;
      byValue.set(normalised, [...(byValue.get(normalised) ?? []), record.id]);
    }
    for (const { i, key } of pending) {
      const ids = byValue.get(normaliseKey(kind, key?.value) as string);
      if (ids && ids.length > 0 && key)
        results[i] = { id: Math.min(...ids), key, ambiguous: ids.length > 1 };
    }
  }
  return results;
}

/** The existing record matching the first of `keys` that matches anything, or undefined. */
export async function matchExisting(
  client: OdooClient,
  model: string,
  keys: readonly MatchKey[],
): Promise<number | undefined> {
  const [found] = await matchMany(client, model, [{ keys }]);
  return found?.id;
}
