/**
 * Applying envelopes to Odoo: revalidate against the contract, map, skip what is older than the
 * newest change to the same entity (stale guard), resolve relations, write with the contract's
 * ownership (create-only fields) after matching natural keys, in one batched upsert per model,
 * and record each outcome in lineage.
 *
 * The stale guard claims the entity before anything is written, in one conditional write: a
 * batch keeps only the newest event per entity, an event older than the claimed one is skipped,
 * and an event newer than one still being written waits (retried) instead of racing it to Odoo.
 * A claim lasts until the invocation's deadline plus the time Odoo may still run a request sent
 * before it, and is ended early only when every write under it is known to be over.
 *
 * The stages have types of their own: mapped, claimed, then settled with an outcome.
 */

import { randomUUID } from 'node:crypto';
import {
  externalIdFor,
  type MappingContext,
  mapEvent,
  type ReconcileFigures,
  reconcileFigures,
} from '../contracts/mapping.ts';
import type { CompiledContract } from '../contracts/model.ts';
import type { ContractRegistry } from '../contracts/registry.ts';
import type { VendorObjectKind, VendorReader } from '../enrich/model.ts';
import { ConfigurationError } from '../errors/configuration-error.ts';
import { ContractViolation } from '../errors/contract-violation.ts';
import { SpineError } from '../errors/spine-error.ts';
import { eventFields } from '../ingest/arrival.ts';
import type { Envelope } from '../ingest/envelope.ts';
import type { Logger } from '../ingest/receive.ts';
import {
  type ClaimRelease,
  type HeldClaim,
  isNewerChange,
  type LineageEntry,
  type LineageStore,
} from '../lineage/model.ts';
import type { OdooClient } from '../odoo/client.ts';
import { OdooError } from '../odoo/errors/index.ts';
import type { MatchKey } from '../odoo/match.ts';
import { type UpsertResult, upsertByExternalId } from '../odoo/upsert.ts';
import { type FieldFingerprint, writtenFingerprints } from '../reconcile/fingerprint.ts';
import { type Enriched, type Enrichment, enrichBatch, type ToEnrich } from './enrichment.ts';
import { EntityBusy } from './entity-busy.ts';
import { advanceDocument, type LifecycleChange } from './lifecycle.ts';
import { naturalKeyLocks } from './natural-key-locks.ts';
import { type RelatedRecord, resolveRelations } from './relations.ts';

/**
 * How long an event's claim on its entity holds while it is written, when the caller names no
 * deadline: Lambda's longest timeout, so a live write is never overtaken.
 */
export const ENTITY_CLAIM_SECONDS = 900;

export type ApplyOutcome =
  | {
      readonly kind: 'applied';
      readonly model: string;
      readonly recordId: number;
      readonly externalId: string;
      readonly status: 'created' | 'updated' | 'unchanged';
      readonly linkedBy?: string;
    }
  | { readonly kind: 'skipped-stale'; readonly newer: string }
  | { readonly kind: 'skipped'; readonly reason: string }
  | { readonly kind: 'failed'; readonly error: Error; readonly retryable: boolean };

export interface SyncTelemetry {
  count(
    metric: 'applied' | 'stale-skipped' | 'skipped' | 'failed',
    dimensions: Record<string, string>,
  ): void;
  odooLatency(ms: number, dimensions: Record<string, string>): void;
  /** A call to a vendor's API for enrichment: its latency, and whether it was throttled. */
  vendorCall?(ms: number, dimensions: Record<string, string>, throttled: boolean): void;
}

export interface SyncDependencies {
  readonly registry: ContractRegistry;
  readonly odoo: () => Promise<OdooClient>;
  readonly lineage: LineageStore;
  readonly telemetry: SyncTelemetry;
  readonly logger: Logger;
  readonly now?: () => Date;
  /** Odoo's `limit_time_real`, when it is not the default ODOO_REQUEST_LIMIT_MS. */
  readonly odooRequestLimitMs?: number;
  /**
   * Overrides whether a failure is retried, when the caller knows more than the error class
   * (an access denial in the middle of a credential rotation); undefined keeps the class's answer.
   */
  readonly retryable?: (error: Error) => boolean | undefined;
  /**
   * A failure the caller retries at once (an access denial before the credential is read
   * again): returned, but not recorded in lineage, metrics or logs, so the trail shows only
   * the attempt that decides.
   */
  readonly retriesAtOnce?: (error: Error) => boolean;
  /**
   * Fingerprints the values an applied event wrote, for its lineage entry (`written`), so that
   * reconciliation can compare them with Odoo; without it, applied entries carry none.
   */
  readonly fingerprint?: FieldFingerprint;
  /**
   * The readers of vendor objects, for contracts that enrich thin events; without them, such an
   * event fails (retryably) saying so.
   */
  readonly vendors?: (kind: VendorObjectKind) => Promise<VendorReader>;
}

