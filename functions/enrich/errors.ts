/**
 * Failures reading from a vendor's API. The worker decides from the class alone: retryable ones
 * send the event back to its queue (after the client's own retries), permanent ones keep it in
 * the flow's DLQ with the hint.
 */
import { SpineError } from '../errors/spine-error.ts';

/** The vendors Spine reads from, as their names are written in messages. */
export type VendorName = 'HubSpot' | 'Stripe';

export interface VendorErrorDetails {
  /** HTTP status, when the vendor answered. */
  readonly status?: number;
  /** The vendor's own message, as it said it. */
  readonly vendorMessage?: string;
  readonly cause?: unknown;
}

/** Every failure talking to a vendor's API. */
export abstract class VendorError extends SpineError {
  readonly status?: number;
  readonly vendorMessage?: string;

  constructor(
    readonly vendor: VendorName,
    message: string,
    details: VendorErrorDetails,
    hint: string,
  ) {
    super(message, hint, details.cause === undefined ? undefined : { cause: details.cause });
    this.status = details.status;
    this.vendorMessage = details.vendorMessage;
  }
}

/** The vendor refused the call for its rate limit (HTTP 429), or Spine held it back for that limit. */
export class VendorThrottled extends VendorError {
  readonly retryable = true;
  readonly code = 'vendor-throttled';
  /** How long the vendor asked us to wait (`Retry-After`, or HubSpot's rate-limit interval). */
  readonly retryAfterSeconds?: number;
  /** The vendor's name for the limit that was hit (HubSpot: `TEN_SECONDLY_ROLLING`, `DAILY`). */
  readonly policy?: string;

  constructor(
    vendor: VendorName,
    message: string,
    details: VendorErrorDetails & {
      readonly retryAfterSeconds?: number;
      readonly policy?: string;
    } = {},
  ) {
    super(
      vendor,
      message,
      details,
      `the event is retried from its queue; if this repeats, other integrations share the ${vendor} rate limit, or Spine's configured rate is above the account's: lower it or raise the limit at ${vendor}`,
    );
    this.retryAfterSeconds = details.retryAfterSeconds;
    this.policy = details.policy;
  }
}

/** The vendor failed (5xx), did not answer in time, or dropped the connection. */
export class VendorUnavailable extends VendorError {
  readonly retryable = true;
  readonly code = 'vendor-unavailable';

  constructor(vendor: VendorName, message: string, details: VendorErrorDetails = {}) {
    super(
      vendor,
      message,
      details,
      `the event is retried from its queue; if this repeats, check ${vendor}'s status page and that Spine can reach it`,
    );
  }
}

/**
 * The invocation reached its deadline before the vendor answered, or before a call could start.
 * Retryable: a read has no effect at the vendor, so nothing is left half-done.
 */
export class VendorDeadlineExceeded extends VendorError {
  readonly retryable = true;
  readonly code = 'vendor-deadline';

  constructor(vendor: VendorName, sent: boolean, details: VendorErrorDetails = {}) {
    super(
      vendor,
      sent
        ? `the invocation reached its deadline while ${vendor} was answering; the read was abandoned`
        : `the invocation reached its deadline; no further ${vendor} read was started`,
      details,
      `the event is retried from its queue; if this repeats, ${vendor} is slow: raise the worker timeout or lower the batch size`,
    );
  }
}

/**
 * The vendor refused the credential (401: unknown, revoked or expired; 403: lacking a scope or
 * permission). Permanent: the same token is refused again until someone stores a better one.
 */
export class VendorCredentialRefused extends VendorError {
  readonly retryable = false;
  readonly code = 'vendor-credential-refused';

  constructor(
    vendor: VendorName,
    /** Where the credential is stored: `spine/<env>/sources/<source>`. */
    readonly secretName: string,
    /** What to store there instead, in the vendor's words. */
    fix: string,
    details: VendorErrorDetails = {},
  ) {
    super(
      vendor,
      `${vendor} refused the token in ${secretName}: ${fix}${
        details.vendorMessage ? ` (HTTP ${details.status}: ${details.vendorMessage})` : ''
      }`,
      details,
      `${fix} as {"token": "..."} in ${secretName}, then replay the events kept in the flow DLQ`,
    );
  }
}

/**
 * The vendor answered something other than its documented JSON (an HTML page from a proxy, a
 * shape it does not document). Permanent: Spine cannot tell what the object is.
 */
export class VendorAnswerUnreadable extends VendorError {
  readonly retryable = false;
  readonly code = 'vendor-answer-unreadable';

  constructor(vendor: VendorName, message: string, details: VendorErrorDetails = {}) {
    super(
      vendor,
      message,
      details,
      `check the client's base URL (a proxy or a wrong host answers pages, not ${vendor}'s JSON); if it is ${vendor}'s own answer, its API changed: report it, then replay the events kept in the flow DLQ`,
    );
  }
}

/**
 * The vendor refused Spine's request as malformed (4xx other than 401/403/404/429): a property or
 * expansion it does not allow, a wrong base URL. Permanent: the same request is refused again.
 */
export class VendorRequestRefused extends VendorError {
  readonly retryable = false;
  readonly code = 'vendor-request-refused';

  constructor(vendor: VendorName, message: string, details: VendorErrorDetails = {}) {
    super(
      vendor,
      message,
      details,
      `check what the contract's enrich part asks (properties, expansions) against ${vendor}'s API, and the client's base URL; fix it, then replay the events kept in the flow DLQ`,
    );
  }
}
