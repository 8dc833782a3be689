/**
 * Natural-key locks over the lineage table: one writer at a time may create a record for one
 * normalised e-mail, VAT or SKU, across invocations and flows. Keys are stored hashed, since a
 * normalised e-mail is personal data.
 */
import { createHash } from 'node:crypto';
import type { LineageStore } from '../lineage/model.ts';
import type { NaturalKeyLocks } from '../odoo/match.ts';
import { NaturalKeyBusy } from './natural-key-busy.ts';

export interface LockTerms {
  /** The writer: one invocation's attempt. */
  readonly token: string;
  /** When a lock lapses if its writer never ends it (a crash, a write whose answer was lost). */
  readonly until: string;
  readonly now: () => Date;
}

const lockKey = (model: string, key: string) =>
  createHash('sha256').update(`${model}\u0000${key}`).digest('hex');

/** The field names of keys (`email=...`), for messages that must not carry the values. */
const fieldsOf = (keys: readonly string[]) =>
  [...new Set(keys.map((k) => k.slice(0, k.indexOf('='))))].join(' and ');

export function naturalKeyLocks(lineage: LineageStore, terms: LockTerms): NaturalKeyLocks {
  const release = async (model: string, keys: readonly string[]) => {
    await Promise.all(keys.map((k) => lineage.unlockNaturalKey(lockKey(model, k), terms.token)));
  };
  return {
    async acquire(model, keys) {
      const now = terms.now().toISOString();
      const granted = await Promise.all(
        keys.map((k) => lineage.lockNaturalKey(lockKey(model, k), terms.token, terms.until, now)),
      );
      if (granted.every(Boolean)) return undefined;
      // All or none: a partial hold would keep other writers out of keys this one cannot use.
      await release(
        model,
        keys.filter((_, i) => granted[i]),
      );
      return new NaturalKeyBusy(model, fieldsOf(keys));
    },
    release,
  };
}
