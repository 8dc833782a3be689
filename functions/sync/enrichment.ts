/**
 * Enrichment of thin events, a batch at once: every event whose contract has an `enrich` part
 * names a vendor object (a HubSpot contact); the ids of one kind are deduplicated and read in as
 * few calls as the vendor's batch endpoint allows, so a burst of property changes to one contact
 * costs one fetch. Each event then maps the object's current state, as the vendor answered it.
 *
 * An enriched event writes the vendor's current state, not the event's: its change, for the
 * stale guard, is the object's own version (HubSpot's `updatedAt`), so a later fetch is never
 * overwritten by an earlier one, whatever order the events come in. An answer older than the
 * event (the vendor's API has not caught up with its own webhook) is retried.
 */
import { performance } from 'node:perf_hooks';
import { readLocatorString } from '../contracts/locator.ts';
import { minimise } from '../contracts/minimise.ts';
import type { CompiledContract, CompiledEnrichment } from '../contracts/model.ts';
import type { ContractRegistry } from '../contracts/registry.ts';
import { VendorThrottled } from '../enrich/errors.ts';
import type { FetchResult, VendorObjectKind, VendorReader } from '../enrich/model.ts';
import type { Envelope } from '../ingest/envelope.ts';
import { EnrichedObjectViolation, VendorBehind } from './enrichment-errors.ts';

/** What an event's mapping reads beside the event, and what lineage says of the fetch. */
export interface Enriched {
  /** The binding the mapping reads it as (`$contact`). */
  readonly as: string;
  /** The object, minimised to what the contract's enrich schema declares. */
  readonly object: unknown;
  readonly kind: VendorObjectKind;
  /** The object's id as the vendor answered it (a merged contact's survivor). */
  readonly id: string;
  /** The object's version (ISO 8601); absent for vendors whose objects have none. */
  readonly version?: string;
  /** How long the call that fetched it took, in milliseconds (shared by the events it served). */
  readonly latencyMs: number;
  /** When the vendor answered (ISO 8601): the `enriched` stage's time in lineage. */
  readonly fetchedAt: string;
}

export type Enrichment =
  | { readonly enriched: Enriched }
  /** The object is gone at the vendor: nothing to write. */
  | { readonly skipped: string }
  | { readonly error: Error };

export interface EnrichmentDependencies {
  readonly registry: ContractRegistry;
  /**
   * The reader of one kind of vendor object. Throws (a retryable SourceCredentialMissing naming
   * the secret) when the source's API credential is not stored.
   */
  readonly vendors: (kind: VendorObjectKind) => Promise<VendorReader>;
  /** Told of each vendor call: its latency, and whether the vendor throttled it. */
  readonly telemetry?: {
    vendorCall(ms: number, dimensions: Record<string, string>, throttled: boolean): void;
  };
}

/** One event to enrich: its place in the batch, its contract (which has an `enrich` part). */
export interface ToEnrich {
  readonly index: number;
  readonly envelope: Envelope;
  readonly contract: CompiledContract & { readonly enrich: CompiledEnrichment };
}

/** The id of the object an event names, or undefined when its event does not say. */
function objectIdOf(item: ToEnrich): string | undefined {
  return readLocatorString(item.contract.enrich.id, { event: item.envelope.data, headers: {} });
}

const vendorOf = (kind: VendorObjectKind) => kind.slice(0, kind.indexOf('.'));

/**
 * Fetches what each event's contract asks, one read per kind of object for the whole batch (the
 * union of the properties and expansions its contracts ask), and answers per event.
 */
export async function enrichBatch(
  items: readonly ToEnrich[],
  deps: EnrichmentDependencies,
  options: { readonly deadline?: AbortSignal; readonly endsAt?: number } = {},
): Promise<Map<number, Enrichment>> {
  const answers = new Map<number, Enrichment>();
  const byKind = new Map<VendorObjectKind, { item: ToEnrich; id: string }[]>();
  for (const item of items) {
    const id = objectIdOf(item);
    if (id === undefined) {
      // The contract's schema requires the id; a contract that does not is wrong, not the event.
      answers.set(item.index, {
        error: new EnrichedObjectViolation(
          `${item.contract.id}@${item.contract.version}`,
          item.contract.enrich.object,
          [{ path: '$', keyword: 'enrich.id', message: 'the event names no object to fetch' }],
        ),
      });
      continue;
    }
    const kind = item.contract.enrich.object;
    byKind.set(kind, [...(byKind.get(kind) ?? []), { item, id }]);
  }

  await Promise.all(
    [...byKind].map(async ([kind, wanted]) => {
      const ids = [...new Set(wanted.map((w) => w.id))];
      const properties = union(wanted.map((w) => w.item.contract.enrich.properties));
      const expand = union(wanted.map((w) => w.item.contract.enrich.expand));
      let results: Map<string, FetchResult>;
      let latencyMs: number;
      let fetchedAt: string;
      const started = performance.now();
      try {
        const reader = await deps.vendors(kind);
        const throttledBefore = reader.stats.throttled;
        results = await reader.read(ids, {
          ...(properties.length > 0 ? { properties } : {}),
          ...(expand.length > 0 ? { expand } : {}),
          ...(options.deadline ? { deadline: options.deadline } : {}),
          ...(options.endsAt !== undefined ? { endsAt: options.endsAt } : {}),
        });
        latencyMs = performance.now() - started;
        fetchedAt = new Date().toISOString();
        deps.telemetry?.vendorCall(
          latencyMs,
          { vendor: vendorOf(kind), object: kind },
          reader.stats.throttled > throttledBefore,
        );
      } catch (error) {
        deps.telemetry?.vendorCall(
          performance.now() - started,
          { vendor: vendorOf(kind), object: kind },
          error instanceof VendorThrottled,
        );
        for (const { item } of wanted) answers.set(item.index, { error: error as Error });
        return;
      }
      for (const { item, id } of wanted)
        answers.set(
          item.index,
          answerFor(item, id, results.get(id), latencyMs, fetchedAt, deps.registry),
        );
    }),
  );
  return answers;
}

function answerFor(
  item: ToEnrich,
  id: string,
  result: FetchResult | undefined,
  latencyMs: number,
  fetchedAt: string,
  registry: ContractRegistry,
): Enrichment {
  const { enrich } = item.contract;
  if (!result || 'missing' in result)
    return {
      skipped: `${enrich.object} ${id} is gone at ${vendorOf(enrich.object)}: ${
        result?.reason ?? 'it did not answer for it'
      }; nothing to write`,
    };
  const { found } = result;
  const violations = registry.validateEnriched(item.contract, found.object);
  if (violations.length > 0)
    return {
      error: new EnrichedObjectViolation(
        `${item.contract.id}@${item.contract.version}`,
        enrich.object,
        violations,
      ),
    };
  // The vendor's API answers an older state than the webhook announced: retried until it shows it.
  if (found.version !== undefined && Date.parse(found.version) < Date.parse(item.envelope.time))
    return { error: new VendorBehind(enrich.object, id, found.version, item.envelope.time) };
  return {
    enriched: {
      as: enrich.as,
      object: minimise(enrich.shape, found.object),
      kind: enrich.object,
      id: found.id,
      ...(found.version !== undefined ? { version: found.version } : {}),
      latencyMs,
      fetchedAt,
    },
  };
}

function union(lists: readonly (readonly string[])[]): string[] {
  return [...new Set(lists.flat())].sort();
}