/** An envelope its contract maps to values: what the stale guard and Odoo work on. */
interface Mapped {
  readonly index: number;
  readonly envelope: Envelope;
  readonly contract: CompiledContract;
  readonly context: MappingContext;
  readonly values: Record<string, unknown>;
  /** What the applied lineage entry keeps for reconciliation (measure, vendor's figures). */
  readonly figures: ReconcileFigures;
  /**
   * Whose changes the stale guard orders this event among: its contract's, or for an enriched
   * event every contract's that writes the same vendor object (a HubSpot contact's creation and
   * its property changes write the same state).
   */
  readonly guardScope: string;
  /** What the stale guard compares this event with: the entity, and for a thin event its fields. */
  readonly staleKey: string;
  /**
   * The change the stale guard orders it by: the event's time and id, or for an enriched event
   * the fetched object's version (what it writes is that state, not the event's).
   */
  readonly change: { readonly occurredAt: string; readonly eventId: string };
  /** The vendor object the mapping read, for an enriched event. */
  readonly enriched?: Enriched;
  /** The name part of the external id of the record it writes. */
  readonly externalId: string;
}

/** A mapped envelope holding its entity: nothing newer can be written while it is written. */
interface Claimed extends Mapped {
  readonly claim: HeldClaim;
}

/** What lineage records of one envelope, once its way through this batch is over. */
interface Settled {
  readonly outcome: ApplyOutcome;
  readonly mapped?: Mapped;
  readonly claim?: HeldClaim;
  readonly related?: readonly RelatedRecord[];
  /** The values sent to Odoo, relations resolved to ids, when the upsert took them. */
  readonly resolved?: Readonly<Record<string, unknown>>;
  /** What the contract's lifecycle steps changed (posted, reconciled), even when a later step failed. */
  readonly lifecycle?: readonly LifecycleChange[];
}

/**
 * The entity key, and for a thin contract the fields the event writes: each thin event carries
 * one property (a HubSpot property change), so a change to another property is not stale.
 */
function staleKeyOf(contract: CompiledContract, envelope: Envelope, mapped: object): string {
  // An enriched event writes the whole object's state: one change of the entity like any other.
  if (!contract.source.thin || contract.enrich) return envelope.subject;
  return `${envelope.subject}#${Object.keys(mapped).sort().join(',')}`;
}

function failure(error: unknown, deps: SyncDependencies): ApplyOutcome {
  const e = error instanceof Error ? error : new Error(String(error));
  const retryable =
    deps.retryable?.(e) ??
    (e instanceof SpineError ? e.retryable : !(e instanceof TypeError || e instanceof SyntaxError));
  return { kind: 'failed', error: e, retryable };
}

/** The contract an envelope was written with: its version, or the same major version in this build. */
export function contractOf(
  registry: ContractRegistry,
  envelope: Envelope,
): CompiledContract | undefined {
  const contract = registry.contract(envelope.spinecontract);
  if (contract && `${contract.id}@${contract.version}` === envelope.spinecontract) return contract;
  // A minor version edited in place is compatible: an older envelope is read with it.
  return registry.contract(envelope.spinecontract.replace(/@(\d+)\..*$/, '@$1'));
}

/** The end of an invocation's time: no Odoo call starts after it, and one in flight is abandoned. */
export interface Deadline {
  readonly at: Date;
  readonly signal: AbortSignal;
}

export interface ApplyOptions {
  /**
   * Entries to record in the same write as the outcomes: the events' arrivals (received, queued),
   * which the worker records for the receiver.
   */
  readonly alsoRecord?: readonly LineageEntry[];
  /** The invocation's deadline. Without one, claims last ENTITY_CLAIM_SECONDS. */
  readonly deadline?: Deadline;
}

