/**
 * The judge of a chaos run. It compares the harness's ledger (what was sent, and what Odoo must
 * therefore hold) with what Odoo holds, read raw from the emulator's tables. Lineage is used for
 * one thing only: to account for an event that left no record of its own (applied, skipped with a
 * reason, skipped as stale); whether anything was duplicated, overwritten by an older version or
 * written with other lines is decided from Odoo's rows alone.
 */
import {
  type EntityExpectation,
  type ExpectedLine,
  eventKey,
  type LinesExpectation,
  normaliseEmail,
  type SentEvent,
  type TrafficPlan,
} from './traffic.ts';

export type OdooRow = Record<string, unknown> & { readonly id: number };
export type OdooTables = Readonly<Record<string, readonly OdooRow[]>>;

/** What lineage says of one event: its stages and the details of its skips. */
export interface EventTrail {
  readonly stages: readonly string[];
  readonly details: readonly string[];
  /** The error of its last failed attempt, if any. */
  readonly lastError?: string;
}

export type EventAccount =
  | 'applied'
  | 'skipped-stale'
  | 'skipped'
  | 'quarantined'
  | 'dead-lettered'
  | 'parked'
  | 'ignored'
  | 'lost';

export interface VerdictInput {
  readonly plan: TrafficPlan;
  /** How the gateway answered each event it took (2xx): accepted, ignored or quarantined. */
  readonly answered: ReadonlyMap<string, 'accepted' | 'ignored' | 'quarantined'>;
  readonly trails: ReadonlyMap<string, EventTrail>;
  /** Events in a DLQ at the end, and in a parking queue. */
  readonly deadLetters: ReadonlySet<string>;
  readonly parked: ReadonlySet<string>;
  readonly odoo: OdooTables;
  /** Event keys of re-deliveries answered 2xx (one per re-delivery). */
  readonly repeats: readonly string[];
}

export interface Finding {
  readonly kind: string;
  readonly detail: string;
}

export interface Verdict {
  readonly accounts: Readonly<Record<EventAccount, number>>;
  readonly skippedReasons: Readonly<Record<string, number>>;
  readonly lost: readonly Finding[];
  /** Events still dead-lettered, parked or quarantined after the replays, with faults long off. */
  readonly stuck: readonly Finding[];
  readonly duplicated: readonly Finding[];
  readonly staleOverwrites: readonly Finding[];
  readonly wrongValues: readonly Finding[];
  readonly linesNotAsSent: readonly Finding[];
  readonly missingRecords: readonly Finding[];
  /** Entities whose newest event was never applied (dead-lettered, parked, skipped): not compared. */
  readonly notCompared: number;
  readonly duplicatesSuppressed: number;
}

const idOf = (value: unknown): number | undefined =>
  typeof value === 'number' ? value : Array.isArray(value) ? (value[0] as number) : undefined;

/** Accounts for one event the gateway took, by its trail and where it is at the end. */
export function accountFor(
  key: string,
  input: Pick<VerdictInput, 'answered' | 'trails' | 'deadLetters' | 'parked'>,
): EventAccount {
  if (input.answered.get(key) === 'ignored') return 'ignored';
  const stages = input.trails.get(key)?.stages ?? [];
  if (stages.includes('applied')) return 'applied';
  if (stages.includes('skipped-stale')) return 'skipped-stale';
  if (stages.includes('skipped')) return 'skipped';
  if (input.parked.has(key) || stages.includes('parked')) return 'parked';
  if (input.deadLetters.has(key)) return 'dead-lettered';
  if (stages.includes('quarantined')) return 'quarantined';
  return 'lost';
}

function sameValue(field: string, expected: unknown, actual: unknown): boolean {
  if (typeof expected === 'number')
    return typeof actual === 'number' && Math.abs(actual - expected) < 0.005;
  if (field === 'email')
    return typeof actual === 'string' && normaliseEmail(actual) === String(expected);
  return actual === expected;
}

const lineKey = (l: ExpectedLine) =>
  `${l.sku ?? l.name ?? ''} × ${l.quantity} at ${l.price.toFixed(2)}`;

function multiset(keys: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  return counts;
}

