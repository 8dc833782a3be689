/**
 * Create-or-update by external id (ir.model.data, module `spine`), in batches.
 *
 * One search learns which external ids exist; one read tells changed rows from unchanged ones;
 * one `load` writes every new or changed row. `load` creates a record and registers its external
 * id in the same transaction, so a crash or a lost answer between the two cannot happen: a retry
 * finds the external id and updates instead of creating a duplicate. A failing batch is split
 * until the failing rows are isolated; the others are written.
 *
 * One natural key, one record: rows are written in rounds in which no two rows share an external
 * id or a normalised natural key (a later row then finds the record the earlier one created), and
 * a row that may create a record by a natural key first locks that key against other writers.
 */
import type { SpineError } from '../errors/spine-error.ts';
import { errorFromLoadMessage } from './classify.ts';
import type { FieldInfo, OdooClient, OdooRecord } from './client.ts';
import { OdooError, OdooValidationError } from './errors/index.ts';
import { type MatchKey, matchMany, type NaturalKeyLocks, normaliseKey } from './match.ts';
import { fieldNameFor } from './versions.ts';

export const EXTERNAL_ID_MODULE = 'spine';

/** `spine.stripe_invoice_in_1` → `stripe_invoice_in_1`: the name part, as ir.model.data holds it. */
export const bareExternalId = (externalId: string) =>
  externalId.startsWith(`${EXTERNAL_ID_MODULE}.`)
    ? externalId.slice(EXTERNAL_ID_MODULE.length + 1)
    : externalId;

export interface UpsertRow {
  /** The name part of the external id (module `spine`), e.g. `stripe_customer_cus_123`. */
  readonly externalId: string;
  /** Odoo values: scalars, many2one ids, many2many id lists, one2many lines as lists of values. */
  readonly values: Readonly<Record<string, unknown>>;
  /** Fields set only when the record is created (owned by another system). */
  readonly createOnly?: readonly string[];
  /** Natural keys tried when the external id is new, to link an existing record instead of creating. */
  readonly match?: readonly MatchKey[];
  /** Do not create: when neither the external id nor a match finds a record, the row is skipped. */
  readonly updateOnly?: boolean;
}

export type UpsertStatus = 'created' | 'updated' | 'unchanged' | 'skipped' | 'failed';

export interface UpsertResult {
  readonly externalId: string;
  readonly id?: number;
  readonly status: UpsertStatus;
  /** The existing record was found by a natural key and given this external id. */
  readonly linkedBy?: string;
  readonly error?: SpineError;
}

export interface UpsertOptions {
  readonly module?: string;
  /**
   * Locks on natural keys, so that writers running side by side (other invocations, other flows)
   * never both create a record for one e-mail, VAT or SKU. Without them only this call's rows are
   * kept apart.
   */
  readonly locks?: NaturalKeyLocks;
}

interface Plan {
  readonly row: UpsertRow;
  readonly index: number;
  existingId?: number;
  linkedBy?: string;
  values?: Record<string, unknown>;
  result?: UpsertResult;
}

const isLines = (info: FieldInfo | undefined) => info?.type === 'one2many';