/**
 * How long Odoo may still run a request after its caller gave up on it (its `limit_time_real`,
 * 120 s by default): a claim outlives its invocation's deadline by this much, so that no other
 * attempt writes the entity while a write sent before the deadline may still commit.
 */
export const ODOO_REQUEST_LIMIT_MS = 120_000;

/** Contract, revalidation, mapping: an outcome when the envelope goes no further. */
async function mapEnvelope(
  envelope: Envelope,
  index: number,
  deps: SyncDependencies,
  enrichment: Enrichment | undefined,
): Promise<Mapped | { outcome: ApplyOutcome; figures?: ReconcileFigures }> {
  try {
    const contract = contractOf(deps.registry, envelope);
    if (!contract)
      throw new ConfigurationError(
        `contract ${envelope.spinecontract} is not in this build`,
        'deploy a build that has the contract, then replay',
      );
    const violations = deps.registry.validate(contract, envelope.data);
    if (violations.length > 0) throw new ContractViolation(envelope.spinecontract, violations);
    if (enrichment && 'error' in enrichment) throw enrichment.error;
    if (enrichment && 'skipped' in enrichment)
      return { outcome: { kind: 'skipped', reason: enrichment.skipped } };
    const enriched = enrichment?.enriched;
    const context: MappingContext = {
      entityKey: envelope.subject,
      eventId: envelope.id,
      source: envelope.spinesource,
      ...(envelope.spineaccount ? { account: envelope.spineaccount } : {}),
      ...(enriched ? { enriched: { as: enriched.as, object: enriched.object } } : {}),
    };
    const values = await mapEvent(contract, envelope.data, context);
    const figures = await reconcileFigures(contract, envelope.data, values, context);
    if (Object.keys(values).length === 0)
      return {
        outcome: {
          kind: 'skipped',
          reason: contract.source.thin
            ? 'thin event: it carries nothing this contract writes (enrichment would fetch the rest)'
            : 'the mapping wrote no values',
        },
        figures,
      };
    return {
      index,
      envelope,
      contract,
      context,
      values,
      figures,
      guardScope: contract.enrich?.object ?? contract.id,
      staleKey: staleKeyOf(contract, envelope, values),
      change: {
        occurredAt: enriched?.version ?? envelope.time,
        eventId: envelope.id,
      },
      ...(enriched ? { enriched } : {}),
      externalId: externalIdFor(contract.target.externalId, context),
    };
  } catch (error) {
    return { outcome: failure(error, deps) };
  }
}

/**
 * The vendor objects the batch's thin events name, fetched together (functions/sync/enrichment.ts);
 * an event whose contract fetches nothing, or that breaks its contract, has none.
 */
async function enrichThinEvents(
  envelopes: readonly Envelope[],
  deps: SyncDependencies,
  deadline: Deadline | undefined,
): Promise<Map<number, Enrichment>> {
  const toEnrich: ToEnrich[] = envelopes.flatMap((envelope, index) => {
    const contract = contractOf(deps.registry, envelope);
    return contract?.enrich && deps.registry.validate(contract, envelope.data).length === 0
      ? [{ index, envelope, contract: contract as ToEnrich['contract'] }]
      : [];
  });
  if (toEnrich.length === 0) return new Map();
  const vendorCall = deps.telemetry.vendorCall?.bind(deps.telemetry);
  return enrichBatch(
    toEnrich,
    {
      registry: deps.registry,
      vendors:
        deps.vendors ??
        (async () => {
          throw new ConfigurationError(
            'this worker has no vendor API clients, yet a contract enriches its events',
            'build the worker with its vendor readers (functions/platform/container.ts)',
          );
        }),
      ...(vendorCall ? { telemetry: { vendorCall } } : {}),
    },
    deadline ? { deadline: deadline.signal, endsAt: deadline.at.getTime() } : {},
  );
}

