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
import { OriginalNotPosted } from '../errors/original-not-posted.ts';
import { RefundOutgrown } from '../errors/refund-outgrown.ts';
import { RelationNotFound } from '../errors/relation-not-found.ts';
import { TotalsDiffer } from '../errors/totals-differ.ts';
import type { OdooClient, OdooRecord } from '../odoo/client.ts';
import { OdooValidationError } from '../odoo/errors/index.ts';
import { EXTERNAL_ID_MODULE, upsertByExternalId } from '../odoo/upsert.ts';
import {
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

const INVOICE = 'account.move';

type CreditNoteStep = Extract<CompiledLifecycleStep, { step: 'credit-note' }>;

/** The external id (module `spine`) of the credit note of the refund `subject` wrote. */
export function creditNoteExternalId(subject: LifecycleSubject): string {
  return `${externalIdFor(subject.contract.target.externalId, subject.context)}_credit_note`;
}

/** The posted original, or why the refund must wait for it (retryable) or cannot close (permanent). */
async function postedOriginal(
  client: OdooClient,
  name: string,
  refund: string,
): Promise<OdooRecord> {
  const invoiceId = await spineRecordId(client, INVOICE, name);
  const [invoice] =
    invoiceId === undefined
      ? []
      : await client.read(
          INVOICE,
          [invoiceId],
          ['state', 'partner_id', 'name', 'amount_total', 'amount_tax'],
        );
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
 * What the credit note books: the money returned, with the tax the invoice charged on it, so the
 * tax the business owes goes back down with the refund. A full refund reverses each line of the
 * invoice as it was; a partial one is split over the invoice's tax sets in proportion to what
 * each set weighed in its total (its untaxed base, so the tax is computed by Odoo on top). An
 * untaxed invoice gets one untaxed line. The post check then proves the total is the money
 * returned; a cent that proportion cannot give fails the event with both totals.
 */
async function creditNoteLines(
  client: OdooClient,
  invoice: OdooRecord,
  amount: number,
  label: string,
): Promise<Record<string, unknown>[]> {
  const lines = await client.searchRead(
    'account.move.line',
    [
      ['move_id', '=', invoice.id],
      ['display_type', '=', 'product'],
    ],
    {
      fields: [
        'name',
        'quantity',
        'price_unit',
        'discount',
        'tax_ids',
        'product_id',
        'price_subtotal',
      ],
    },
  );
  const invoiceTotal = Number(invoice.amount_total) || 0;
  // Without tax on the invoice (or nothing to weigh), the line is the money returned.
  if (!Number(invoice.amount_tax) || invoiceTotal <= 0 || lines.length === 0)
    return [{ name: label, quantity: 1, price_unit: amount, tax_ids: [] }];
  const taxes = (line: OdooRecord) => [...((line.tax_ids as number[] | undefined) ?? [])].sort();
  if (Math.abs(amount - invoiceTotal) < 0.005)
    return lines.map((line) => ({
      name: String(line.name || label),
      quantity: Number(line.quantity) || 1,
      price_unit: Number(line.price_unit) || 0,
      discount: Number(line.discount) || 0,
      tax_ids: taxes(line),
      ...(idOf(line.product_id) ? { product_id: idOf(line.product_id) } : {}),
    }));
  const share = amount / invoiceTotal;
  const bySet = new Map<string, { taxIds: number[]; base: number }>();
  for (const line of lines) {
    const taxIds = taxes(line);
    const key = taxIds.join(',');
    const entry = bySet.get(key) ?? { taxIds, base: 0 };
    entry.base += Number(line.price_subtotal) || 0;
    bySet.set(key, entry);
  }
  return [...bySet.values()].map(({ taxIds, base }) => ({
    name: label,
    quantity: 1,
    price_unit: Math.round(base * share * 100) / 100,
    tax_ids: taxIds,
  }));
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
  const value = await evaluateStep(subject, index, 'of', step.of);
  const original = namedRecord(subject, index, 'of', value, INVOICE);
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
    invoice_line_ids: await creditNoteLines(client, invoice, amount, label),
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
