/**
 * Proves that what the vendors sent is what Odoo holds: per contract and day, the events
 * lineage says were applied (count, and the contract's daily sum) against the records Odoo
 * has under the same external ids.
 */
import type { CompiledContract } from '../contracts/model.ts';
import type { LineageEntry, LineageStore } from '../lineage/model.ts';
import type { OdooClient, OdooRecord } from '../odoo/client.ts';
import { EXTERNAL_ID_MODULE } from '../odoo/upsert.ts';
import { InvalidDay } from './invalid-day.ts';

export interface ReconcileDifference {
  readonly externalId: string;
  readonly recordId: number;
  readonly eventIds: readonly string[];
  readonly field: string;
  readonly expected: number;
  readonly actual: unknown;
}

export interface ReconcileReport {
  readonly contract: string;
  readonly day: string;
  readonly model: string;
  readonly applied: { readonly count: number; readonly sum?: number };
  readonly odoo: { readonly count: number; readonly sum?: number };
  readonly matched: number;
  /** Applied according to lineage, but Odoo has no record under the external id. */
  readonly missing: readonly {
    readonly externalId: string;
    readonly eventIds: readonly string[];
  }[];
  /** Records under this contract's external ids, dated that day, that lineage never applied. */
  readonly unexpected: readonly { readonly externalId: string; readonly recordId: number }[];
  readonly differences: readonly ReconcileDifference[];
  readonly ok: boolean;
}

/** Date fields by which Odoo records of a model are placed on a day, for "unexpected" records. */
const DATE_FIELDS: Readonly<Record<string, string>> = {
  'account.payment': 'date',
  'account.move': 'invoice_date',
  'sale.order': 'date_order',
};

const TOLERANCE = 0.005;

/** Refuses anything but a real calendar day written YYYY-MM-DD: a wrong day would match nothing and report "ok". */
export function assertReconcileDay(day: string): void {
  const date = /^\d{4}-\d{2}-\d{2}$/.test(day) ? new Date(`${day}T00:00:00Z`) : undefined;
  // Date rolls 2026-02-30 over to March (or gives up): only a real day reads back the same.
  if (!date || Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== day)
    throw new InvalidDay(
      `the reconciliation day must be a calendar date written YYYY-MM-DD, got "${day}"`,
      'pass a day such as 2026-01-31',
    );
}

/**
 * Records of `model` with these ids that still exist, active or not. Unlike `read`, a deleted
 * id is left out instead of failing the whole call with MissingError.
 */
async function existing(
  odoo: OdooClient,
  model: string,
  ids: readonly number[],
  fields: readonly string[],
): Promise<OdooRecord[]> {
  if (ids.length === 0) return [];
  return odoo.searchRead(model, [['id', 'in', [...ids]]], {
    fields,
    context: { active_test: false },
  });
}

export async function reconcileContractDay(
  contract: CompiledContract,
  day: string,
  deps: { readonly lineage: LineageStore; readonly odoo: OdooClient },
): Promise<ReconcileReport> {
  assertReconcileDay(day);
  const model = contract.target.model;
  const sumField = contract.reconcile.sum;
  const entries = (await deps.lineage.appliedOn(contract.id, day)).filter(
    (e) => e.stage === 'applied' && e.externalId,
  );

  // The latest applied entry of each external id holds its current value (refunds accumulate).
  const latest = new Map<string, { entry: LineageEntry; eventIds: string[] }>();
  for (const entry of [...entries].sort((a, b) => a.at.localeCompare(b.at))) {
    const name = (entry.externalId as string).replace(`${EXTERNAL_ID_MODULE}.`, '');
    const seen = latest.get(name);
    latest.set(name, { entry, eventIds: [...(seen?.eventIds ?? []), entry.eventId] });
  }
  const names = [...latest.keys()];
  const references = names.length
    ? await deps.odoo.searchRead(
        'ir.model.data',
        [
          ['module', '=', EXTERNAL_ID_MODULE],
          ['name', 'in', names],
          ['model', '=', model],
        ],
        { fields: ['name', 'res_id'] },
      )
    : [];
  const idOf = new Map(references.map((r) => [String(r.name), Number(r.res_id)]));
  const fields = sumField ? [sumField] : [];
  // An external id may outlive its record (deleted behind the ORM's back): that is "missing".
  const records = await existing(
    deps.odoo,
    model,
    [...new Set(idOf.values())],
    fields.length ? fields : ['display_name'],
  );
  const byId = new Map(records.map((r) => [r.id, r]));

  const missing: { externalId: string; eventIds: string[] }[] = [];
  const differences: ReconcileDifference[] = [];
  let matched = 0;
  let appliedSum = 0;
  for (const [name, { entry, eventIds }] of latest) {
    if (sumField && typeof entry.measure === 'number') appliedSum += entry.measure;
    const recordId = idOf.get(name);
    const record = recordId === undefined ? undefined : byId.get(recordId);
    if (!record) {
      missing.push({ externalId: `${EXTERNAL_ID_MODULE}.${name}`, eventIds });
      continue;
    }
    if (sumField && typeof entry.measure === 'number') {
      const actual = record[sumField];
      if (typeof actual !== 'number' || Math.abs(actual - entry.measure) > TOLERANCE) {
        differences.push({
          externalId: `${EXTERNAL_ID_MODULE}.${name}`,
          recordId: record.id,
          eventIds,
          field: sumField,
          expected: entry.measure,
          actual,
        });
        continue;
      }
    }
    matched++;
  }

  // Records Spine made for this contract on that day, which lineage does not know.
  const unexpected: { externalId: string; recordId: number }[] = [];
  const dateField = DATE_FIELDS[model];
  const prefix = contract.target.externalId.split('{')[0] as string;
  if (dateField && prefix) {
    const ours = await deps.odoo.searchRead(
      'ir.model.data',
      [
        ['module', '=', EXTERNAL_ID_MODULE],
        ['model', '=', model],
        ['name', '=like', `${prefix.replace(/([%_\\])/g, '\\$1')}%`],
      ],
      { fields: ['name', 'res_id'] },
    );
    const others = ours.filter((r) => !latest.has(String(r.name)));
    if (others.length > 0) {
      const dated = await existing(
        deps.odoo,
        model,
        others.map((r) => Number(r.res_id)),
        [dateField],
      );
      const onDay = new Set(
        dated.filter((r) => String(r[dateField] ?? '').startsWith(day)).map((r) => r.id),
      );
      for (const r of others)
        if (onDay.has(Number(r.res_id)))
          unexpected.push({
            externalId: `${EXTERNAL_ID_MODULE}.${r.name}`,
            recordId: Number(r.res_id),
          });
    }
  }

  const odooSum = sumField
    ? records.reduce(
        (total, r) => total + (typeof r[sumField] === 'number' ? (r[sumField] as number) : 0),
        0,
      )
    : undefined;
  const round = (n: number) => Math.round(n * 100) / 100;
  return {
    contract: `${contract.id}@${contract.version}`,
    day,
    model,
    applied: { count: latest.size, ...(sumField ? { sum: round(appliedSum) } : {}) },
    odoo: { count: records.length, ...(odooSum !== undefined ? { sum: round(odooSum) } : {}) },
    matched,
    missing,
    unexpected,
    differences,
    ok: missing.length === 0 && unexpected.length === 0 && differences.length === 0,
  };
}
