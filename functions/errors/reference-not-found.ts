import { SpineError } from './spine-error.ts';

/**
 * A crosswalk entry is declared, but Odoo has no record it finds (a tax never created, a
 * currency renamed). Permanent: the record is configuration an operator creates, not data
 * another flow is about to bring; the hint is the entry's own instruction for creating it.
 */
export class ReferenceNotFound extends SpineError {
  readonly retryable = false;
  readonly code = 'reference-not-found';

  constructor(
    readonly model: string,
    /** `crosswalk/key`, e.g. `currencies/USD`. */
    readonly entry: string,
    /** What to create in Odoo, as the crosswalk entry says. */
    create: string,
  ) {
    super(
      `no ${model} record for reference data ${entry} (the crosswalk entry's find keys match nothing in Odoo)`,
      `${create.trim().replace(/\.?$/, '.')} Then replay the event; \`spine reference check\` lists every entry Odoo lacks`,
    );
  }
}
