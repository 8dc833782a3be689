import { SpineError } from '../errors/spine-error.ts';

/** A reconciliation day that is not a calendar date written YYYY-MM-DD (2026-13-45, 2026-2-3). */
export class InvalidDay extends SpineError {
  readonly retryable = false;
  readonly code = 'invalid-day';
}
