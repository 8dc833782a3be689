import { SpineError } from './spine-error.ts';

/**
 * Odoo's total of a document is not what the vendor charged, so it is left in draft: nothing is
 * posted half-way. Permanent: the same lines give the same total until the mapping, the taxes
 * or the crosswalk change.
 */
export class TotalsDiffer extends SpineError {
  readonly retryable = false;
  readonly code = 'totals-differ';

  constructor(
    readonly model: string,
    readonly recordId: number,
    /** What the vendor's event says, in major units. */
    readonly expected: number,
    /** What Odoo computed from the lines it was given. */
    readonly actual: number,
    readonly currency: string,
    /** The tax amounts too, when the vendor states its tax (an order's total_tax). */
    readonly tax?: { readonly expected: number; readonly actual: number },
    /** Why it cannot be evened out, when that is not the size of the difference. */
    readonly why?: string,
  ) {
    super(
      `${model} ${recordId} is left ${model === 'sale.order' ? 'as it is' : 'in draft'}: Odoo's total is ${actual} ${currency}, the event's is ${expected} ${currency}${tax ? `; Odoo's tax is ${tax.actual} ${currency}, the event's is ${tax.expected} ${currency}` : ''}${why ? ` (${why})` : ''}`,
      "compare the draft's lines and taxes with the vendor's (taxes crosswalk, tax rounding, lines left out of the event); fix the contract or Odoo's taxes, correct or delete the draft (its lines are written only when it is created), then replay the event",
    );
  }
}
