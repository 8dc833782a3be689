/** One stage of an event's way through Spine, as lineage keeps it. */

export type LineageStage =
  | 'received'
  | 'queued'
  /** The vendor object a thin event names was fetched (its id and version, never its values). */
  | 'enriched'
  | 'quarantined'
  | 'applied'
  /** A record the applied event refers to (a partner, a product): created, linked or found. */
  | 'related'
  /** A lifecycle step posted the applied record (an invoice, a payment): it left draft. */
  | 'posted'
  /** A lifecycle step reconciled the applied record with its counterpart (invoice and payment). */
  | 'reconciled'
  /** A lifecycle step added rounding lines so Odoo's totals are the vendor's to the cent. */
  | 'rounded'
  /** A lifecycle step confirmed the applied order (a quotation became a sales order). */
  | 'confirmed'
  /** A lifecycle step cancelled the applied order. */
  | 'cancelled'
  | 'skipped-stale'
  | 'skipped'
  | 'failed'
  /** The worker sent it to the flow's DLQ: a permanent failure, or its last allowed delivery. */
  | 'dead-lettered'
  | 'replayed'
  | 'parked';

export interface LineageEntry {
  readonly stage: LineageStage;
  /** ISO 8601 time of the stage. */
  readonly at: string;
  readonly source: string;
  readonly eventId: string;
  readonly eventType?: string;
  /** `stripe.customer@1.0.0` */
  readonly contract?: string;
  readonly flow?: string;
  readonly correlationId?: string;
  readonly entityKey?: string;
  /** When the change happened at the vendor (ISO 8601). */
  readonly occurredAt?: string;
  readonly model?: string;
  readonly recordId?: number;
  readonly externalId?: string;
  /** created / updated / unchanged for `applied`; created / linked / found for `related`. */
  readonly outcome?: string;
  /** The reconciliation measure written (e.g. the payment amount), for `applied`. */
  readonly measure?: number;
  /**
   * For `applied`: what the vendor said, from the event, by the contract's `reconcile` part
   * (currency, amounts, state): what reconciliation compares with what Odoo books.
   */
  readonly vendor?: VendorFigures;
  /**
   * For `applied`: each field the event wrote or found already equal (not create-only fields nor
   * x2many lines), with a keyed fingerprint of its value as Odoo holds it, so reconciliation can
   * compare values without lineage holding them (functions/reconcile/fingerprint.ts).
   */
  readonly written?: Readonly<Record<string, string>>;
  /** Error class and message, for `failed` and `quarantined`. */
  readonly error?: {
    readonly code: string;
    readonly message: string;
    readonly retryable?: boolean;
  };
  /**
   * The redacted view of the event (no raw personal data), for `received` and `quarantined`. The
   * DynamoDB store keeps it with every outcome but `applied` (functions/lineage/dynamodb-store.ts).
   */
  readonly redacted?: unknown;
  readonly detail?: string;
}

/** The vendor's own figures for one applied event: amounts and a currency code, nothing personal. */
export interface VendorFigures {
  /** ISO 4217 code, upper case (`USD`). */
  readonly currency?: string;
  /** Per Odoo field (`amount_total`), the vendor's figure in major units. */
  readonly amounts?: Readonly<Record<string, number>>;
  /** Whether the contract's state expectation holds for this event; absent when it declares none. */
  readonly stateExpected?: boolean;
}

/** The stale guard's memory: the newest change claimed for one entity of one contract. */
export interface EntityState {
  readonly occurredAt: string;
  readonly eventId: string;
  /** While the claiming event is being written to Odoo (ISO 8601); absent once it finished. */
  readonly claimedUntil?: string;
  /** Which attempt holds the claim: only that attempt may end it. */
  readonly claimToken?: string;
  /**
   * The claiming event's source: with its id it names the event's trail, where a store may end
   * the claim with the outcome instead of writing the entity's state again.
   */
  readonly source?: string;
}

/** A claim asked for, or granted: held by one attempt until it ends or lapses. */
export type HeldClaim = EntityState & {
  readonly claimedUntil: string;
  readonly claimToken: string;
};

/** Whether `a` is a newer change than `b`: later, or at the same time a greater event id (a total order). */
export function isNewerChange(a: EntityState, b: EntityState): boolean {
  return a.occurredAt > b.occurredAt || (a.occurredAt === b.occurredAt && a.eventId > b.eventId);
}

export type EntityClaim =
  | { readonly claimed: true }
  /** `holder` is newer (the event is stale) or is an older event still being written (try later). */
  | { readonly claimed: false; readonly holder: EntityState };

/** A granted claim to end, now that its event's write is over. */
export interface ClaimRelease {
  readonly contractId: string;
  readonly entityKey: string;
  readonly claim: HeldClaim;
}

export interface LineageStore {
  /**
   * Records entries, and ends the given claims with them (the states keep their events as the
   * newest). A claim still live can be no other event's, so a store may end it in the same write,
   * or mark it ended on the event's outcome for the next claimant to find.
   */
  record(entries: readonly LineageEntry[], releases?: readonly ClaimRelease[]): Promise<void>;
  /** Every stage of one event, oldest first. */
  byEvent(source: string, eventId: string): Promise<LineageEntry[]>;
  /** Every event that touched one Odoo record, oldest first. */
  byRecord(model: string, recordId: number): Promise<LineageEntry[]>;
  byCorrelation(correlationId: string): Promise<LineageEntry[]>;
  /** `applied` entries of a contract on a day (YYYY-MM-DD), for reconciliation. */
  appliedOn(contract: string, day: string): Promise<LineageEntry[]>;
  entityState(contractId: string, entityKey: string): Promise<EntityState | undefined>;
  /**
   * Claims an entity for an event before it is written to Odoo, in one conditional write: granted
   * when nothing newer was claimed and no claim is still live at `now`, not even one of the same
   * event (an earlier attempt past its deadline may still have a write in flight: its claim lasts
   * until that write has surely ended, and only then may the retry claim again).
   */
  claimEntity(
    contractId: string,
    entityKey: string,
    claim: HeldClaim,
    now: string,
  ): Promise<EntityClaim>;
  /**
   * Ends a claim once its write is over (the state keeps the event as the newest), unless another
   * attempt holds the entity by now (`claimToken` names the attempt).
   */
  releaseEntity(contractId: string, entityKey: string, claimToken: string): Promise<void>;
  /**
   * Locks a natural key (a hash naming model, field and normalised value) for one writer until
   * `until`: granted when free, lapsed at `now`, or already this writer's (`token`).
   */
  lockNaturalKey(key: string, token: string, until: string, now: string): Promise<boolean>;
  /** Ends a writer's lock on a natural key, unless another writer holds it by now. */
  unlockNaturalKey(key: string, token: string): Promise<void>;
}
