/**
 * The vendor objects a contract may fetch to enrich a thin event (functions/enrich/model.ts),
 * and how each vendor narrows or widens what it answers.
 */
import type { VendorObjectKind } from '../../functions/enrich/model.ts';

export interface VendorObject {
  /** The source system whose API answers it, and whose events may name it. */
  readonly source: string;
  /** The vendor's name, for findings. */
  readonly vendor: string;
  /**
   * `properties`: the vendor answers only the properties asked for (HubSpot). `expand`: the
   * vendor answers an expandable field as its id unless asked to expand it (Stripe).
   */
  readonly fetches: 'properties' | 'expand';
}

export const VENDOR_OBJECTS = {
  'hubspot.contact': { source: 'hubspot', vendor: 'HubSpot', fetches: 'properties' },
  'stripe.payment_intent': { source: 'stripe', vendor: 'Stripe', fetches: 'expand' },
} as const satisfies Record<VendorObjectKind, VendorObject>;

export function isVendorObjectKind(value: string): value is VendorObjectKind {
  return Object.hasOwn(VENDOR_OBJECTS, value);
}
