/**
 * How far a written document goes (DESIGN.md "Reference data and document lifecycle"): the
 * contract's lifecycle steps run in order on the record an event just wrote. Each step reads the
 * record's state first and does only what is not done yet, so a replay, a retry after a lost
 * answer, or the other event of a pair arriving later never posts or reconciles twice.
 *
 * - post: a draft leaves draft with `action_post`; an invoice only when Odoo's total equals the
 *   vendor's to the currency's rounding (else `TotalsDiffer`, and the invoice stays a draft).
 * - reconcile: an invoice and its payment, whichever event comes second, are matched the way the
 *   external API allows on Odoo 16–19: the payment's open receivable line assigned to the invoice
 *   (`js_assign_outstanding_line`). While the counterpart is missing or still a draft, nothing:
 *   both contracts declare the step, each naming the other.
 */
import type { CompiledLifecycleStep } from '../contracts/model.ts';
import { MappingError } from '../errors/mapping-error.ts';
import { TotalsDiffer } from '../errors/totals-differ.ts';
import type { OdooClient, OdooRecord } from '../odoo/client.ts';
import { OdooUserError } from '../odoo/errors/index.ts';
import {
  contractLabel,
  currencyOf,
  evaluateStep,
  idOf,
  type LifecycleChange,
  type LifecycleSubject,
  namedRecord,
  readOne,
  sameAmount,
  spineRecordId,
  transition,
} from './lifecycle-support.ts';
import { cancelOrder, confirmOrder, matchOrderTotals } from './order-lifecycle.ts';
import { creditNote } from './refund-lifecycle.ts';

export type { LifecycleChange, LifecycleSubject } from './lifecycle-support.ts';

/** The changes made, and the error that stopped the steps, if one did. */
export interface LifecycleResult {
  readonly changes: readonly LifecycleChange[];
  readonly error?: Error;
}

const INVOICE = 'account.move';
const PAYMENT = 'account.payment';
/** Payment states that have a journal entry to reconcile: 16/17 `posted`, 18/19 `in_process`/`paid`. */
const POSTED_PAYMENT = new Set(['posted', 'in_process', 'paid']);
/** Nothing is left to pay: Community says `paid`, Enterprise `in_payment` until bank-matched. */
const SETTLED = new Set(['paid', 'in_payment', 'reversed']);

async function post(
  client: OdooClient,
  subject: LifecycleSubject,
  step: Extract<CompiledLifecycleStep, { step: 'post' }>,
  index: number,
): Promise<LifecycleChange | undefined> {
  const { model, recordId } = subject;
  const totalField = model === PAYMENT ? 'amount' : 'amount_total';
  const record = await readOne(client, model, recordId, ['state', totalField, 'currency_id']);
  // Posted, paid or cancelled: not this step's to change (and posting twice is an error in Odoo).
  if (record.state !== 'draft') return undefined;
  const actual = Number(record[totalField]) || 0;
  let checked = '';
  if (step.total !== undefined) {
    const expected = await evaluateStep(subject, index, 'total', step.total);
    if (typeof expected !== 'number')
      throw new MappingError(
        contractLabel(subject),
        `target.lifecycle[${index}].total gave ${JSON.stringify(expected)}, not an amount`,
      );
    const { code, rounding } = await currencyOf(client, record);
    if (!sameAmount(actual, expected, rounding))
      throw new TotalsDiffer(model, recordId, expected, actual, code);
    checked = `, its total ${actual} ${code} equal to the event's`;
  }
  const posted = await transition(client, model, recordId, 'action_post', {
    done: (r) => r.state !== 'draft',
    hint: 'post it in Odoo to see what it asks for (a review wizard, a missing field), then replay the event',
  });
  return {
    stage: 'posted',
    model,
    recordId,
    detail: `${model} ${recordId} posted${posted.name ? ` as ${String(posted.name)}` : ''} (state ${String(posted.state)})${checked}`,
  };
}

