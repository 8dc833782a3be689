/**
 * Applying envelopes to Odoo: revalidate against the contract, map, skip what is older than the
 * newest change to the same entity (stale guard), resolve relations, write with the contract's
 * ownership (create-only fields) after matching natural keys, in one batched upsert per model,
 * and record each outcome in lineage.
 *
 * The stale guard claims the entity before anything is written, in one conditional write: a
 * batch keeps only the newest event per entity, an event older than the claimed one is skipped,
 * and an event newer than one still being written waits (retried) instead of racing it to Odoo.
 */

import {
  externalIdFor,
  type MappingContext,
  mapEvent,
  reconcileMeasure,
} from '../contracts/mapping.ts';
import type { CompiledContract } from '../contracts/model.ts';
import type { ContractRegistry } from '../contracts/registry.ts';
import { ConfigurationError } from '../errors/configuration-error.ts';
import { ContractViolation } from '../errors/contract-violation.ts';
import { SpineError } from '../errors/spine-error.ts';
import { eventFields } from '../ingest/arrival.ts';
import type { Envelope } from '../ingest/envelope.ts';
import type { Logger } from '../ingest/receive.ts';
import {
  type EntityState,
  isNewerChange,
  type LineageEntry,
  type LineageStore,
} from '../lineage/model.ts';
import type { OdooClient } from '../odoo/client.ts';
import { OdooError } from '../odoo/errors/index.ts';
import type { MatchKey } from '../odoo/match.ts';
import { type UpsertResult, upsertByExternalId } from '../odoo/upsert.ts';
import { EntityBusy } from './entity-busy.ts';
import { type RelatedRecord, resolveRelations } from './relations.ts';

/**
 * How long an event's claim on its entity holds while it is written: Lambda's longest timeout,
 * so a live write is never overtaken. After a crash, the same event claims again at once and
 * other events of the entity wait at most this long.
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
}

export interface SyncDependencies {
  readonly registry: ContractRegistry;
  readonly odoo: () => Promise<OdooClient>;
  readonly lineage: LineageStore;
  readonly telemetry: SyncTelemetry;
  readonly logger: Logger;
  readonly now?: () => Date;
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
}

interface Work {
  readonly envelope: Envelope;
  readonly index: number;
  contract?: CompiledContract;
  context?: MappingContext;
  mapped?: Record<string, unknown>;
  measure?: number;
  /** What the stale guard compares this event with: the entity, and for a thin event its fields. */
  staleKey?: string;
  /** The claim on the entity, once granted. */
  claim?: EntityState & { readonly claimedUntil: string };
  related?: readonly RelatedRecord[];
  outcome?: ApplyOutcome;
}

/**
 * The entity key, and for a thin contract the fields the event writes: each thin event carries
 * one property (a HubSpot property change), so a change to another property is not stale.
 */
function staleKeyOf(contract: CompiledContract, envelope: Envelope, mapped: object): string {
  if (!contract.source.thin) return envelope.subject;
  return `${envelope.subject}#${Object.keys(mapped).sort().join(',')}`;
}

const changeOf = (envelope: Envelope) => ({ occurredAt: envelope.time, eventId: envelope.id });

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

export interface ApplyOptions {
  /**
   * Entries to record in the same write as the outcomes: the events' arrivals (received, queued),
   * which the worker records for the receiver.
   */
  readonly alsoRecord?: readonly LineageEntry[];
}

