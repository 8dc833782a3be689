import { SpineError } from '../errors/spine-error.ts';

/**
 * An older change to the same entity is being written to Odoo right now. Retryable: once that
 * write is over, this newer change is applied over it (never the other way round).
 */
export class EntityBusy extends SpineError {
  readonly code = 'entity-busy';
  readonly retryable = true;

  constructor(
    readonly entity: string,
    readonly holder: string,
    /** When the holder's claim lapses at the latest (ISO 8601). */
    readonly until?: string,
  ) {
    super(
      `${entity} is being written by an older event (${holder})`,
      'the event is retried once that write is over',
    );
  }
}