export function judge(input: VerdictInput): Verdict {
  const { plan, odoo } = input;
  const table = (model: string) => odoo[model] ?? [];
  const byId = (model: string) => new Map(table(model).map((r) => [r.id, r]));

  // ---- accounting: every event the gateway took ends somewhere -----------------------------
  const accounts: Record<EventAccount, number> = {
    applied: 0,
    'skipped-stale': 0,
    skipped: 0,
    quarantined: 0,
    'dead-lettered': 0,
    parked: 0,
    ignored: 0,
    lost: 0,
  };
  const accountOf = new Map<string, EventAccount>();
  const skippedReasons: Record<string, number> = {};
  const lost: Finding[] = [];
  const stuck: Finding[] = [];
  for (const [key, event] of plan.events) {
    if (!input.answered.has(key)) continue;
    const account = accountFor(key, input);
    accountOf.set(key, account);
    accounts[account]++;
    if (account === 'skipped') {
      const reason = input.trails.get(key)?.details[0] ?? '(no reason given)';
      skippedReasons[reason] = (skippedReasons[reason] ?? 0) + 1;
    }
    if (account === 'parked' || account === 'dead-lettered' || account === 'quarantined')
      stuck.push({
        kind: account,
        detail: `${event.source} ${event.eventId} (${event.contract}, ${event.externalId}) ${account}${input.trails.get(key)?.lastError ? `; last error: ${input.trails.get(key)?.lastError}` : ''}`,
      });
    if (account === 'lost') {
      const stages = input.trails.get(key)?.stages ?? [];
      lost.push({
        kind: 'lost',
        detail: `${event.source} ${event.eventId} (${event.contract}, ${event.externalId}): answered 2xx, then ${stages.length ? `only ${stages.join(' → ')}` : 'no trace at all'}, and in no DLQ or parking queue`,
      });
    }
  }
  const accountOfEvent = (e: Pick<SentEvent, 'source' | 'eventId'>) =>
    accountOf.get(eventKey(e.source, e.eventId));

  // ---- external ids --------------------------------------------------------------------------
  const references = new Map<string, OdooRow[]>();
  for (const row of table('ir.model.data')) {
    if (row.module !== 'spine') continue;
    const name = String(row.name);
    references.set(name, [...(references.get(name) ?? []), row]);
  }
  const recordOf = (externalId: string): OdooRow | undefined => {
    const reference = references.get(externalId)?.[0];
    if (!reference) return undefined;
    return byId(String(reference.model)).get(idOf(reference.res_id) as number);
  };

  const duplicated: Finding[] = [];
  for (const [name, rows] of references)
    if (rows.length > 1)
      duplicated.push({
        kind: 'external id',
        detail: `spine.${name} is ${rows.length} ir.model.data rows (${rows.map((r) => `${String(r.model)} ${String(r.res_id)}`).join(', ')})`,
      });

  // ---- natural keys: one partner per e-mail, one product per SKU ------------------------------
  const partnersByEmail = new Map<string, number[]>();
  for (const partner of table('res.partner')) {
    if (typeof partner.email !== 'string') continue;
    const email = normaliseEmail(partner.email);
    partnersByEmail.set(email, [...(partnersByEmail.get(email) ?? []), partner.id]);
  }
  for (const email of plan.emails) {
    const ids = partnersByEmail.get(email) ?? [];
    if (ids.length > 1)
      duplicated.push({
        kind: 'natural key',
        detail: `${ids.length} partners with e-mail ${email}: res.partner ${ids.join(', ')}`,
      });
  }
  const productsBySku = new Map<string, number[]>();
  for (const product of table('product.product')) {
    if (typeof product.default_code !== 'string') continue;
    const sku = product.default_code.trim();
    productsBySku.set(sku, [...(productsBySku.get(sku) ?? []), product.id]);
  }
  for (const sku of plan.skus) {
    const ids = productsBySku.get(sku) ?? [];
    if (ids.length > 1)
      duplicated.push({
        kind: 'natural key',
        detail: `${ids.length} products with SKU ${sku}: product.product ${ids.join(', ')}`,
      });
  }
  // A record made twice with one external id: the copy has the same order reference or memo.
  for (const identity of plan.identities) {
    const ids = table(identity.model)
      .filter((r) => r[identity.field] === identity.value)
      .map((r) => r.id);
    if (ids.length > 1)
      duplicated.push({
        kind: 'record',
        detail: `${ids.length} ${identity.model} records with ${identity.field} "${identity.value}" (${identity.externalId}): ${ids.join(', ')}`,
      });
  }

  // ---- lines exactly as sent -------------------------------------------------------------------
  const linesNotAsSent: Finding[] = [];
  const missingRecords: Finding[] = [];
  const orderLines = new Map<number, OdooRow[]>();
  for (const line of table('sale.order.line')) {
    const order = idOf(line.order_id) as number;
    orderLines.set(order, [...(orderLines.get(order) ?? []), line]);
  }
  const moveLines = new Map<number, OdooRow[]>();
  for (const line of table('account.move.line')) {
    const move = idOf(line.move_id) as number;
    moveLines.set(move, [...(moveLines.get(move) ?? []), line]);
  }
  const products = byId('product.product');
  const actualLines = (expectation: LinesExpectation, record: OdooRow): string[] =>
    expectation.model === 'sale.order'
      ? (orderLines.get(record.id) ?? []).map((l) =>
          lineKey({
            sku: String(products.get(idOf(l.product_id) as number)?.default_code ?? '?'),
            quantity: Number(l.product_uom_qty),
            price: Number(l.price_unit),
          }),
        )
      : (moveLines.get(record.id) ?? [])
          // Journal items that are not invoice lines (sections, notes) carry a display_type.
          .filter((l) => !l.display_type || l.display_type === 'product')
          .map((l) =>
            lineKey({
              name: String(l.name),
              quantity: Number(l.quantity),
              price: Number(l.price_unit),
            }),
          );
  for (const expectation of plan.lines) {
    const account = accountOfEvent(expectation);
    if (account === undefined) continue;
    const record = recordOf(expectation.externalId);
    if (!record) {
      if (account === 'applied')
        missingRecords.push({
          kind: 'missing',
          detail: `${expectation.model} spine.${expectation.externalId}: event ${expectation.eventId} applied, no record in Odoo`,
        });
      continue;
    }
    const expected = multiset(expectation.lines.map(lineKey));
    const actual = multiset(actualLines(expectation, record));
    const extra: string[] = [];
    const absent: string[] = [];
    for (const [key, n] of actual)
      if (n > (expected.get(key) ?? 0)) extra.push(`${n - (expected.get(key) ?? 0)} × [${key}]`);
    for (const [key, n] of expected)
      if (n > (actual.get(key) ?? 0)) absent.push(`${n - (actual.get(key) ?? 0)} × [${key}]`);
    if (extra.length === 0 && absent.length === 0) continue;
    const finding = {
      kind: 'lines',
      detail: `${expectation.model} ${record.id} (spine.${expectation.externalId}, event ${expectation.eventId}): ${[...expected.values()].reduce((a, b) => a + b, 0)} lines sent, ${[...actual.values()].reduce((a, b) => a + b, 0)} in Odoo${extra.length ? `; extra ${extra.join(', ')}` : ''}${absent.length ? `; missing ${absent.join(', ')}` : ''}`,
    };
    linesNotAsSent.push(finding);
    if (extra.length > 0) duplicated.push({ ...finding, kind: 'lines' });
  }

  // ---- every entity holds its newest version's values -------------------------------------------
  const staleOverwrites: Finding[] = [];
  const wrongValues: Finding[] = [];
  let notCompared = 0;
  const compare = (entity: EntityExpectation) => {
    const versions = [...entity.versions].sort((a, b) => a.occurredAt - b.occurredAt);
    const newest = versions.at(-1);
    if (!newest) return;
    const accountsOf = versions.map((v) => accountOfEvent(v));
    if (accountsOf.every((a) => a === undefined)) return;
    const newestAccount = accountOfEvent(newest);
    const record = recordOf(entity.externalId);
    if (!record) {
      if (entity.mayBeAbsent || !accountsOf.includes('applied')) return;
      missingRecords.push({
        kind: 'missing',
        detail: `${entity.model} spine.${entity.externalId}: applied (${versions
          .filter((_, i) => accountsOf[i] === 'applied')
          .map((v) => v.eventId)
          .join(', ')}), no record in Odoo`,
      });
      return;
    }
    // The newest version never reached Odoo (dead-lettered, parked, refused, skipped): an older
    // value is then right, and nothing can be said.
    if (newestAccount !== 'applied' && newestAccount !== 'skipped-stale') {
      notCompared++;
      return;
    }
    for (const [field, expected] of Object.entries(newest.values)) {
      const actual = record[field];
      if (sameValue(field, expected, actual)) continue;
      const older = versions.slice(0, -1).find((v) => sameValue(field, v.values[field], actual));
      const finding = {
        kind: older ? 'stale overwrite' : 'wrong value',
        detail: `${entity.model} ${record.id} (spine.${entity.externalId}) ${field} is ${JSON.stringify(actual)}${older ? `, the value of older event ${older.eventId}` : ''}; the newest event ${newest.eventId} (${newestAccount}) sent ${JSON.stringify(expected)}`,
      };
      (older ? staleOverwrites : wrongValues).push(finding);
    }
  };
  for (const entity of plan.entities) compare(entity);

  // A re-delivery was suppressed unless what it writes shows up twice.
  const duplicatedText = duplicated.map((d) => d.detail).join('\n');
  const duplicatesSuppressed = input.repeats.filter((key) => {
    const event = plan.events.get(key);
    return !event || !duplicatedText.includes(event.externalId);
  }).length;

  return {
    accounts,
    skippedReasons,
    lost,
    stuck,
    duplicated,
    staleOverwrites,
    wrongValues,
    linesNotAsSent,
    missingRecords,
    notCompared,
    duplicatesSuppressed,
  };
}
