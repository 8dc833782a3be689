/**
 * The `reason` dimension of the receiver's `rejected` count that alarms read, named once so the
 * receiver and the alarms (infra/) cannot drift apart: CloudWatch keys a series on its exact
 * dimension values, and an alarm on a value nobody writes never fires.
 */
import type { SignatureFailure } from '../errors/signature-error.ts';

export const REJECTION_REASONS = {
  /** A path no contract names; counted under the source `unknown`, whatever was requested. */
  unknownSource: 'unknown-source',
  /** A known source whose signing secret is missing or empty: answered 503, nothing stored. */
  notConfigured: 'not-configured',
  /** A signature that does not match the stored secret (a vendor's secret changed, or a forgery). */
  signatureMismatch: 'mismatch' satisfies SignatureFailure,
} as const;

/** The source dimension every unknown path is counted under, so the metric stays bounded. */
export const UNKNOWN_SOURCE = 'unknown';