/** Converts values to the strings `load` parses (ir.fields.converter), with relation columns by database id. */
function loadColumns(
  values: Record<string, unknown>,
  fields: Record<string, FieldInfo>,
  lineFields: ReadonlyMap<string, Record<string, FieldInfo>>,
  version: number | undefined,
): { columns: string[]; cells: string[][] } {
  const columns: string[] = [];
  const first: string[] = [];
  const lineRows: Map<string, string>[] = [];
  const cell = (info: FieldInfo | undefined, value: unknown): string => {
    if (value === null || value === undefined || value === false) return '';
    if (info?.type === 'many2many' && Array.isArray(value)) return value.join(',');
    if (typeof value === 'boolean') return value ? 'True' : 'False';
    return String(value);
  };
  const column = (name: string, info: FieldInfo | undefined) =>
    info?.type === 'many2one' || info?.type === 'many2many' ? `${name}/.id` : name;
  for (const [name, value] of Object.entries(values)) {
    const info = fields[name];
    if (isLines(info)) continue;
    columns.push(column(name, info));
    first.push(cell(info, value));
  }
  // One2many lines continue on the following rows, each under `field/subfield` columns.
  const lineColumns: string[] = [];
  for (const [name, value] of Object.entries(values)) {
    const info = fields[name];
    if (!isLines(info) || !Array.isArray(value)) continue;
    value.forEach((line: Record<string, unknown>, i) => {
      const row = lineRows[i] ?? new Map<string, string>();
      for (const [current, subValue] of Object.entries(line)) {
        // Contracts name line fields as today's Odoo does (tax_ids); older ones, as they knew them.
        const sub = fieldNameFor(version, fields[name]?.relation ?? '', current);
        const subInfo = lineFields.get(name)?.[sub];
        const subColumn = `${name}/${column(sub, subInfo)}`;
        if (!lineColumns.includes(subColumn)) lineColumns.push(subColumn);
        row.set(subColumn, cell(subInfo, subValue));
      }
      lineRows[i] = row;
    });
  }
  const allColumns = [...columns, ...lineColumns];
  const rows: string[][] = [];
  const count = Math.max(1, lineRows.length);
  for (let i = 0; i < count; i++) {
    const lineCells = lineColumns.map((c) => lineRows[i]?.get(c) ?? '');
    rows.push([...(i === 0 ? first : columns.map(() => '')), ...lineCells]);
  }
  return { columns: allColumns, cells: rows };
}

function sameValue(info: FieldInfo | undefined, current: unknown, wanted: unknown): boolean {
  const empty = (v: unknown) => v === false || v === null || v === undefined || v === '';
  if (empty(current) && empty(wanted)) return true;
  if (info?.type === 'many2one') return (Array.isArray(current) ? current[0] : current) === wanted;
  if (info?.type === 'many2many') {
    const a = [...((current as number[]) ?? [])].sort();
    const b = [...((wanted as number[]) ?? [])].sort();
    return a.length === b.length && a.every((v, i) => v === b[i]);
  }
  if (typeof current === 'number' && typeof wanted === 'number')
    return Math.abs(current - wanted) < 1e-9;
  if (info?.type === 'float' || info?.type === 'monetary' || info?.type === 'integer')
    return Number(current) === Number(wanted);
  return current === wanted;
}

/** The normalised natural keys of a row, as `field=value` strings. */
function naturalKeys(row: UpsertRow): string[] {
  return (row.match ?? []).flatMap((key) => {
    const value = normaliseKey(key.normalise, key.value);
    return value === undefined ? [] : [`${key.field}=${value}`];
  });
}

/**
 * Rows in rounds, in their order: a row waits for the next round when an earlier row of this
 * round has its external id (the second write of one record goes after the first) or one of its
 * natural keys (the second then finds, and links to, the record the first created).
 */
function rounds(rows: readonly UpsertRow[]): number[][] {
  const result: { indexes: number[]; taken: Set<string> }[] = [];
  const lastRound = new Map<string, number>();
  rows.forEach((row, index) => {
    const names = [`id:${row.externalId}`, ...naturalKeys(row).map((k) => `key:${k}`)];
    const round = Math.max(-1, ...names.map((n) => lastRound.get(n) ?? -1)) + 1;
    result[round] ??= { indexes: [], taken: new Set() };
    result[round].indexes.push(index);
    for (const name of names) lastRound.set(name, round);
  });
  return result.map((r) => r.indexes);
}

export async function upsertByExternalId(
  client: OdooClient,
  model: string,
  rows: readonly UpsertRow[],
  options: UpsertOptions = {},
): Promise<UpsertResult[]> {
  const results: UpsertResult[] = new Array(rows.length);
  for (const round of rounds(rows)) {
    const written = await upsertRound(
      client,
      model,
      round.map((i) => rows[i] as UpsertRow),
      options,
    );
    round.forEach((index, i) => {
      results[index] = written[i] as UpsertResult;
    });
  }
  return results;
}

