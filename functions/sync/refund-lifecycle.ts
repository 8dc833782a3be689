/**
 * A refund closes against its original (DESIGN.md "Reference data and document lifecycle"). A
 * refund is an outbound customer payment, the record its contract writes, with its original's
 * partner (a relation `@of` the original). When the event names the invoice it refunds, the
 * `credit-note` step books why the money went back: a credit note reversing that invoice.
 *
 * Why a credit note beside the payment: the invoice is already paid by the original payment, so
 * an outbound payment alone settles nothing and sits on the customer's account as an open debit.
 * A credit note of the refunded amount (`out_refund`, `reversed_entry_id` = the invoice) is what
 * the outbound payment then pays: the invoice stays paid, the credit note is paid by the refund,
 * and Odoo lists the credit note, with the money returned, against the invoice.
 *
 * Why not the reversal wizard: `refund_moves` copies every line of the invoice (a full refund),
 * and the wizard's credit note has no external id. One line of the refunded amount, written with
 * its external id in one `load`, is found again by a retry whose answer was lost, never doubled.
 *
 * The step runs before `post`: an original that Odoo does not hold, or holds as a draft, fails
 * the event retryably with nothing posted. The credit note is posted only when its total is the
 * payment's; the `reconcile` step after `post` then matches the two (its `with` names the credit
 * note by {@link creditNoteExternalId}). Each part reads first, so a replay changes nothing.
 */
import { externalIdFor } from '../contracts/mapping.ts';
import type { CompiledLifecycleStep } from '../contracts/model.ts';
import { MappingError } from '../errors/mapping-error.ts';
import { OriginalNotPosted } from '../errors/original-not-posted.ts';
import { RefundOutgrown } from '../errors/refund-outgrown.ts';
import { RelationNotFound } from '../errors/relation-not-found.ts';
import { TotalsDiffer } from '../errors/totals-differ.ts';
import type { OdooClient, OdooRecord } from '../odoo/client.ts';
import { OdooValidationError } from '../odoo/errors/index.ts';
import { EXTERNAL_ID_MODULE, upsertByExternalId } from '../odoo/upsert.ts';
import {
  contractLabel,
  currencyOf,
  evaluateStep,
  idOf,
  type LifecycleChange,
  type LifecycleSubject,
  readOne,
  sameAmount,
  transition,
} from './lifecycle-support.ts';

const INVOICE = 'account.move';

type CreditNoteStep = Extract<CompiledLifecycleStep, { step: 'credit-note' }>;

/** The external id (module `spine`) of the credit note of the refund `subject` wrote. */
export function creditNoteExternalId(subject: LifecycleSubject): string {
  return `${externalIdFor(subject.contract.target.externalId, subject.context)}_credit_note`;
}

/** The original invoice the step names, as an external id without module, or undefined. */
function originalOf(subject: LifecycleSubject, index: number, value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  const relation = value as Record<string, unknown>;
  const externalId = relation['@externalId'];
  if (relation['@model'] !== INVOICE || typeof externalId !== 'string' || externalId === '')
    throw new MappingError(
      contractLabel(subject),
      `target.lifecycle[${index}].of gave ${JSON.stringify(value)}, not {"@model": "${INVOICE}", "@externalId": ...}`,
    );
  return externalId.replace(new RegExp(`^${EXTERNAL_ID_MODULE}\\.`), '');
}

/** The posted original, or why the refund must wait for it (retryable) or cannot close (permanent). */
async function postedOriginal(
  client: OdooClient,
  name: string,
  refund: string,
): Promise<OdooRecord> {
  const [data] = await client.searchRead(
    'ir.model.data',
    [
      ['module', '=', EXTERNAL_ID_MODULE],
      ['name', '=', name],
      ['model', '=', INVOICE],
    ],
    { fields: ['res_id'], limit: 1 },
  );
  const [invoice] = data
    ? await client.read(INVOICE, [Number(data.res_id)], ['state', 'partner_id', 'name'])
    : [];
  if (!invoice)
    throw new RelationNotFound(
      INVOICE,
      `external id ${EXTERNAL_ID_MODULE}.${name} (the original ${EXTERNAL_ID_MODULE}.${refund} refunds)`,
      true,
    );
  if (invoice.state !== 'posted')
    throw new OriginalNotPosted(
      INVOICE,
      `${EXTERNAL_ID_MODULE}.${name}`,
      String(invoice.state),
      `${EXTERNAL_ID_MODULE}.${refund}`,
    );
  return invoice;
}

/**
 * The refund's credit note against the invoice the step names: written once, posted once its
 * total is the payment's amount. Nothing when the event names no invoice.
 */
export async function creditNote(
  client: OdooClient,
  subject: LifecycleSubject,
  step: CreditNoteStep,
  index: number,
): Promise<LifecycleChange | undefined> {
  const original = originalOf(subject, index, await evaluateStep(subject, index, 'of', step.of));
  if (!original) return undefined;
  const refund = externalIdFor(subject.contract.target.externalId, subject.context);
  const invoice = await postedOriginal(client, original, refund);
  const payment = await readOne(client, subject.model, subject.recordId, [
    'amount',
    'currency_id',
    'date',
    'payment_reference',
  ]);
  const amount = Number(payment.amount) || 0;
  const label = `Refund of ${String(invoice.name)}`;
  const values = {
    move_type: 'out_refund',
    partner_id: idOf(invoice.partner_id) ?? false,
    currency_id: idOf(payment.currency_id) ?? false,
    reversed_entry_id: invoice.id,
    invoice_date: payment.date,
    ref: `Reversal of: ${String(invoice.name)}`,
    payment_reference: payment.payment_reference || false,
    // No taxes: the line is the money returned; a line without them is not given any by Odoo.
    invoice_line_ids: [{ name: label, quantity: 1, price_unit: amount, tax_ids: [] }],
  };
  const externalId = creditNoteExternalId(subject);
  // Derived from Odoo's own records, so written when created and never again (a posted credit
  // note refuses most writes anyway).
  const [written] = await upsertByExternalId(client, INVOICE, [
    { externalId, values, createOnly: Object.keys(values) },
  ]);
  if (written?.id === undefined || written.status === 'failed')
    throw (
      written?.error ??
      new OdooValidationError(`credit note ${EXTERNAL_ID_MODULE}.${externalId} was not written`, {
        model: INVOICE,
        method: 'load',
      })
    );
  const noteId = written.id;
  const note = await readOne(client, INVOICE, noteId, ['state', 'amount_total', 'currency_id']);
  const { code, rounding } = await currencyOf(client, note);
  const total = Number(note.amount_total) || 0;
  if (!sameAmount(total, amount, rounding)) {
    if (note.state === 'draft') throw new TotalsDiffer(INVOICE, noteId, amount, total, code);
    throw new RefundOutgrown(INVOICE, noteId, amount, total, code);
  }
  // Posted already (a replay, or a retry after `post` failed), or cancelled by hand: not ours.
  if (note.state !== 'draft') return undefined;
  const posted = await transition(client, INVOICE, noteId, 'action_post', {
    done: (r) => r.state !== 'draft',
    hint: 'post the credit note in Odoo to see what it asks for, then replay the event',
  });
  return {
    stage: 'posted',
    model: INVOICE,
    recordId: noteId,
    detail: `credit note ${INVOICE} ${noteId} of ${String(invoice.name)} posted as ${String(posted.name)} for ${amount} ${code}`,
  };
}