/** Applies a batch of envelopes; the outcome of each, in order. Never throws for one bad envelope. */
export async function applyEnvelopes(
  envelopes: readonly Envelope[],
  deps: SyncDependencies,
  options: ApplyOptions = {},
): Promise<ApplyOutcome[]> {
  const clock = () => deps.now?.() ?? new Date();
  const settled = new Map<number, Settled>();
  const mapped: Mapped[] = [];
  const figures = new Map<number, ReconcileFigures>();
  const enrichments = await enrichThinEvents(envelopes, deps, options.deadline);
  (
    await Promise.all(
      envelopes.map((envelope, i) => mapEnvelope(envelope, i, deps, enrichments.get(i))),
    )
  ).forEach((result, index) => {
    if ('outcome' in result) {
      settled.set(index, { outcome: result.outcome });
      if (result.figures) figures.set(index, result.figures);
    } else mapped.push(result);
  });

  // Stale guard, within the batch: only the newest event per entity goes on.
  const newest = new Map<string, Mapped>();
  for (const item of mapped) {
    const key = `${item.guardScope}|${item.staleKey}`;
    const other = newest.get(key);
    if (!other) {
      newest.set(key, item);
      continue;
    }
    const [winner, loser] = isNewerChange(item.change, other.change)
      ? [item, other]
      : [other, item];
    settled.set(loser.index, {
      outcome: { kind: 'skipped-stale', newer: winner.envelope.id },
      mapped: loser,
    });
    newest.set(key, winner);
  }

  // Stale guard, across invocations: claim each entity before anything is written to Odoo. The
  // claim outlives the deadline by as long as Odoo may still run a request sent before it.
  const at = clock();
  const claimedUntil = new Date(
    options.deadline
      ? options.deadline.at.getTime() + (deps.odooRequestLimitMs ?? ODOO_REQUEST_LIMIT_MS)
      : at.getTime() + ENTITY_CLAIM_SECONDS * 1000,
  ).toISOString();
  const claimToken = randomUUID();
  const claimed: Claimed[] = [];
  await Promise.all(
    [...newest.values()].map(async (item) => {
      const { change } = item;
      // The source names the event's trail, where the claim ends with the outcome (lineage store).
      const claim: HeldClaim = {
        ...change,
        source: item.envelope.spinesource,
        claimedUntil,
        claimToken,
      };
      try {
        const answer = await deps.lineage.claimEntity(
          item.guardScope,
          item.staleKey,
          claim,
          at.toISOString(),
        );
        if (answer.claimed) claimed.push({ ...item, claim });
        else if (isNewerChange(answer.holder, change))
          settled.set(item.index, {
            outcome: { kind: 'skipped-stale', newer: answer.holder.eventId },
            mapped: item,
          });
        else
          settled.set(item.index, {
            outcome: failure(
              new EntityBusy(
                `${item.guardScope} ${item.staleKey}`,
                answer.holder.eventId,
                answer.holder.claimedUntil,
              ),
              deps,
            ),
            mapped: item,
          });
      } catch (error) {
        settled.set(item.index, { outcome: failure(error, deps), mapped: item });
      }
    }),
  );

  // A write whose answer was lost may still commit in Odoo: the claims it was made under are
  // left to lapse, instead of being ended while it may still land.
  let writesSettled = true;
  if (claimed.length > 0) {
    const written = await writeToOdoo(claimed, deps, {
      token: claimToken,
      until: claimedUntil,
      now: clock,
      ...(options.deadline ? { deadline: options.deadline } : {}),
    });
    writesSettled = written.writesSettled;
    for (const item of claimed)
      settled.set(item.index, {
        ...(written.settled.get(item.index) as Omit<Settled, 'mapped' | 'claim'>),
        mapped: item,
        claim: item.claim,
      });
  }
  return finish(
    envelopes.map((envelope, index) => ({
      envelope,
      settled: settled.get(index) ?? {
        outcome: failure(new Error('not applied'), deps),
      },
      figures: settled.get(index)?.mapped?.figures ?? figures.get(index) ?? {},
    })),
    deps,
    clock,
    { alsoRecord: options.alsoRecord ?? [], releaseClaims: writesSettled },
  );
}