async function upsertRound(
  client: OdooClient,
  model: string,
  rows: readonly UpsertRow[],
  options: UpsertOptions,
): Promise<UpsertResult[]> {
  const module = options.module ?? EXTERNAL_ID_MODULE;
  if (rows.length === 0) return [];
  const plans: Plan[] = rows.map((row, index) => ({ row, index }));
  const fields = await client.fieldsGet(model);

  // 1. Which external ids exist (one round trip for the batch).
  const names = [...new Set(rows.map((r) => r.externalId))];
  const known = await client.searchRead(
    'ir.model.data',
    [
      ['module', '=', module],
      ['name', 'in', names],
    ],
    { fields: ['name', 'model', 'res_id'] },
  );
  const byName = new Map(known.map((r) => [String(r.name), r]));
  for (const plan of plans) {
    const data = byName.get(plan.row.externalId);
    if (!data) continue;
    if (data.model !== model) {
      plan.result = failed(
        plan,
        new OdooValidationError(
          `external id ${module}.${plan.row.externalId} already names a ${String(data.model)} record, not ${model}`,
          { model, method: 'upsert' },
        ),
      );
    } else {
      plan.existingId = Number(data.res_id);
    }
  }

  // 2. A row that may create a record by a natural key locks the key first: another writer
  // creating the same customer right now makes this row wait (retried) and then link to it.
  const locked: Plan[] = [];
  try {
    if (options.locks) {
      const creating = plans.filter(
        (p) =>
          !p.result &&
          p.existingId === undefined &&
          !p.row.updateOnly &&
          naturalKeys(p.row).length > 0,
      );
      const locks = options.locks;
      await Promise.all(
        creating.map(async (plan) => {
          const busy = await locks.acquire(model, naturalKeys(plan.row));
          if (busy) plan.result = failed(plan, busy);
          else locked.push(plan);
        }),
      );
    }
    return await writeRound(client, model, module, fields, plans);
  } finally {
    // A write whose answer was lost may still commit: its locks lapse by themselves instead.
    if (options.locks && locked.length > 0 && !client.hasUnsettledWrites)
      await options.locks.release(
        model,
        locked.flatMap((p) => naturalKeys(p.row)),
      );
  }
}

