/**
 * Turns a valid, minimised event into Odoo values with the contract's JSONata mapping, and
 * refuses any value the contract's write allowlist does not hold (the build checks the mapping
 * statically; this is the same rule enforced on what it actually produced).
 */
import jsonata from 'jsonata';
import { MappingError } from '../errors/mapping-error.ts';
import { SpineError } from '../errors/spine-error.ts';
import type { VendorFigures } from '../lineage/model.ts';
import type { CompiledContract } from './model.ts';
import { referenceRelation } from './reference.ts';

/** Values for one Odoo record. A relation is an object with `@model` and how to find it. */
export type OdooValues = Record<string, unknown>;

export interface MappingContext {
  readonly entityKey: string;
  readonly eventId: string;
  readonly source: string;
  /** The vendor account of the event (`$account`), when its contract locates one. */
  readonly account?: string;
  /**
   * The vendor object fetched for a thin event (functions/sync/enrichment.ts), which the
   * contract's expressions read as `$<as>` (`$contact.properties.firstname`).
   */
  readonly enriched?: { readonly as: string; readonly object: unknown };
}

// Stripe's list of currencies without minor units, and those with three decimals.
const ZERO_DECIMAL = new Set(
  'BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF'.split(' '),
);
const THREE_DECIMAL = new Set('BHD JOD KWD OMR TND'.split(' '));

/** Decimals of the currency's smallest unit: 2 for USD, 0 for JPY, 3 for KWD. */
export function minorUnitExponent(currency: string): number {
  const code = currency.toUpperCase();
  return ZERO_DECIMAL.has(code) ? 0 : THREE_DECIMAL.has(code) ? 3 : 2;
}

/** 1999 usd → 19.99; 500 jpy → 500; 1234 kwd → 1.234. */
export function fromMinorUnits(amount: number, currency: string): number {
  const exponent = minorUnitExponent(currency);
  return Number((amount / 10 ** exponent).toFixed(exponent));
}

function toDate(value: unknown): Date {
  const millis =
    typeof value === 'number' ? (value < 1e11 ? value * 1000 : value) : Date.parse(String(value));
  const date = new Date(millis);
  if (Number.isNaN(date.getTime())) throw new Error(`"${String(value)}" is not a time`);
  return date;
}

/** Odoo date fields take `YYYY-MM-DD` (in UTC here: vendors send UTC or an offset). */
export function isoDate(value: unknown): string {
  return toDate(value).toISOString().slice(0, 10);
}

/** Odoo datetime fields take `YYYY-MM-DD HH:MM:SS` in UTC. */
export function odooDatetime(value: unknown): string {
  return toDate(value).toISOString().slice(0, 19).replace('T', ' ');
}

const expressions = new Map<string, jsonata.Expression>();

function expressionFor(key: string, source: string): jsonata.Expression {
  let expression = expressions.get(key);
  if (!expression) {
    expression = jsonata(source);
    expression.registerFunction('fromMinorUnits', fromMinorUnits, '<ns:n>');
    expression.registerFunction('isoDate', isoDate, '<j:s>');
    expression.registerFunction('odooDatetime', odooDatetime, '<j:s>');
    expressions.set(key, expression);
  }
  return expression;
}

/**
 * Evaluates one of the contract's JSONata expressions (`name` says which, for errors) over the
 * minimised event, with the functions every contract expression may call, `$reference` included.
 */
export async function evaluateExpression(
  contract: CompiledContract,
  name: string,
  source: string,
  event: unknown,
  context: MappingContext,
) {
  try {
    const result = await expressionFor(
      `${contract.id}@${contract.version}#${name}`,
      source,
    ).evaluate(event, {
      entityKey: context.entityKey,
      eventId: context.eventId,
      source: context.source,
      account: context.account,
      ...(context.enriched ? { [context.enriched.as]: context.enriched.object } : {}),
      // Bound per evaluation, not registered on the cached expression: it reads this contract's
      // crosswalks, and a contract's reference data may differ between builds of one version.
      reference: (crosswalk: unknown, key: unknown) =>
        referenceRelation(contract, String(crosswalk), key),
    });
    // JSONata marks arrays with extra properties and leaves undefined members: plain JSON it is.
    return result === undefined ? undefined : (JSON.parse(JSON.stringify(result)) as unknown);
  } catch (error) {
    // Spine's own failures (an undeclared reference) keep their class: it is the DLQ reason.
    if (error instanceof SpineError) throw error;
    const e = error as { message?: string; position?: number };
    throw new MappingError(
      `${contract.id}@${contract.version}`,
      `${name} failed${e.position ? ` at character ${e.position}` : ''}: ${e.message ?? String(error)}`,
      undefined,
      { cause: error },
    );
  }
}

