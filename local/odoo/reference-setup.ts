/**
 * The emulated Odoo as a finance team would have configured it for Spine: every record the
 * crosswalks of contracts/reference/ name (taxes, bank journals, pricelists, service products)
 * is created from the entry's own `find` values, and the currencies they need are activated.
 * Derived from the crosswalks rather than listed here, so the local company never drifts from
 * the reference data; `spine local --bare-odoo` skips it, and `spine reference check` then
 * names what a fresh database lacks.
 *
 * Countries and companies are never created: a fresh database has them (an entry that finds
 * none is a fault of the entry, which `spine reference check` reports).
 */
import type { CompiledCrosswalk, CompiledReferenceEntry } from '../../functions/contracts/model.ts';
import type { OdooVersion } from './models.ts';
import type { Orm } from './orm.ts';

export interface ReferenceSetup {
  /** `crosswalk/key` of each record created or activated. */
  readonly created: readonly string[];
  /** `crosswalk/key` of each entry that cannot be made locally, with why. */
  readonly skipped: readonly { readonly entry: string; readonly why: string }[];
}

/** What a record needs besides its `find` values, per model. */
const EXTRAS: Readonly<
  Record<string, (entry: CompiledReferenceEntry, version: OdooVersion) => Record<string, unknown>>
> = {
  'account.tax': () => ({}),
  'account.journal': (entry) => ({
    type: 'bank',
    name: entry.key
      .split(':')
      .map((part) => part.replace(/_/g, ' '))
      .join(' '),
  }),
  'product.pricelist': () => ({}),
  // A service with no tax of its own: its lines carry the taxes the event names.
  'product.product': (entry, version) => ({
    name: serviceName(entry.key),
    [version >= 18 ? 'type' : 'detailed_type']: 'service',
    sale_ok: true,
    taxes_id: [[6, 0, []]],
  }),
};

const serviceName = (key: string) => {
  const last = key.split(':').pop() ?? key;
  return last.charAt(0).toUpperCase() + last.slice(1);
};

/** The journal's currency is the key's last part when that is an ISO code (stripe:card:EUR). */
const journalCurrency = (key: string) => {
  const last = key.split(':').pop() ?? '';
  return /^[A-Z]{3}$/.test(last) ? last : undefined;
};

export function setUpReferenceData(
  orm: Orm,
  adminUid: number,
  crosswalks: Readonly<Record<string, CompiledCrosswalk>>,
): ReferenceSetup {
  const call = (model: string, method: string, args: unknown[], kwargs = {}) =>
    orm.call(adminUid, model, method, args, kwargs, { active_test: false });
  const created: string[] = [];
  const skipped: { entry: string; why: string }[] = [];

  /** A many2one target by name, activated if archived (a currency a pricelist books in). */
  const byName = (model: string, name: string, entry: string): number | undefined => {
    const [found] = call(model, 'search_read', [[['name', '=', name]], ['active']]) as {
      id: number;
      active?: boolean;
    }[];
    if (!found) return undefined;
    if (found.active === false) {
      call(model, 'write', [[found.id], { active: true }]);
      created.push(`${entry} (${model} ${name} activated)`);
    }
    return found.id;
  };

  for (const crosswalk of Object.values(crosswalks)) {
    const fields = call(crosswalk.model, 'fields_get', [], {
      attributes: ['type', 'relation'],
    }) as Record<string, { type: string; relation?: string }>;
    for (const entry of Object.values(crosswalk.entries)) {
      const label = `${crosswalk.name}/${entry.key}`;
      const values: Record<string, unknown> = {};
      let unresolved: string | undefined;
      for (const [path, value] of Object.entries(entry.find)) {
        const [field, sub] = path.split('.') as [string, string | undefined];
        const relation = fields[field]?.relation;
        if (sub === 'name' && relation) {
          const id = byName(relation, String(value), label);
          if (id === undefined) unresolved = `no ${relation} named ${String(value)}`;
          values[field] = id;
        } else values[field] = value;
      }
      if (unresolved) {
        skipped.push({ entry: label, why: unresolved });
        continue;
      }
      const domain = Object.entries(values).map(([field, value]) => [field, '=', value]);
      const [found] = call(crosswalk.model, 'search_read', [
        domain,
        'active' in fields ? ['active'] : ['id'],
      ]) as {
        id: number;
        active?: boolean;
      }[];
      if (found) {
        if (found.active === false) {
          call(crosswalk.model, 'write', [[found.id], { active: true }]);
          created.push(`${label} (activated)`);
        }
        continue;
      }
      const extras = EXTRAS[crosswalk.model];
      if (!extras) {
        skipped.push({ entry: label, why: `a fresh database has its ${crosswalk.model}` });
        continue;
      }
      const record: Record<string, unknown> = { ...values, ...extras(entry, orm.version) };
      if (crosswalk.model === 'account.journal') {
        const currency = journalCurrency(entry.key);
        if (currency) record.currency_id = byName('res.currency', currency, label);
      }
      // 18 and 19 compute price_include from an override; older ones store it.
      if (crosswalk.model === 'account.tax' && orm.version >= 18 && 'price_include' in record) {
        record.price_include_override = record.price_include ? 'tax_included' : 'tax_excluded';
        delete record.price_include;
      }
      call(crosswalk.model, 'create', [[record]]);
      created.push(label);
    }
  }
  return { created, skipped };
}