async function writeRound(
  client: OdooClient,
  model: string,
  module: string,
  fields: Record<string, FieldInfo>,
  plans: Plan[],
): Promise<UpsertResult[]> {
  const rows = plans.map((p) => p.row);
  const lineFields = new Map<string, Record<string, FieldInfo>>();
  for (const name of new Set(rows.flatMap((r) => Object.keys(r.values)))) {
    const relation = fields[name]?.relation;
    if (isLines(fields[name]) && relation) lineFields.set(name, await client.fieldsGet(relation));
  }

  // 3. Link new external ids to records found by natural keys (one search per key field).
  const unmatched = plans.filter(
    (p) => !p.result && p.existingId === undefined && (p.row.match?.length ?? 0) > 0,
  );
  if (unmatched.length > 0) {
    const matches = await matchMany(
      client,
      model,
      unmatched.map((p) => ({ keys: p.row.match ?? [] })),
    );
    const links: Record<string, unknown>[] = [];
    unmatched.forEach((plan, i) => {
      const match = matches[i];
      if (!match) return;
      plan.existingId = match.id;
      plan.linkedBy = match.key.field;
      links.push({ module, name: plan.row.externalId, model, res_id: match.id });
    });
    if (links.length > 0) await createLinks(client, module, links);
  }

  // 4. Existing records: read what they hold, drop create-only fields, skip what is unchanged.
  const existing = plans.filter((p) => !p.result && p.existingId !== undefined);
  const current = new Map<number, OdooRecord>();
  if (existing.length > 0) {
    // Contracts name fields as today's Odoo does; 16 and 17 know some by older names (memo: ref).
    const known = (f: string) => fields[fieldNameFor(client.version, model, f)];
    const readable = [...new Set(existing.flatMap((p) => Object.keys(p.row.values)))].filter(
      (f) => known(f) && !isLines(known(f)),
    );
    const records = await client.read(
      model,
      [...new Set(existing.map((p) => p.existingId as number))],
      readable,
    );
    for (const record of records) current.set(record.id, record);
  }
  for (const plan of plans) {
    if (plan.result) continue;
    if (plan.existingId !== undefined) {
      const record = current.get(plan.existingId);
      if (!record) {
        // The external id points to a deleted record: load will create a new one under it.
        plan.existingId = undefined;
      } else {
        const createOnly = new Set(plan.row.createOnly ?? []);
        const changed: Record<string, unknown> = {};
        for (const [field, value] of Object.entries(plan.row.values)) {
          const name = fieldNameFor(client.version, model, field);
          // Lines are written when a document is created; later events do not rewrite them.
          if (createOnly.has(field) || isLines(fields[name])) continue;
          if (!sameValue(fields[name], record[name], value)) changed[field] = value;
        }
        if (Object.keys(changed).length === 0) {
          plan.result = {
            externalId: plan.row.externalId,
            id: plan.existingId,
            status: 'unchanged',
            ...(plan.linkedBy ? { linkedBy: plan.linkedBy } : {}),
          };
        } else {
          plan.values = changed;
        }
        continue;
      }
    }
    if (plan.row.updateOnly) {
      plan.result = { externalId: plan.row.externalId, status: 'skipped' };
      continue;
    }
    plan.values = { ...plan.row.values };
  }

  // 5. One load per distinct set of columns (a missing column would clear the field).
  const toWrite = plans.filter((p) => !p.result && p.values);
  const groups = new Map<string, Plan[]>();
  for (const plan of toWrite) {
    const key = Object.keys(plan.values as object)
      .sort()
      .join(',');
    groups.set(key, [...(groups.get(key) ?? []), plan]);
  }
  const context: LoadContext = { client, model, module, fields, lineFields };
  for (const group of groups.values()) await loadGroup(context, group);

  return plans.map(
    (plan) =>
      plan.result ??
      failed(plan, new OdooValidationError('the row was not written', { model, method: 'load' })),
  );
}

function failed(plan: Plan, error: SpineError): UpsertResult {
  return {
    externalId: plan.row.externalId,
    status: 'failed',
    ...(plan.existingId ? { id: plan.existingId } : {}),
    error,
  };
}

async function createLinks(
  client: OdooClient,
  module: string,
  links: Record<string, unknown>[],
): Promise<void> {
  try {
    await client.create('ir.model.data', links);
  } catch (error) {
    // A previous attempt may have created some links before its answer was lost; keep going
    // with the ones that are missing.
    if (!(error instanceof OdooValidationError)) throw error;
    const names = links.map((l) => String(l.name));
    const present = await client.searchRead(
      'ir.model.data',
      [
        ['module', '=', module],
        ['name', 'in', names],
      ],
      { fields: ['name'] },
    );
    const missing = links.filter((l) => !present.some((p) => p.name === l.name));
    if (missing.length > 0) await client.create('ir.model.data', missing);
  }
}

interface LoadContext {
  readonly client: OdooClient;
  readonly model: string;
  readonly module: string;
  readonly fields: Record<string, FieldInfo>;
  readonly lineFields: ReadonlyMap<string, Record<string, FieldInfo>>;
}

