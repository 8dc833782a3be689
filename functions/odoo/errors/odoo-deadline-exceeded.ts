import { OdooError, type OdooErrorDetails } from './odoo-error.ts';

/**
 * The invocation reached its deadline: no further Odoo call starts, and a call in flight is
 * abandoned. Retryable: the event goes back to its queue. A write abandoned in flight may still
 * commit in Odoo, so its outcome is unknown (`sent`), and the claims it holds are left to lapse.
 */
export class OdooDeadlineExceeded extends OdooError {
  readonly retryable = true;
  readonly code = 'deadline';

  constructor(
    details: OdooErrorDetails & {
      /** True when the request had been sent: Odoo may still run it. */
      readonly sent: boolean;
    },
  ) {
    super(
      details.sent
        ? 'the invocation reached its deadline while Odoo was answering; the call was abandoned'
        : 'the invocation reached its deadline; no further Odoo call was started',
      details,
      'the event is retried from its queue; if this repeats, Odoo is slow: check its load, or raise the worker timeout',
    );
    this.sent = details.sent;
  }

  readonly sent: boolean;
}
