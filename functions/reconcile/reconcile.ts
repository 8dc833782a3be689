/**
 * Proves that what the vendors sent is what Odoo holds: per contract and day, the events
 * lineage says were applied (count, and the contract's daily sum) against the records Odoo
 * has under the same external ids; what the vendor said about each (currency, amounts, state,
 * recorded by the worker) against what Odoo books, per currency (./finance.ts); and each field
 * those events wrote against the field's value in Odoo, through the fingerprints lineage keeps.
 */
import type { CompiledContract } from '../contracts/model.ts';
import { isNewerChange, type LineageEntry, type LineageStore } from '../lineage/model.ts';
import type { OdooClient, OdooRecord } from '../odoo/client.ts';
import { EXTERNAL_ID_MODULE } from '../odoo/upsert.ts';
import { fieldNameFor } from '../odoo/versions.ts';
import {
  type AppliedRecord,
  type CurrencyTotals,
  declaresVendorFigures,
  type FinanceDifference,
  financeFields,
  reconcileFinance,
} from './finance.ts';
import type { FieldFingerprint } from './fingerprint.ts';
import { InvalidDay } from './invalid-day.ts';

export interface ReconcileDifference {
  readonly externalId: string;
  readonly recordId: number;
  readonly eventIds: readonly string[];
  readonly field: string;
  readonly expected: number;
  readonly actual: unknown;
}

/**
 * A field whose value in Odoo is not the one the entity's newest applied event wrote: a stale
 * overwrite, or a change made in Odoo since (by a person: drift). The values are never given,
 * since they may be personal; the event id leads to the event's trail in lineage (the vendor's
 * figures, and which fields it wrote), and the vendor holds the event itself.
 */
export interface ValueDifference {
  readonly externalId: string;
  readonly recordId: number;
  /** The newest applied event that wrote the field: what Odoo should hold. */
  readonly eventId: string;
  readonly field: string;
  readonly kind: 'value';
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
  /**
   * Records whose fields were compared with what their newest applied event wrote, and records
   * that could not be: applied without fingerprints (before they were recorded, or while the
   * worker could not read the redaction key), or reconciled without the redaction key.
   */
  readonly values: { readonly checked: number; readonly unchecked: number };
  readonly valueDifferences: readonly ValueDifference[];
  /**
   * Money per currency, for a contract that declares what the vendor said (reconcile.currency,
   * amounts, state): the vendor's count and sums against Odoo's. `applied.sum` and `odoo.sum`
   * add every currency together; these never do.
   */
  readonly currencies: readonly CurrencyTotals[];
  /** Records whose amount, tax, currency or state in Odoo is not what the vendor said. */
  readonly financeDifferences: readonly FinanceDifference[];
  /**
   * Records compared with the vendor's figures, and applied records whose entries predate them
   * (their count and sum are reconciled as before).
   */
  readonly figures: { readonly checked: number; readonly unchecked: number };
  readonly ok: boolean;
}

export interface ReconcileDependencies {
  readonly lineage: LineageStore;
  readonly odoo: OdooClient;
  /** The worker's fingerprint (the same redaction key); without it, values are not compared. */
  readonly fingerprint?: FieldFingerprint;
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
  deps: ReconcileDependencies,
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
  const expected = deps.fingerprint ? expectedValues(entries) : new Map<string, Expected>();
  const written = [...new Set([...expected.values()].flatMap((e) => [...e.fields.keys()]))];
  const figured = declaresVendorFigures(contract) && entries.some((e) => e.vendor);
  const fields = [
    ...new Set([
      ...(sumField ? [sumField] : []),
      ...written,
      ...(figured ? financeFields(contract) : []),
    ]),
  ];
  // An external id may outlive its record (deleted behind the ORM's back): that is "missing".
  const records = await existing(
    deps.odoo,
    model,
    [...new Set(idOf.values())],
    fields.length ? fields : ['display_name'],
  );
  const byId = new Map(records.map((r) => [r.id, r]));
  const finance = reconcileFinance(
    contract,
    [...latest].map(([name, { entry, eventIds }]): AppliedRecord => {
      const recordId = idOf.get(name);
      const record = recordId === undefined ? undefined : byId.get(recordId);
      return {
        name,
        entry,
        eventIds,
        ...(recordId !== undefined ? { recordId } : {}),
        ...(record ? { record } : {}),
      };
    }),
    deps.odoo.version,
  );
  const differing = new Set(finance.differences.map((d) => d.externalId));

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
    if (differing.has(`${EXTERNAL_ID_MODULE}.${name}`)) continue;
    matched++;
  }

  const values = await compareValues(
    contract,
    day,
    { expected, idOf, byId },
    // The sum and finance checks already report their fields, with the amounts.
    new Set([...differences, ...finance.differences].map((d) => `${d.recordId}|${d.field}`)),
    deps,
  );

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
    values: { checked: values.checked, unchecked: values.unchecked },
    valueDifferences: values.differences,
    currencies: finance.currencies,
    financeDifferences: finance.differences,
    figures: { checked: finance.checked, unchecked: finance.unchecked },
    ok:
      missing.length === 0 &&
      unexpected.length === 0 &&
      differences.length === 0 &&
      values.differences.length === 0 &&
      finance.differences.length === 0,
  };
}

/** What one record should hold: per field, the fingerprint its newest applied event wrote. */
interface Expected {
  /** The newest applied event of the entity that day. */
  readonly newest: LineageEntry;
  readonly fields: Map<string, { readonly fingerprint: string; readonly eventId: string }>;
  /** Applied events with nothing recorded of their values, newer than any with: not comparable. */
  readonly unknown: boolean;
}