async function loadGroup(context: LoadContext, plans: Plan[]): Promise<void> {
  const { client, model, module, fields, lineFields } = context;
  if (plans.length === 0) return;
  const matrix = plans.map((p) =>
    loadColumns(p.values as Record<string, unknown>, fields, lineFields, client.version),
  );
  const columns = ['id', ...(matrix[0]?.columns ?? [])];
  // Rows of records whose lines differ in number are laid out one after the other.
  const data: string[][] = [];
  const recordStart: number[] = [];
  plans.forEach((plan, i) => {
    recordStart.push(data.length);
    const { columns: own, cells } = matrix[i] as { columns: string[]; cells: string[][] };
    cells.forEach((cells, rowIndex) => {
      const aligned = (matrix[0]?.columns ?? []).map((c) => cells[own.indexOf(c)] ?? '');
      data.push([rowIndex === 0 ? `${module}.${plan.row.externalId}` : '', ...aligned]);
    });
  });
  const sameColumns = matrix.every((m) => m.columns.join(',') === matrix[0]?.columns.join(','));
  if (!sameColumns) {
    // Line fields differ between records: write them one group per layout.
    for (const plan of plans) await loadGroup(context, [plan]);
    return;
  }

  let result: Awaited<ReturnType<OdooClient['load']>>;
  try {
    result = await client.load(model, columns, data, {
      creates: plans.some((plan) => plan.existingId === undefined),
    });
  } catch (error) {
    if (!(error instanceof OdooError) || error.retryable) throw error;
    return bisect(context, plans, error);
  }
  if (result.ids !== false) {
    plans.forEach((plan, i) => {
      plan.result = {
        externalId: plan.row.externalId,
        id: (result.ids as number[])[i],
        status: plan.existingId !== undefined ? 'updated' : 'created',
        ...(plan.linkedBy ? { linkedBy: plan.linkedBy } : {}),
      };
    });
    return;
  }
  // Odoo rolled the whole batch back. Its messages name rows, but not always the right ones:
  // Odoo 18 first writes the batch at once and puts that attempt's error on row 0 too. So a row
  // alone is marked failed by its message; named rows of a batch are each written again alone,
  // and the others together.
  const blamed = new Map<number, (typeof result.messages)[number]>();
  for (const message of result.messages.filter((m) => m.type === 'error')) {
    const recordIndex =
      message.record ??
      recordStart.findIndex(
        (start, i) =>
          message.rows &&
          message.rows.from >= start &&
          message.rows.from < (recordStart[i + 1] ?? Number.POSITIVE_INFINITY),
      );
    if (plans[recordIndex] && !blamed.has(recordIndex)) blamed.set(recordIndex, message);
  }
  if (plans.length === 1) {
    const plan = plans[0] as Plan;
    const message = blamed.get(0) ?? result.messages.find((m) => m.type === 'error');
    plan.result = failed(
      plan,
      message
        ? rowError(model, plan, message.message, message.field)
        : rowError(model, plan, 'Odoo refused the row without saying why'),
    );
    return;
  }
  if (blamed.size === 0) return bisect(context, plans, undefined);
  await loadGroup(
    context,
    plans.filter((_, i) => !blamed.has(i)),
  );
  for (const index of blamed.keys()) await loadGroup(context, [plans[index] as Plan]);
}

/** A row's error, of the class its message names (a denial, a lock, a validation). */
function rowError(model: string, plan: Plan, message: string, field?: string): OdooError {
  const classified = errorFromLoadMessage(message, { model, method: 'load' });
  if (!(classified instanceof OdooValidationError)) return classified;
  return new OdooValidationError(
    `row ${plan.row.externalId}${field ? `, field ${field}` : ''}: ${message.split('\n')[0]}`,
    { model, method: 'load', odooMessage: message },
    classified.hint,
  );
}

/** Splits a batch that failed as a whole until each failing row stands alone. */
async function bisect(
  context: LoadContext,
  plans: Plan[],
  error: OdooError | undefined,
): Promise<void> {
  const { model } = context;
  if (plans.length === 1) {
    const plan = plans[0] as Plan;
    plan.result = failed(
      plan,
      error
        ? rowError(model, plan, error.odooMessage ?? error.message)
        : rowError(model, plan, 'Odoo refused the row without saying why'),
    );
    return;
  }
  const middle = Math.ceil(plans.length / 2);
  await loadGroup(context, plans.slice(0, middle));
  await loadGroup(context, plans.slice(middle));
}
