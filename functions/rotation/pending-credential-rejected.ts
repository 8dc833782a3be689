import { SpineError } from '../errors/spine-error.ts';

/**
 * The pending Odoo credential failed its test, so the rotation stops before promoting it. The
 * message says whether AWSCURRENT still logs in (it does unless Odoo could not be reached to
 * put it back).
 */
export class PendingCredentialRejected extends SpineError {
  readonly retryable = false;
  readonly code = 'rotation-test-failed';
}
