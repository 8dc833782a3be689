import type { Violation } from '../errors/contract-violation.ts';
import { SpineError } from '../errors/spine-error.ts';

/**
 * The vendor answered an object that breaks the contract's enrich schema: like an event that
 * breaks its contract, never retried as it is (the answer would be the same), and kept with the
 * report in the flow's DLQ.
 */
export class EnrichedObjectViolation extends SpineError {
  readonly retryable = false;
  readonly code = 'enriched-object-violation';

  constructor(
    readonly contract: string,
    readonly object: string,
    readonly violations: readonly Violation[],
  ) {
    super(
      `the ${object} fetched for contract ${contract} does not satisfy its enrich schema: ${violations
        .slice(0, 3)
        .map((v) => `${v.path} ${v.message}`)
        .join('; ')}${violations.length > 3 ? `; and ${violations.length - 3} more` : ''}`,
      "the event was kept in the flow DLQ with this report; widen the contract's enrich schema in a new version (or ask the vendor), then replay it",
    );
  }
}

/**
 * The vendor's API answered a state older than the change its webhook announced (an index that
 * has not caught up). Retryable: a later read shows the change; writing now would write older data.
 */
export class VendorBehind extends SpineError {
  readonly retryable = true;
  readonly code = 'vendor-behind';

  constructor(object: string, id: string, version: string, eventTime: string) {
    super(
      `${object} ${id} is at version ${version} at the vendor, older than the event (${eventTime})`,
      'the event is retried until the vendor shows the change',
    );
  }
}