/** Applies a batch of envelopes; the outcome of each, in order. Never throws for one bad envelope. */
export async function applyEnvelopes(
  envelopes: readonly Envelope[],
  deps: SyncDependencies,
  options: ApplyOptions = {},
): Promise<ApplyOutcome[]> {
  const now = () => (deps.now?.() ?? new Date()).toISOString();
  const work: Work[] = envelopes.map((envelope, index) => ({ envelope, index }));

  // Contract, revalidation, mapping: per envelope, all at once.
  await Promise.all(
    work.map(async (item) => {
      const { envelope } = item;
      try {
        const contract = contractOf(deps.registry, envelope);
        if (!contract)
          throw new ConfigurationError(
            `contract ${envelope.spinecontract} is not in this build`,
            'deploy a build that has the contract, then replay',
          );
        item.contract = contract;
        const violations = deps.registry.validate(item.contract, envelope.data);
        if (violations.length > 0) throw new ContractViolation(envelope.spinecontract, violations);
        item.context = {
          entityKey: envelope.subject,
          eventId: envelope.id,
          source: envelope.spinesource,
        };
        item.mapped = await mapEvent(item.contract, envelope.data, item.context);
        item.measure = await reconcileMeasure(
          item.contract,
          envelope.data,
          item.mapped,
          item.context,
        );
        if (Object.keys(item.mapped).length === 0) {
          item.outcome = {
            kind: 'skipped',
            reason: item.contract.source.thin
              ? 'thin event: it carries nothing this contract writes (enrichment would fetch the rest)'
              : 'the mapping wrote no values',
          };
          return;
        }
        item.staleKey = staleKeyOf(item.contract, envelope, item.mapped);
      } catch (error) {
        item.outcome = failure(error, deps);
      }
    }),
  );

  // Stale guard, within the batch: only the newest event per entity goes on.
  const newest = new Map<string, Work>();
  for (const item of work.filter((w) => !w.outcome && w.staleKey)) {
    const key = `${item.contract?.id}|${item.staleKey}`;
    const other = newest.get(key);
    if (!other) {
      newest.set(key, item);
      continue;
    }
    const [winner, loser] = isNewerChange(changeOf(item.envelope), changeOf(other.envelope))
      ? [item, other]
      : [other, item];
    loser.outcome = { kind: 'skipped-stale', newer: winner.envelope.id };
    newest.set(key, winner);
  }

  // Stale guard, across invocations: claim each entity before anything is written to Odoo.
  const at = deps.now?.() ?? new Date();
  const claimedUntil = new Date(at.getTime() + ENTITY_CLAIM_SECONDS * 1000).toISOString();
  await Promise.all(
    [...newest.values()].map(async (item) => {
      const contract = item.contract as CompiledContract;
      const change = changeOf(item.envelope);
      try {
        const wanted = { ...change, claimedUntil };
        const claim = await deps.lineage.claimEntity(
          contract.id,
          item.staleKey as string,
          wanted,
          at.toISOString(),
        );
        if (claim.claimed) item.claim = wanted;
        else if (isNewerChange(claim.holder, change))
          item.outcome = { kind: 'skipped-stale', newer: claim.holder.eventId };
        else
          item.outcome = failure(
            new EntityBusy(`${contract.id} ${item.staleKey}`, claim.holder.eventId),
            deps,
          );
      } catch (error) {
        item.outcome = failure(error, deps);
      }
    }),
  );

  const pending = work.filter((w) => !w.outcome && w.claim && w.contract && w.mapped);
  if (pending.length > 0) {
    let client: OdooClient;
    try {
      client = await deps.odoo();
    } catch (error) {
      for (const item of pending) item.outcome = failure(error, deps);
      return finish(work, deps, now, options.alsoRecord);
    }
    const started = performance.now();
    const resolved = await resolveRelations(
      client,
      pending.map((w) => ({
        values: w.mapped as Record<string, unknown>,
        owner: externalIdFor(
          (w.contract as CompiledContract).target.externalId,
          w.context as MappingContext,
        ),
      })),
    ).catch((error: unknown) => pending.map(() => ({ error: error as Error, related: [] })));
    const ready: { item: Work; values: Record<string, unknown> }[] = [];
    pending.forEach((item, i) => {
      const r = resolved[i];
      item.related = r?.related ?? [];
      if (r && 'values' in r) ready.push({ item, values: r.values });
      else item.outcome = failure(r?.error, deps);
    });

    // One upsert per model; the same external id twice in a batch goes in successive rounds, in order.
    const byModel = new Map<string, typeof ready>();
    for (const entry of ready) {
      const model = (entry.item.contract as CompiledContract).target.model;
      byModel.set(model, [...(byModel.get(model) ?? []), entry]);
    }
    for (const [model, entries] of byModel) {
      let remaining = entries;
      while (remaining.length > 0) {
        const seen = new Set<string>();
        const round: typeof entries = [];
        const later: typeof entries = [];
        for (const entry of remaining) {
          const contract = entry.item.contract as CompiledContract;
          const externalId = externalIdFor(
            contract.target.externalId,
            entry.item.context as MappingContext,
          );
          (seen.has(externalId) ? later : round).push(entry);
          seen.add(externalId);
        }
        let results: UpsertResult[];
        try {
          results = await upsertByExternalId(
            client,
            model,
            round.map(({ item, values }) => {
              const contract = item.contract as CompiledContract;
              const match: MatchKey[] = contract.target.match
                .map((m) => ({ field: m.field, value: values[m.field], normalise: m.normalise }))
                .filter((m) => m.value !== undefined && m.value !== null && m.value !== '');
              return {
                externalId: externalIdFor(
                  contract.target.externalId,
                  item.context as MappingContext,
                ),
                values,
                createOnly: contract.target.createOnly,
                match,
                updateOnly: contract.target.onMissing === 'skip',
              };
            }),
          );
        } catch (error) {
          for (const { item } of round) item.outcome = failure(error, deps);
          remaining = later;
          continue;
        }
        round.forEach(({ item }, i) => {
          const result = results[i] as UpsertResult;
          if (result.status === 'failed') item.outcome = failure(result.error, deps);
          else if (result.status === 'skipped')
            item.outcome = {
              kind: 'skipped',
              reason: `no ${model} record for this entity yet, and this contract does not create one`,
            };
          else {
            item.outcome = {
              kind: 'applied',
              model,
              recordId: result.id as number,
              externalId: `spine.${result.externalId}`,
              status: result.status,
              ...(result.linkedBy ? { linkedBy: result.linkedBy } : {}),
            };
          }
        });
        remaining = later;
      }
    }
    deps.telemetry.odooLatency(performance.now() - started, {
      flow: pending[0]?.contract?.flow ?? '',
    });
  }
  return finish(work, deps, now, options.alsoRecord);
}

async function finish(
  work: Work[],
  deps: SyncDependencies,
  now: () => string,
  alsoRecord: readonly LineageEntry[] = [],
): Promise<ApplyOutcome[]> {
  const entries: LineageEntry[] = [...alsoRecord];
  for (const item of work) {
    const { envelope } = item;
    const outcome = item.outcome ?? failure(new Error('not applied'), deps);
    item.outcome = outcome;
    if (outcome.kind === 'failed' && deps.retriesAtOnce?.(outcome.error)) continue;
    const base = { at: now(), ...eventFields(envelope) };
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
          ...(item.measure !== undefined ? { measure: item.measure } : {}),
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
    // The records the event refers to, so each one's timeline shows it: all of them once the
    // event is applied, and those it created or linked even when the event itself failed.
    for (const related of item.related ?? []) {
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
  // The write is over, whatever its outcome: the claims end with the trail, in the same write.
  await deps.lineage.record(
    entries,
    work.flatMap((w) =>
      w.claim
        ? [
            {
              contractId: (w.contract as CompiledContract).id,
              entityKey: w.staleKey as string,
              claim: w.claim,
            },
          ]
        : [],
    ),
  );
  return work.map((w) => w.outcome as ApplyOutcome);
}
