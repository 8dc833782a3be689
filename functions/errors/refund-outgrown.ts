import { SpineError } from './spine-error.ts';

/**
 * A refund's credit note was posted for less than the refund now says. Stripe's charge.refunded
 * carries the cumulative amount refunded, so a second partial refund of one charge raises the
 * amount after the first was booked; posted documents are never rewritten. Permanent: the
 * difference needs a document of its own.
 */
export class RefundOutgrown extends SpineError {
  readonly retryable = false;
  readonly code = 'refund-outgrown';

  constructor(
    readonly model: string,
    readonly recordId: number,
    /** What the refund (its payment) now says, in major units. */
    readonly expected: number,
    /** What the posted credit note holds. */
    readonly posted: number,
    readonly currency: string,
  ) {
    super(
      `${model} ${recordId} was posted as the credit note of a ${posted} ${currency} refund, which is now ${expected} ${currency}: a posted document is not rewritten`,
      'book the difference in Odoo by hand (a credit note and a refund payment for it), then mark the event resolved',
    );
  }
}
