/**
 * Enrichment: a thin event names a vendor object (a HubSpot contact, a Stripe payment intent);
 * the worker fetches the object's current state from the vendor's API before mapping, and the
 * mapping reads it beside the event (DESIGN.md, "Thin events"). This module is the port between
 * the worker and the vendor clients: the worker asks for many ids at once (a batch, deduplicated),
 * and each client answers with the vendor's own JSON, untranslated, so that a contract's mapping
 * reads the vendor's documented shape.
 */

/** The vendor objects a contract may fetch: `<source>.<object>`. */
export type VendorObjectKind = 'hubspot.contact' | 'stripe.payment_intent';

/** What one fetch asks of the vendor, besides the ids. */
export interface FetchOptions {
  /** HubSpot: the properties to read (`firstname`, `email`, ...). */
  readonly properties?: readonly string[];
  /** Stripe: the expansions (`latest_charge.balance_transaction`). */
  readonly expand?: readonly string[];
  /** No call starts after it, and no backoff is waited out past it (the invocation's deadline). */
  readonly deadline?: AbortSignal;
  /** When that deadline comes (epoch ms): a retry that could not finish before it is not made. */
  readonly endsAt?: number;
}

/** One object as the vendor answered it. */
export interface FetchedObject {
  /** The vendor's id of the object answered: for a merged HubSpot contact, the survivor's. */
  readonly id: string;
  /**
   * The object's own version (ISO 8601): HubSpot's `updatedAt`; for a Stripe object, which has
   * none, absent (the event's time and order then stand for it).
   */
  readonly version?: string;
  /** The vendor's JSON, as it answered (HubSpot: `{id, properties, createdAt, updatedAt, archived}`). */
  readonly object: Readonly<Record<string, unknown>>;
}

export type FetchResult =
  | { readonly found: FetchedObject }
  /** Deleted, archived or unknown at the vendor (HubSpot OBJECT_NOT_FOUND, Stripe 404). */
  | { readonly missing: true; readonly reason: string };

/**
 * Reads objects of one kind from one vendor. Throws a SpineError for the whole call: retryable
 * when the vendor throttles, fails or times out (after the client's own retries), permanent when
 * the credential is refused. Answers every id asked, in a map keyed by the id as asked.
 */
export interface VendorReader {
  readonly kind: VendorObjectKind;
  /** The most ids one request carries (HubSpot batch read: 100; Stripe: 1). */
  readonly batchSize: number;
  read(ids: readonly string[], options?: FetchOptions): Promise<Map<string, FetchResult>>;
  /** Calls made and throttled answers seen, for metrics and the bench. */
  readonly stats: { calls: number; throttled: number; retries: number };
}

/** A source's API credential, as stored in `spine/<env>/sources/<source>`. */
export interface SourceCredential {
  /** HubSpot private app token, or a Stripe restricted key (`rk_...`). */
  readonly token: string;
}
