import { SpineError } from '../errors/spine-error.ts';

/**
 * A replay was started with input it cannot act on (a filter time that is not a time, ...).
 * The state machine fails the run with this message instead of retrying the turn.
 */
export class ReplayInputError extends SpineError {
  readonly retryable = false;
  readonly code = 'replay-input';
}
