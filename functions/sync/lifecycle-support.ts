/**
 * What every lifecycle step shares: the record an event wrote, the change a step reports for
 * lineage, reads that fail clearly when the record is gone, and the contract's expressions
 * evaluated the way its mapping is (same functions, `$reference` included).
 */
import { evaluateExpression, type MappingContext } from '../contracts/mapping.ts';
import type { CompiledContract } from '../contracts/model.ts';
import { MappingError } from '../errors/mapping-error.ts';
import type { OdooClient, OdooRecord } from '../odoo/client.ts';
import { OdooMissingError, OdooUserError } from '../odoo/errors/index.ts';
import { bareExternalId, EXTERNAL_ID_MODULE } from '../odoo/upsert.ts';

/** A state change a step made, for lineage. */
export interface LifecycleChange {
  readonly stage: 'posted' | 'reconciled' | 'rounded' | 'confirmed' | 'cancelled';
  readonly model: string;
  readonly recordId: number;
  readonly detail: string;
}

/** The record an event wrote, and what its contract's expressions read. */
export interface LifecycleSubject {
  readonly contract: CompiledContract;
  /** The minimised event, as the mapping saw it. */
  readonly event: unknown;
  readonly context: MappingContext;
  readonly model: string;
  readonly recordId: number;
}

/** The value of a step's expression over the event (`key` names it in errors). */
export function evaluateStep(
  subject: LifecycleSubject,
  index: number,
  key: string,
  source: string,
): Promise<unknown> {
  return evaluateExpression(
    subject.contract,
    `target.lifecycle[${index}].${key}`,
    source,
    subject.event,
    subject.context,
  );
}

/** `contract@version`, as errors name it. */
export const contractLabel = (subject: LifecycleSubject) =>
  `${subject.contract.id}@${subject.contract.version}`;

export const idOf = (value: unknown): number | undefined => {
  const id = Array.isArray(value) ? value[0] : value;
  return typeof id === 'number' && id > 0 ? id : undefined;
};

export async function readOne(
  client: OdooClient,
  model: string,
  id: number,
  fields: readonly string[],
): Promise<OdooRecord> {
  const [record] = await client.read(model, [id], fields);
  if (!record)
    throw new OdooMissingError(
      `${model} ${id} is gone`,
      { model, method: 'read' },
      'replay the event: it writes the record again',
    );
  return record;
}

/** Same amount once both are rounded to the currency's rounding (0.01, 1, 0.001, 0.05). */
export function sameAmount(a: number, b: number, rounding: number): boolean {
  return Math.round(a / rounding) === Math.round(b / rounding);
}

/** The record's currency as code and rounding (the company's when it names none). */
export async function currencyOf(
  client: OdooClient,
  record: OdooRecord,
): Promise<{ code: string; rounding: number }> {
  const currencyId = idOf(record.currency_id);
  const currency = currencyId
    ? await readOne(client, 'res.currency', currencyId, ['name', 'rounding'])
    : undefined;
  return { code: String(currency?.name ?? ''), rounding: Number(currency?.rounding) || 0.01 };
}

/**
 * Runs a workflow method (action_post, action_confirm, action_cancel) on one record and reads it
 * back. Odoo may answer without doing it (a wizard to show, a check that wants a person), so the
 * record read afterwards must show the step done; otherwise the step fails saying so.
 */
export async function transition(
  client: OdooClient,
  model: string,
  recordId: number,
  method: string,
  expect: {
    /** The state the method leads to, as the record read back shows it. */
    readonly done: (record: OdooRecord) => boolean;
    /** What to do in Odoo when it did not happen. */
    readonly hint: string;
    readonly fields?: readonly string[];
    readonly context?: Record<string, unknown>;
  },
): Promise<OdooRecord> {
  await client.call(model, method, {
    ids: [recordId],
    ...(expect.context ? { context: expect.context } : {}),
  });
  const after = await readOne(client, model, recordId, ['state', 'name', ...(expect.fields ?? [])]);
  if (!expect.done(after))
    throw new OdooUserError(
      `${model} ${recordId} is ${String(after.state)} after ${method}`,
      { model, method },
      expect.hint,
    );
  return after;
}

/**
 * The Spine record a step's expression names (`{"@model": model, "@externalId": ...}`), as its
 * external id without module; undefined when the event names none. Any other shape is the
 * contract's error.
 */
export function namedRecord(
  subject: LifecycleSubject,
  index: number,
  key: string,
  value: unknown,
  model: string,
): string | undefined {
  if (value === undefined || value === null) return undefined;
  const relation = value as Record<string, unknown>;
  const externalId = relation['@externalId'];
  if (relation['@model'] !== model || typeof externalId !== 'string' || externalId === '')
    throw new MappingError(
      contractLabel(subject),
      `target.lifecycle[${index}].${key} gave ${JSON.stringify(value)}, not {"@model": "${model}", "@externalId": ...}`,
    );
  return bareExternalId(externalId);
}

/** The id of the record Spine wrote under external id `name`, or undefined while none is. */
export async function spineRecordId(
  client: OdooClient,
  model: string,
  name: string,
): Promise<number | undefined> {
  const [found] = await client.searchRead(
    'ir.model.data',
    [
      ['module', '=', EXTERNAL_ID_MODULE],
      ['name', '=', name],
      ['model', '=', model],
    ],
    { fields: ['res_id'], limit: 1 },
  );
  return found ? Number(found.res_id) : undefined;
}
