/**
 * Applying through a rotation of the Odoo credential: a denial right after the credential
 * changed, or while a rotation is under way, is retried at once with the credential read again
 * (or the pending one), and is never dead-lettered. Only a denial with no rotation in sight is
 * permanent.
 */
import type { Envelope } from '../ingest/envelope.ts';
import { OdooAccessDenied } from '../odoo/errors/index.ts';
import {
  type ApplyOptions,
  type ApplyOutcome,
  applyEnvelopes,
  type SyncDependencies,
} from './apply.ts';

/** The Odoo credential as the worker holds it (platform/secrets.ts OdooConnection). */
export interface CredentialRotation {
  /** Reads AWSCURRENT again; true when the credential in use changed. */
  refresh(): Promise<boolean>;
  /** Whether a rotation is under way (an AWSPENDING version exists). */
  rotating(): Promise<boolean>;
  /** Switches to AWSPENDING, which Odoo takes between setSecret and finishSecret. */
  usePending(): Promise<boolean>;
}

const deniedIn = (outcomes: readonly ApplyOutcome[]) =>
  outcomes.flatMap((o, i) =>
    o.kind === 'failed' && o.error instanceof OdooAccessDenied ? [i] : [],
  );

export async function applyThroughRotation(
  envelopes: readonly Envelope[],
  deps: Omit<SyncDependencies, 'retryable' | 'retriesAtOnce'>,
  credential: CredentialRotation,
  options: ApplyOptions = {},
): Promise<ApplyOutcome[]> {
  // Set once the credential is known to have just changed, or to be rotating: a denial then is
  // likely to pass on the next attempt, so it goes back to the queue instead of the DLQ.
  let credentialInFlux = false;
  // Denials retried at once, with a credential read again, leave no trace: the attempt that
  // decides is the one lineage shows.
  let retryingDenials = true;
  const rotationAware: SyncDependencies = {
    ...deps,
    retryable: (error) =>
      error instanceof OdooAccessDenied && credentialInFlux ? true : undefined,
    retriesAtOnce: (error) => retryingDenials && error instanceof OdooAccessDenied,
  };
  const outcomes = await applyEnvelopes(envelopes, rotationAware, options);
  const retryDenied = async () => {
    const denied = deniedIn(outcomes);
    const retried = await applyEnvelopes(
      denied.map((i) => envelopes[i] as Envelope),
      rotationAware,
      options.deadline ? { deadline: options.deadline } : {},
    );
    denied.forEach((index, j) => {
      outcomes[index] = retried[j] as ApplyOutcome;
    });
  };
  if (deniedIn(outcomes).length === 0) return outcomes;
  // The credential may have rotated since it was cached: read AWSCURRENT again, and retry.
  credentialInFlux = await credential.refresh();
  // Between a password rotation's setSecret and finishSecret, Odoo takes only AWSPENDING: with a
  // rotation under way, a denial of AWSCURRENT is followed by a try with AWSPENDING.
  const rotating = await credential.rotating();
  retryingDenials = rotating;
  await retryDenied();
  if (deniedIn(outcomes).length === 0 || !rotating) return outcomes;
  // Only a denial with no rotation in sight, and no credential change just before, is permanent.
  // (If the rotation ended meanwhile, AWSCURRENT is tried once more.)
  retryingDenials = false;
  if (await credential.usePending()) credentialInFlux = true;
  await retryDenied();
  return outcomes;
}