/** Relations, then one upsert per model, for the claimed envelopes. */
async function writeToOdoo(
  claimed: readonly Claimed[],
  deps: SyncDependencies,
  terms: { token: string; until: string; now: () => Date; deadline?: Deadline },
): Promise<{ settled: Map<number, Omit<Settled, 'mapped' | 'claim'>>; writesSettled: boolean }> {
  const settled = new Map<number, Omit<Settled, 'mapped' | 'claim'>>();
  let client: OdooClient;
  try {
    const connected = await deps.odoo();
    client = terms.deadline
      ? connected.until(terms.deadline.signal, terms.deadline.at.getTime())
      : connected;
  } catch (error) {
    for (const item of claimed) settled.set(item.index, { outcome: failure(error, deps) });
    return { settled, writesSettled: true };
  }
  const locks = naturalKeyLocks(deps.lineage, terms);
  const started = performance.now();
  const resolved = await resolveRelations(
    client,
    claimed.map((item) => ({ values: item.values, owner: item.externalId })),
    { locks },
  ).catch((error: unknown) => claimed.map(() => ({ error: error as Error, related: [] })));
  const ready: { item: Claimed; values: Record<string, unknown>; related: RelatedRecord[] }[] = [];
  claimed.forEach((item, i) => {
    const r = resolved[i];
    const related = [...(r?.related ?? [])];
    if (r && 'values' in r) ready.push({ item, values: r.values, related });
    else settled.set(item.index, { outcome: failure(r?.error, deps), related });
  });

  // One upsert per model; the upsert orders rows that share an external id or a natural key.
  const byModel = new Map<string, typeof ready>();
  for (const entry of ready) {
    const model = entry.item.contract.target.model;
    byModel.set(model, [...(byModel.get(model) ?? []), entry]);
  }
  for (const [model, entries] of byModel) {
    let results: UpsertResult[];
    try {
      results = await upsertByExternalId(
        client,
        model,
        entries.map(({ item, values }) => {
          const target = item.contract.target;
          const match: MatchKey[] = target.match
            .map((m) => ({ field: m.field, value: values[m.field], normalise: m.normalise }))
            .filter((m) => m.value !== undefined && m.value !== null && m.value !== '');
          return {
            externalId: item.externalId,
            values,
            createOnly: target.createOnly,
            match,
            updateOnly: target.onMissing === 'skip',
          };
        }),
        { locks },
      );
    } catch (error) {
      for (const { item, related } of entries)
        settled.set(item.index, { outcome: failure(error, deps), related });
      continue;
    }
    entries.forEach(({ item, related, values }, i) => {
      const result = results[i] as UpsertResult;
      let outcome: ApplyOutcome;
      if (result.status === 'failed') outcome = failure(result.error, deps);
      else if (result.status === 'skipped')
        outcome = {
          kind: 'skipped',
          reason: `no ${model} record for this entity yet, and this contract does not create one`,
        };
      else
        outcome = {
          kind: 'applied',
          model,
          recordId: result.id as number,
          externalId: `spine.${result.externalId}`,
          status: result.status,
          ...(result.linkedBy ? { linkedBy: result.linkedBy } : {}),
        };
      settled.set(item.index, { outcome, related, resolved: values });
    });
  }

  // After every write of the batch, one document at a time: an invoice and its payment written
  // together are then reconciled once, by whichever of the two comes second.
  for (const item of [...claimed].sort((a, b) => a.index - b.index)) {
    const written = settled.get(item.index);
    if (written?.outcome.kind !== 'applied' || item.contract.target.lifecycle.length === 0)
      continue;
    const { changes, error } = await advanceDocument(client, {
      contract: item.contract,
      event: item.envelope.data,
      context: item.context,
      model: written.outcome.model,
      recordId: written.outcome.recordId,
    });
    // The write is idempotent, so a retry of the event runs the remaining steps again.
    settled.set(item.index, {
      ...written,
      ...(error ? { outcome: failure(error, deps) } : {}),
      lifecycle: changes,
    });
  }
  deps.telemetry.odooLatency(performance.now() - started, {
    flow: claimed[0]?.contract.flow ?? '',
  });
  return { settled, writesSettled: !client.hasUnsettledWrites };
}

