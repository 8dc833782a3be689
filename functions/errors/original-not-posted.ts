import { SpineError } from './spine-error.ts';

/**
 * The original a refund closes against (the invoice it credits) is in Odoo but not posted.
 * A draft is retryable: its own event posts it, and nothing of the refund is posted until then.
 * A cancelled original is permanent: there is nothing left to credit.
 */
export class OriginalNotPosted extends SpineError {
  readonly code = 'original-not-posted';
  readonly retryable: boolean;

  constructor(
    readonly model: string,
    /** `spine.stripe_invoice_in_...` */
    readonly externalId: string,
    readonly state: string,
    /** The external id of the refund that waits for it. */
    readonly refund: string,
  ) {
    const retryable = state === 'draft';
    super(
      `${model} ${externalId}, the original ${refund} refunds, is ${state === 'draft' ? 'still a draft' : state}: nothing of the refund is posted until it is posted`,
      retryable
        ? 'the event is retried: the original is posted by its own event (a draft that failed for good, e.g. totals-differ, must be fixed first)'
        : 'a cancelled original cannot be credited: book the refund in Odoo by hand, then mark the event resolved',
    );
    this.retryable = retryable;
  }
}