function isRelation(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && '@model' in value;
}

/** Fields of `values` outside the allowlist, as `field` or `line_field/sub_field`. */
function disallowed(values: OdooValues, allowed: ReadonlySet<string>, prefix = ''): string[] {
  const found: string[] = [];
  for (const [field, value] of Object.entries(values)) {
    const name = `${prefix}${field}`;
    if (!allowed.has(name)) {
      found.push(name);
      continue;
    }
    const lines = Array.isArray(value) ? value : [value];
    for (const line of lines) {
      if (typeof line === 'object' && line !== null && !Array.isArray(line) && !isRelation(line)) {
        found.push(...disallowed(line as OdooValues, allowed, `${name}/`));
      }
    }
  }
  return found;
}

/** Maps one event to the Odoo values its contract writes. */
export async function mapEvent(
  contract: CompiledContract,
  event: unknown,
  context: MappingContext,
): Promise<OdooValues> {
  const result =
    (await evaluateExpression(contract, 'mapping', contract.target.mapping, event, context)) ?? {};
  if (typeof result !== 'object' || Array.isArray(result) || result === null) {
    throw new MappingError(
      `${contract.id}@${contract.version}`,
      `the mapping produced ${JSON.stringify(result)}, not an object of Odoo values`,
    );
  }
  const values = result as OdooValues;
  const outside = disallowed(values, new Set(contract.target.write));
  if (outside.length > 0) {
    throw new MappingError(
      `${contract.id}@${contract.version}`,
      `the mapping wrote ${outside.map((f) => `"${f}"`).join(', ')}, which target.write does not allow`,
    );
  }
  return values;
}

/** The value reconciliation adds up for this event, or undefined when the contract sums nothing. */
export async function reconcileMeasure(
  contract: CompiledContract,
  event: unknown,
  values: OdooValues,
  context: MappingContext,
): Promise<number | undefined> {
  const { sum, sumFrom } = contract.reconcile;
  if (!sum) return undefined;
  const measure = sumFrom
    ? await evaluateExpression(contract, 'reconcile.sum.from', sumFrom, event, context)
    : values[sum];
  return typeof measure === 'number' ? measure : undefined;
}

/** What the applied lineage entry keeps for reconciliation: the measure, and the vendor's figures. */
export interface ReconcileFigures {
  readonly measure?: number;
  readonly vendor?: VendorFigures;
}

/**
 * The measure and what the vendor said about this event (currency, each declared amount, whether
 * the state expectation holds), each key present only when known, so it spreads into an entry.
 */
export async function reconcileFigures(
  contract: CompiledContract,
  event: unknown,
  values: OdooValues,
  context: MappingContext,
): Promise<ReconcileFigures> {
  const measure = await reconcileMeasure(contract, event, values, context);
  const { currency, amounts = [], state } = contract.reconcile;
  const evaluate = (name: string, source: string) =>
    evaluateExpression(contract, name, source, event, context);
  const code = currency ? await evaluate('reconcile.currency', currency) : undefined;
  const figures: Record<string, number> = {};
  for (const [i, amount] of amounts.entries()) {
    const figure = await evaluate(`reconcile.amounts[${i}].from`, amount.from);
    if (typeof figure === 'number' && Number.isFinite(figure)) figures[amount.field] = figure;
  }
  const vendor: VendorFigures = {
    ...(typeof code === 'string' && code !== '' ? { currency: code.toUpperCase() } : {}),
    ...(amounts.length > 0 ? { amounts: figures } : {}),
    ...(state
      ? {
          stateExpected: state.when
            ? truthy(await evaluate('reconcile.state.when', state.when))
            : true,
        }
      : {}),
  };
  return {
    ...(measure !== undefined ? { measure } : {}),
    ...(Object.keys(vendor).length > 0 ? { vendor } : {}),
  };
}

/** JSONata's `$boolean`: empty strings, zero, empty arrays and objects, null and undefined are false. */
function truthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(truthy);
  if (value !== null && typeof value === 'object') return Object.keys(value).length > 0;
  return Boolean(value);
}

/**
 * The external id (module `spine`) of the record an event writes, from the contract's template.
 * Characters outside [A-Za-z0-9_-] are spelled out (`.` → `_x2e`), so two vendor ids never
 * collapse into one external id; case is kept because vendor ids are case-sensitive.
 */
export function externalIdFor(template: string, context: MappingContext): string {
  return template.replace(
    /\{(entityKey|eventId|source)\}/g,
    (_, name: 'entityKey' | 'eventId' | 'source') =>
      context[name].replace(
        /[^A-Za-z0-9_-]/g,
        (c) => `_x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
      ),
  );
}