async function reconcile(
  client: OdooClient,
  subject: LifecycleSubject,
  step: Extract<CompiledLifecycleStep, { step: 'reconcile' }>,
  index: number,
): Promise<LifecycleChange | undefined> {
  // The counterpart of an invoice is its payment; of a payment, its invoice (or credit note).
  const model = subject.model === INVOICE ? PAYMENT : INVOICE;
  const value = await evaluateStep(subject, index, 'with', step.with);
  const name = namedRecord(subject, index, 'with', value, model);
  if (!name) return undefined;
  const other = await spineRecordId(client, model, name);
  // Not written yet: its own event reconciles when it arrives, since its contract names this one.
  if (other === undefined) return undefined;
  const [invoiceId, paymentId] =
    subject.model === INVOICE ? [subject.recordId, other] : [other, subject.recordId];

  const invoiceFields = ['state', 'amount_residual', 'payment_state'];
  const invoice = await readOne(client, INVOICE, invoiceId, invoiceFields);
  // A draft invoice is its own event's to post; once posted, that event reconciles it.
  if (invoice.state !== 'posted' || settled(invoice)) return undefined;
  const payment = await readOne(client, PAYMENT, paymentId, ['state', 'move_id']);
  const paymentMove = idOf(payment.move_id);
  if (!POSTED_PAYMENT.has(String(payment.state)) || !paymentMove) return undefined;
  const [line] = await client.searchRead(
    'account.move.line',
    [
      ['move_id', '=', paymentMove],
      ['account_type', 'in', ['asset_receivable', 'liability_payable']],
      ['reconciled', '=', false],
    ],
    { fields: ['id'], limit: 1 },
  );
  // The payment is matched already (with this invoice, or by hand with another): nothing to add.
  if (!line) return undefined;
  try {
    await client.call(INVOICE, 'js_assign_outstanding_line', {
      ids: [invoiceId],
      args: { line_id: line.id },
    });
  } catch (error) {
    // The other event of the pair, delivered at the same moment, may have matched them first:
    // Odoo then refuses entries already reconciled. Settled is what this step wanted.
    if (!(error instanceof OdooUserError)) throw error;
    if (settled(await readOne(client, INVOICE, invoiceId, invoiceFields))) return undefined;
    throw error;
  }
  const after = await readOne(client, INVOICE, invoiceId, invoiceFields);
  const detail = `account.move ${invoiceId} with account.payment ${paymentId}: payment_state ${String(after.payment_state)}, amount_residual ${Number(after.amount_residual)}`;
  return { stage: 'reconciled', model: subject.model, recordId: subject.recordId, detail };
}

function settled(invoice: OdooRecord): boolean {
  return SETTLED.has(String(invoice.payment_state)) || Number(invoice.amount_residual) === 0;
}

function runStep(
  client: OdooClient,
  subject: LifecycleSubject,
  step: CompiledLifecycleStep,
  index: number,
): Promise<LifecycleChange | undefined> {
  switch (step.step) {
    case 'post':
      return post(client, subject, step, index);
    case 'reconcile':
      return reconcile(client, subject, step, index);
    case 'totals':
      return matchOrderTotals(client, subject, step, index);
    case 'confirm':
      return confirmOrder(client, subject, step, index);
    case 'cancel':
      return cancelOrder(client, subject, step, index);
    case 'credit-note':
      return creditNote(client, subject, step, index);
  }
}

/** Runs the contract's lifecycle on the record its event wrote; stops at the first failing step. */
export async function advanceDocument(
  client: OdooClient,
  subject: LifecycleSubject,
): Promise<LifecycleResult> {
  const changes: LifecycleChange[] = [];
  const steps = subject.contract.target.lifecycle;
  for (const [index, step] of steps.entries()) {
    try {
      const change = await runStep(client, subject, step, index);
      if (change) changes.push(change);
    } catch (error) {
      return { changes, error: error instanceof Error ? error : new Error(String(error)) };
    }
  }
  return { changes };
}
