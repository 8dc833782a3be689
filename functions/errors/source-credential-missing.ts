import { SpineError } from './spine-error.ts';

/**
 * A source's API credential, which enrichment needs, is not stored (or holds no token).
 * Retryable, so that no event is lost while someone stores it; each failure counts under this
 * class, which an alarm watches.
 */
export class SourceCredentialMissing extends SpineError {
  readonly retryable = true;
  readonly code = 'source-credential-missing';

  constructor(
    readonly secretName: string,
    detail: string,
  ) {
    super(
      `the API credential in ${secretName} is not usable: ${detail}`,
      `store {"token": "..."} in ${secretName} (a HubSpot private app token, a Stripe restricted key); the events waiting are retried`,
    );
  }
}
