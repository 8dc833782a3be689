import { SpineError } from '../errors/spine-error.ts';

/**
 * Another writer is creating a record with the same natural key right now (the same customer
 * arriving from two vendors at once). Retryable: the retry finds that record and links to it.
 */
export class NaturalKeyBusy extends SpineError {
  readonly code = 'natural-key-busy';
  readonly retryable = true;

  constructor(
    readonly model: string,
    /** The key fields (`email`), never their values. */
    readonly fields: string,
  ) {
    super(
      `another event is creating a ${model} with the same ${fields} right now`,
      'the event is retried and then linked to that record, so one customer stays one record',
    );
  }
}
