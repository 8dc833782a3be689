/**
 * Reference data at event time: `$reference('currencies', code)` in a mapping turns a vendor
 * code into a relation to the Odoo record its crosswalk entry declares. A code the crosswalk
 * does not declare fails the event at once (permanent, naming crosswalk and key), never falls
 * back to a guess; a declared entry whose record Odoo lacks fails when relations are resolved.
 */
import { ReferenceNotDeclared } from '../errors/reference-not-declared.ts';
import type { CompiledContract, CompiledCrosswalk, ReferenceValue } from './model.ts';

/** What the relation resolver needs to name a crosswalk entry when Odoo has no record for it. */
export interface ReferenceTag {
  /** `currencies/USD` */
  readonly entry: string;
  /** The entry's instruction for creating the record. */
  readonly create: string;
}

/** A relation found by the entry's keys only: reference data is never created by an event. */
export interface ReferenceRelation {
  readonly '@model': string;
  readonly '@match': Readonly<Record<string, ReferenceValue>>;
  readonly '@reference': ReferenceTag;
}

const squeeze = (key: string) => key.replace(/\s+/g, ' ').trim().toLowerCase();

function nearestKey(crosswalk: CompiledCrosswalk, key: string): string | undefined {
  const wanted = squeeze(key);
  return Object.keys(crosswalk.entries).find((k) => squeeze(k) === wanted);
}

/**
 * The relation for `key` in the contract's crosswalk `name`. An absent key (undefined, null)
 * gives undefined, as JSONata functions do, so an optional vendor field stays optional.
 */
export function referenceRelation(
  contract: CompiledContract,
  name: string,
  key: unknown,
): ReferenceRelation | undefined {
  if (key === undefined || key === null) return undefined;
  const label = `${contract.id}@${contract.version}`;
  const text = typeof key === 'string' ? key : JSON.stringify(key);
  // Own properties only: a vendor code such as "constructor" must not reach Object.prototype.
  const crosswalk = Object.hasOwn(contract.target.references, name)
    ? contract.target.references[name]
    : undefined;
  if (!crosswalk) throw new ReferenceNotDeclared(label, name, text, undefined);
  const entry =
    typeof key === 'string' && Object.hasOwn(crosswalk.entries, key)
      ? crosswalk.entries[key]
      : undefined;
  if (!entry)
    throw new ReferenceNotDeclared(label, name, text, crosswalk.file, nearestKey(crosswalk, text));
  return {
    '@model': crosswalk.model,
    '@match': entry.find,
    '@reference': { entry: `${name}/${entry.key}`, create: entry.create },
  };
}
