/**
 * The compiled form of the data contracts: what `spine contracts build` writes and what the
 * Lambdas read. Everything here is plain data, so it can be generated as a module and bundled.
 */

import type { VendorObjectKind } from '../enrich/model.ts';

/** Where a value comes from in a delivery: a JSON path into the event, or an HTTP header. */
export type Locator =
  | { readonly path: string }
  | { readonly header: string | readonly string[] }
  /**
   * Several paths whose values, joined with `-`, name one thing: an event id a vendor does not
   * keep unique on its own (HubSpot's, unique with its subscription, object and time).
   */
  | { readonly join: readonly string[] };

export type PiiTreatment = 'hash' | 'mask' | 'drop';

/**
 * The declared fields of an event, derived from its JSON Schema at build time so that
 * minimising and redacting need no schema walk at run time.
 */
export type Shape =
  | {
      readonly kind: 'object';
      readonly properties: Readonly<Record<string, Shape>>;
      /** Shape of undeclared keys when the schema allows a map (`additionalProperties: {...}`). */
      readonly additional?: Shape;
      readonly pii?: PiiTreatment;
    }
  | { readonly kind: 'array'; readonly items: Shape; readonly pii?: PiiTreatment }
  | { readonly kind: 'value'; readonly pii?: PiiTreatment };

export type SignatureScheme =
  | 'stripe'
  | 'shopify'
  | 'hubspot'
  | 'standard-webhooks'
  | 'github'
  | 'woocommerce';

export type MatchNormaliser = 'email' | 'vat' | 'sku' | 'exact';

export interface MatchKey {
  /** Odoo field compared, e.g. `email` on res.partner. */
  readonly field: string;
  readonly normalise: MatchNormaliser;
}

export interface CompiledSource {
  readonly system: string;
  readonly signature: SignatureScheme;
  /** `array`: the body is a list of events (HubSpot), each routed and enveloped on its own. */
  readonly batch: 'none' | 'array';
  readonly eventType: Locator;
  readonly events: readonly string[];
  readonly eventId: Locator;
  readonly occurredAt: Locator;
  readonly entityKey: Locator;
  /**
   * The vendor account the event belongs to (a Shopify store's domain, a Stripe Connect account):
   * mappings read it as `$account`, to route a document to its company.
   */
  readonly account?: Locator;
  /** The event only notifies (ids, one changed property); see DESIGN.md "Thin events". */
  readonly thin: boolean;
}

export interface CompiledTarget {
  readonly model: string;
  /** e.g. `stripe_customer_{entityKey}`; placeholders: entityKey, eventId, source. */
  readonly externalId: string;
  readonly match: readonly MatchKey[];
  /** JSONata expression evaluated against the minimised event; yields Odoo values. */
  readonly mapping: string;
  /** Every field the mapping may write; `order_line/product_id` names a field of a line. */
  readonly write: readonly string[];
  /** Fields owned by another system: written when the record is created, never updated. */
  readonly createOnly: readonly string[];
  /** What to do when the record does not exist yet. `skip` suits thin events that cannot create. */
  readonly onMissing: 'create' | 'skip';
  /**
   * The crosswalks the mapping names with `$reference(...)`, entries included: the mapping
   * resolves vendor codes from the contract alone, without the registry or any YAML.
   */
  readonly references: Readonly<Record<string, CompiledCrosswalk>>;
  /** How far the written document goes, step by step, once it is written; empty for most. */
  readonly lifecycle: readonly CompiledLifecycleStep[];
}

/**
 * One step of a document's lifecycle after its write. Each reads the record's state first, so
 * it changes nothing when replayed.
 */
export type CompiledLifecycleStep =
  | {
      readonly step: 'post';
      /**
       * JSONata over the event giving the vendor's total in major units: a draft is posted only
       * when Odoo's total (`amount_total`, a payment's `amount`) equals it to the currency's rounding.
       */
      readonly total?: string;
    }
  | {
      readonly step: 'reconcile';
      /**
       * JSONata over the event giving the counterpart, `{"@model", "@externalId"}`: the payment
       * of an invoice, the invoice of a payment; undefined when the event names none.
       */
      readonly with: string;
    }
  | {
      /**
       * An order's totals are the vendor's: `amount_total` equals `total` and `amount_tax` equals
       * `tax` to the cent. A difference within per-line rounding is booked on rounding lines, in
       * the open; a larger one fails the event (`TotalsDiffer`).
       */
      readonly step: 'totals';
      /** JSONata over the event: the vendor's total, tax included, in major units. */
      readonly total: string;
      /** JSONata over the event: the vendor's total tax, in major units. */
      readonly tax?: string;
      /** JSONata over the event: the rounding product, `$reference('service-products', ...)`. */
      readonly rounding?: string;
    }
  | {
      /** A quotation becomes a sales order (`action_confirm`) once `when` holds; never a cancelled one. */
      readonly step: 'confirm';
      /** JSONata over the event; confirms when truthy, always when absent. */
      readonly when?: string;
    }
  | {
      /** The order is cancelled (`action_cancel`) once `when` holds; a cancelled order stays so. */
      readonly step: 'cancel';
      /** JSONata over the event; cancels when truthy. */
      readonly when: string;
    }
  | {
      /**
       * A refund payment's credit note: the invoice `of` names is reversed for the payment's
       * amount (`out_refund`, external id `<the payment's>_credit_note`) and posted, before the
       * payment is; an original Odoo does not hold or has not posted fails retryably.
       */
      readonly step: 'credit-note';
      /**
       * JSONata over the event giving the original invoice, `{"@model": "account.move",
       * "@externalId"}`; undefined when the event names none (then no credit note).
       */
      readonly of: string;
    };