const changeOf = (entry: LineageEntry) => ({
  occurredAt: entry.occurredAt ?? entry.at,
  eventId: entry.eventId,
});

/**
 * Per external id name, the fields the entity's applied events of the day wrote, each from the
 * newest event (in the stale guard's order, not the order they were applied) that wrote it: an
 * older event applied late must not become what Odoo should hold.
 */
function expectedValues(entries: readonly LineageEntry[]): Map<string, Expected> {
  const byName = new Map<string, LineageEntry[]>();
  for (const entry of entries) {
    const name = (entry.externalId as string).replace(`${EXTERNAL_ID_MODULE}.`, '');
    byName.set(name, [...(byName.get(name) ?? []), entry]);
  }
  const expected = new Map<string, Expected>();
  for (const [name, applied] of byName) {
    const ordered = [...applied].sort((a, b) =>
      isNewerChange(changeOf(a), changeOf(b))
        ? 1
        : isNewerChange(changeOf(b), changeOf(a))
          ? -1
          : 0,
    );
    const fields: Expected['fields'] = new Map();
    for (const entry of ordered) {
      // What an event without fingerprints wrote is unknown: the fields of older ones may be stale.
      if (!entry.written) fields.clear();
      for (const [field, fingerprint] of Object.entries(entry.written ?? {}))
        fields.set(field, { fingerprint, eventId: entry.eventId });
    }
    const newest = ordered[ordered.length - 1] as LineageEntry;
    expected.set(name, { newest, fields, unknown: fields.size === 0 });
  }
  return expected;
}

/**
 * The differences no other contract explains. One Odoo record may be written by several
 * contracts (a partner linked by e-mail from Stripe and from Clerk); a field that holds what
 * another contract last wrote to it is that contract's value, not drift. Which of two contracts
 * wrote last cannot be told from lineage (each records after its own write, in its own
 * invocation), so each other contract's last write of the field counts. Lineage is asked per
 * differing record only.
 */
async function explainedByOtherContracts(
  contract: CompiledContract,
  recordId: number,
  differences: readonly (ValueDifference & { held: string })[],
  deps: ReconcileDependencies,
): Promise<ValueDifference[]> {
  if (differences.length === 0) return [];
  const others = (await deps.lineage.byRecord(contract.target.model, recordId))
    .filter((e) => e.stage === 'applied' && e.written && e.contract?.split('@')[0] !== contract.id)
    .sort((a, b) => a.at.localeCompare(b.at));
  const lastWrites = (field: string) => {
    const last = new Map<string, string>();
    for (const entry of others) {
      const written = entry.written?.[field];
      if (written !== undefined) last.set(entry.contract?.split('@')[0] ?? '', written);
    }
    return [...last.values()];
  };
  return differences
    .filter((d) => !lastWrites(d.field).includes(d.held))
    .map(({ held: _held, ...difference }) => difference);
}

/**
 * Fingerprints each field Odoo holds and compares it with what the newest applied event wrote.
 * A record whose entity has a newer change on another day is left to that day's run, which
 * compares it with that change; it is looked up only when it differs, since most records agree.
 */
async function compareValues(
  contract: CompiledContract,
  day: string,
  found: {
    readonly expected: ReadonlyMap<string, Expected>;
    readonly idOf: ReadonlyMap<string, number>;
    readonly byId: ReadonlyMap<number, OdooRecord>;
  },
  reported: ReadonlySet<string>,
  deps: ReconcileDependencies,
): Promise<{ checked: number; unchecked: number; differences: ValueDifference[] }> {
  const { expected, idOf, byId } = found;
  const fingerprint = deps.fingerprint;
  let unchecked = 0;
  const candidates: { expected: Expected; differences: ValueDifference[] }[] = [];
  for (const [name, recordId] of idOf) {
    const record = byId.get(recordId);
    if (!record) continue;
    const wanted = expected.get(name);
    if (!fingerprint || !wanted || wanted.unknown) {
      unchecked++;
      continue;
    }
    const differences: (ValueDifference & { held: string })[] = [];
    for (const [field, { fingerprint: written, eventId }] of wanted.fields) {
      if (reported.has(`${recordId}|${field}`)) continue;
      // Odoo 16 and 17 name some fields differently: the client asked for them by that name.
      const held = fingerprint(
        record[fieldNameFor(deps.odoo.version, contract.target.model, field)],
      );
      if (held !== written)
        differences.push({
          externalId: `${EXTERNAL_ID_MODULE}.${name}`,
          recordId,
          eventId,
          field,
          kind: 'value',
          held,
        });
    }
    candidates.push({
      expected: wanted,
      differences: await explainedByOtherContracts(contract, recordId, differences, deps),
    });
  }

  // A thin contract's entity is claimed per set of fields written, so its states cannot be
  // looked up by entity: its records are compared with the day's events alone.
  const deferred = await Promise.all(
    candidates.map(async ({ expected: wanted, differences }) => {
      const entityKey = wanted.newest.entityKey;
      if (differences.length === 0 || contract.source.thin || !entityKey) return false;
      const state = await deps.lineage.entityState(contract.id, entityKey);
      return Boolean(
        state &&
          isNewerChange(state, changeOf(wanted.newest)) &&
          state.occurredAt.slice(0, 10) !== day,
      );
    }),
  );
  const kept = candidates.filter((_, i) => !deferred[i]);
  return {
    checked: kept.length,
    unchecked,
    differences: kept
      .flatMap((c) => c.differences)
      .sort((a, b) => a.externalId.localeCompare(b.externalId) || a.field.localeCompare(b.field)),
  };
}
