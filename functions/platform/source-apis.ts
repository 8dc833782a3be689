/**
 * The vendor API clients enrichment reads through, one per kind of object per container (each
 * holds its share of the vendor's rate limit), with the source's credential read from Secrets
 * Manager through the same cache as the webhook secrets: a rotated token is picked up within the
 * cache's life, and a missing one fails the events retryably, naming the secret.
 */
import { HubSpotContacts } from '../enrich/hubspot.ts';
import type { SourceCredential, VendorObjectKind, VendorReader } from '../enrich/model.ts';
import { StripePaymentIntents } from '../enrich/stripe.ts';
import { SourceCredentialMissing } from '../errors/source-credential-missing.ts';
import { sourceCredentialName } from './names.ts';
import type { CachedSecrets } from './secrets.ts';

export interface SourceApiOptions {
  readonly stage: string;
  /** Where each vendor's API is, when not its public address (the local emulators). */
  readonly baseUrls?: Readonly<Partial<Record<'hubspot' | 'stripe', string>>>;
  /** This container's share of each vendor's rate limit; the vendor's whole limit when unset. */
  readonly rateLimits?: Readonly<
    Partial<Record<'hubspot' | 'stripe', { readonly max: number; readonly intervalMs: number }>>
  >;
}

export class SourceApis {
  private readonly readers = new Map<VendorObjectKind, VendorReader>();

  constructor(
    private readonly secrets: CachedSecrets,
    private readonly options: SourceApiOptions,
  ) {}

  /** The token stored for a source; throws SourceCredentialMissing when there is none. */
  private async token(source: string): Promise<string> {
    const name = sourceCredentialName(this.options.stage, source);
    let stored: Partial<SourceCredential> | undefined;
    try {
      stored = await this.secrets.json<Partial<SourceCredential>>(name);
    } catch (error) {
      throw new SourceCredentialMissing(name, `it could not be read (${(error as Error).message})`);
    }
    if (!stored) throw new SourceCredentialMissing(name, 'no such secret');
    if (typeof stored.token !== 'string' || stored.token.trim() === '')
      throw new SourceCredentialMissing(name, 'it holds no "token"');
    return stored.token;
  }

  /** The reader of one kind of object, built on first use. */
  async reader(kind: VendorObjectKind): Promise<VendorReader> {
    let reader = this.readers.get(kind);
    if (!reader) {
      reader = this.build(kind);
      this.readers.set(kind, reader);
    }
    return reader;
  }

  private build(kind: VendorObjectKind): VendorReader {
    const { stage, baseUrls = {}, rateLimits = {} } = this.options;
    switch (kind) {
      case 'hubspot.contact':
        return new HubSpotContacts({
          token: () => this.token('hubspot'),
          secretName: sourceCredentialName(stage, 'hubspot'),
          ...(baseUrls.hubspot ? { baseUrl: baseUrls.hubspot } : {}),
          ...(rateLimits.hubspot ? { rateLimit: rateLimits.hubspot } : {}),
        });
      case 'stripe.payment_intent':
        return new StripePaymentIntents({
          token: () => this.token('stripe'),
          secretName: sourceCredentialName(stage, 'stripe'),
          ...(baseUrls.stripe ? { baseUrl: baseUrls.stripe } : {}),
          ...(rateLimits.stripe ? { rateLimit: rateLimits.stripe } : {}),
        });
    }
  }
}