/** The expression keys a lifecycle step may carry, each JSONata over the event. */
export const LIFECYCLE_EXPRESSIONS = ['total', 'tax', 'rounding', 'with', 'when', 'of'] as const;

export interface CompiledReconcile {
  readonly count: boolean;
  /** Odoo field summed per day on both sides, e.g. `amount`. */
  readonly sum?: string;
  /** JSONata over the event for the expected value, when Odoo computes `sum` (amount_total). */
  readonly sumFrom?: string;
  /** JSONata over the event giving the ISO 4217 code of the vendor's amounts (`USD`). */
  readonly currency?: string;
  /**
   * Each Odoo field against the vendor's figure (JSONata over the event, major units); the first
   * is the headline amount whose absolute difference per currency is published as a metric.
   */
  readonly amounts?: readonly CompiledReconcileAmount[];
  /** The state the record must end in, when `when` holds for the event (always without it). */
  readonly state?: CompiledReconcileState;
}

export interface CompiledReconcileAmount {
  /** The Odoo field read back, e.g. `amount_total`. */
  readonly field: string;
  /** JSONata over the event: the vendor's figure in major units. */
  readonly from: string;
}

/** A value an Odoo state field may hold: a selection (`paid`) or a flag (`is_reconciled`). */
export type ReconcileStateValue = string | boolean;

export interface CompiledReconcileState {
  /** The Odoo field read back, e.g. `payment_state`. */
  readonly field: string;
  /** The values it may end in, e.g. `paid`, `in_payment`. */
  readonly expect: readonly ReconcileStateValue[];
  /** JSONata over the event; the expectation holds for the events where it is truthy. */
  readonly when?: string;
}

export interface CompiledContract {
  /** e.g. `stripe.customer` */
  readonly id: string;
  /** semver, e.g. `1.2.0` */
  readonly version: string;
  readonly major: number;
  readonly status: 'active' | 'deprecated';
  readonly owner: { readonly team: string; readonly contact: string };
  readonly description: string;
  readonly flow: string;
  /** Repository-relative path of the YAML it was compiled from. */
  readonly file: string;
  readonly source: CompiledSource;
  readonly shape: Shape;
  /** The vendor object fetched before mapping, for a thin event; absent when nothing is fetched. */
  readonly enrich?: CompiledEnrichment;
  readonly target: CompiledTarget;
  readonly compatibility: 'backward' | 'forward' | 'full' | 'none';
  readonly reconcile: CompiledReconcile;
  readonly quality: { readonly freshness: string; readonly freshnessSeconds: number };
  /** Export name of this contract's validator in the generated validators module. */
  readonly validator: string;
}

/**
 * What the worker fetches for an event before mapping it (DESIGN.md, "Thin events"), and how
 * the contract's expressions read it: as the JSONata variable `$<as>`, minimised to `shape`.
 */
export interface CompiledEnrichment {
  readonly object: VendorObjectKind;
  /** Where the event names the object: a path into the event (the worker has no headers). */
  readonly id: Locator;
  /** HubSpot: the properties to read; empty for other vendors. */
  readonly properties: readonly string[];
  /** Stripe: the expansions (`latest_charge.balance_transaction`); empty for other vendors. */
  readonly expand: readonly string[];
  /** The variable the expressions read the object as, without `$`: `contact`. */
  readonly as: string;
  /** The declared fields of the fetched object, with their PII treatments, as for the event. */
  readonly shape: Shape;
  /** Export name of the fetched object's validator in the generated validators module. */
  readonly validator: string;
}

export interface CompiledFlow {
  readonly name: string;
  readonly description: string;
  /** FIFO queues keep one entity's events in order (group = entity key). */
  readonly fifo: boolean;
  /** Alarm when the oldest message on the flow queue is older than this. */
  readonly maxAgeSeconds: number;
  readonly contracts: readonly string[];
}

/** A value a crosswalk entry finds its Odoo record by (`name = "USD"`, `amount = 6`). */
export type ReferenceValue = string | number | boolean;

/** One vendor code and the Odoo record it stands for (contracts/reference/<crosswalk>.yaml). */
export interface CompiledReferenceEntry {
  /** The key mappings pass to `$reference`, e.g. `USD` or `shopify:US:State Tax:6%:excluded`. */
  readonly key: string;
  /** Field = value pairs that find exactly one record of the crosswalk's model. */
  readonly find: Readonly<Record<string, ReferenceValue>>;
  /** What an operator creates (or activates) in Odoo when the record is missing. */
  readonly create: string;
}

/** A declared crosswalk from vendor codes to records of one Odoo model. */
export interface CompiledCrosswalk {
  /** `taxes`, `journals`, `currencies`, ...: the file name, and the first argument of `$reference`. */
  readonly name: string;
  readonly model: string;
  readonly description: string;
  /** Repository-relative path of the YAML it was compiled from. */
  readonly file: string;
  readonly entries: Readonly<Record<string, CompiledReferenceEntry>>;
}

export interface CompiledRegistry {
  /** Hash of every contract's and crosswalk's source, so a stale build can be told apart. */
  readonly digest: string;
  readonly flows: readonly CompiledFlow[];
  readonly contracts: readonly CompiledContract[];
  /** Every crosswalk of contracts/reference/, by name: what `spine reference check` resolves. */
  readonly reference: Readonly<Record<string, CompiledCrosswalk>>;
}

/** A precompiled Ajv validator: same calling shape as Ajv's `ValidateFunction`. */
export interface PrecompiledValidator {
  (data: unknown): boolean;
  errors?:
    | null
    | readonly {
        readonly instancePath: string;
        readonly keyword: string;
        readonly message?: string;
        readonly params: Record<string, unknown>;
      }[];
}