async function finish(
  items: readonly { envelope: Envelope; settled: Settled; figures: ReconcileFigures }[],
  deps: SyncDependencies,
  clock: () => Date,
  options: { alsoRecord: readonly LineageEntry[]; releaseClaims: boolean },
): Promise<ApplyOutcome[]> {
  const entries: LineageEntry[] = [...options.alsoRecord];
  for (const { envelope, settled, figures } of items) {
    const { outcome } = settled;
    const base = { at: clock().toISOString(), ...eventFields(envelope) };
    const lifecycle: LineageEntry[] = (settled.lifecycle ?? []).map((change) => ({
      ...base,
      stage: change.stage,
      model: change.model,
      recordId: change.recordId,
      detail: change.detail,
    }));
    // What was fetched for a thin event: the object, its version and the call's latency, no values.
    const enriched = settled.mapped?.enriched;
    if (enriched)
      entries.push({
        ...base,
        at: enriched.fetchedAt,
        stage: 'enriched',
        detail: `${enriched.kind} ${enriched.id}${
          enriched.version ? ` at version ${enriched.version}` : ''
        }, fetched in ${Math.round(enriched.latencyMs)} ms`,
      });
    if (outcome.kind === 'failed' && deps.retriesAtOnce?.(outcome.error)) {
      // What changed in Odoo stays in the trail: the retry finds it done and records nothing.
      entries.push(...lifecycle);
      continue;
    }
    const dimensions = {
      flow: envelope.spineflow,
      contract: envelope.spinecontract.split('@')[0] as string,
    };
    switch (outcome.kind) {
      case 'applied':
        entries.push({
          ...base,
          stage: 'applied',
          model: outcome.model,
          recordId: outcome.recordId,
          externalId: outcome.externalId,
          outcome: outcome.status,
          ...figures,
          ...(deps.fingerprint && settled.resolved && settled.mapped
            ? {
                written: writtenFingerprints(
                  settled.resolved,
                  settled.mapped.contract.target.createOnly,
                  deps.fingerprint,
                ),
              }
            : {}),
          ...(outcome.linkedBy
            ? { detail: `linked to an existing record by ${outcome.linkedBy}` }
            : {}),
        });
        deps.telemetry.count('applied', dimensions);
        break;
      case 'skipped-stale':
        entries.push({
          ...base,
          stage: 'skipped-stale',
          detail: `a newer change (${outcome.newer}) to ${envelope.subject} was applied or is being applied`,
        });
        deps.telemetry.count('stale-skipped', dimensions);
        break;
      case 'skipped':
        entries.push({ ...base, stage: 'skipped', detail: outcome.reason });
        deps.telemetry.count('skipped', dimensions);
        break;
      case 'failed': {
        const error = outcome.error;
        const code = error instanceof SpineError ? error.code : error.name;
        entries.push({
          ...base,
          stage: 'failed',
          error: { code, message: error.message, retryable: outcome.retryable },
          ...(error instanceof OdooError && error.model ? { model: error.model } : {}),
        });
        deps.telemetry.count('failed', { ...dimensions, class: code });
        deps.logger.warn('event not applied', {
          eventId: envelope.id,
          contract: envelope.spinecontract,
          // Per line, not per logger: records of one batch are applied together.
          correlationId: envelope.correlationid,
          code,
          retryable: outcome.retryable,
          error: error.message,
        });
        break;
      }
    }
    entries.push(...lifecycle);
    // The records the event refers to, so each one's timeline shows it: all of them once the
    // event is applied, and those it created or linked even when the event itself failed.
    for (const related of settled.related ?? []) {
      if (outcome.kind !== 'applied' && related.status === 'found') continue;
      entries.push({
        ...base,
        stage: 'related',
        model: related.model,
        recordId: related.recordId,
        ...(related.externalId ? { externalId: related.externalId } : {}),
        outcome: related.status,
        detail:
          outcome.kind === 'applied'
            ? `${related.field} of ${outcome.model} ${outcome.recordId}`
            : `${related.field} of the record this event writes`,
      });
    }
  }
  // The write is over, whatever its outcome: the claims end with the trail, in the same write,
  // unless a write may still land in Odoo (then they lapse at their deadline).
  const releases: ClaimRelease[] = options.releaseClaims
    ? items.flatMap(({ settled: { mapped, claim } }) =>
        mapped && claim
          ? [{ contractId: mapped.guardScope, entityKey: mapped.staleKey, claim }]
          : [],
      )
    : [];
  await deps.lineage.record(entries, releases);
  return items.map((item) => item.settled.outcome);
}
