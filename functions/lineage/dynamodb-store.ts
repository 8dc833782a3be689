/**
 * Lineage in one DynamoDB table (see functions/platform/tables.ts), laid out for as few write
 * units per event as its lookups allow (every item is at least one unit, and so is every index
 * entry it makes):
 * - an event's trail under `EVENT#<source>#<id>`: one item per outcome (applied, skipped, failed,
 *   dead-lettered, ...), which also carries what the same write recorded of the event: its
 *   arrival (received, queued) and its steps on the same Odoo record (posted, confirmed, ...);
 * - an entry about another record that the event created or linked (a product an order created)
 *   is a small item of its own, so that the record's timeline finds it; a record it only found
 *   rides on the outcome;
 * - an applied outcome keeps the event's arrival times, not its redacted view (every other
 *   outcome keeps that too);
 * - the indexes are sparse: `correlationId` only on outcomes (a lookup then reads each event's
 *   whole trail), `recordKey` on items naming a record, `contractDay` on applied outcomes;
 * - each item expires `retentionDays` after it was written (TTL attribute `expiresAt`).
 * Items written one per stage, before this layout, read the same.
 *
 * The stale guard's entity states live under `ENTITY#<contract>#<key>`, natural-key locks under
 * `NATURALKEY#<hash>`.
 */
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type {
  ClaimRelease,
  EntityClaim,
  EntityState,
  HeldClaim,
  LineageEntry,
  LineageStage,
  LineageStore,
} from './model.ts';
import { isNewerChange } from './model.ts';

/**
 * A claim with more than this left is ended by a plain put in the lineage batch: no other attempt
 * can be granted the entity before the claim lapses, so nothing newer can be overwritten. Closer
 * to its end, it is ended conditionally, by its token.
 */
const LIVE_CLAIM_MARGIN_MS = 60_000;

/** Stages that end an attempt: each is an item, carrying the rest of its event's write. */
const OUTCOMES: ReadonlySet<LineageStage> = new Set<LineageStage>([
  'applied',
  'quarantined',
  'skipped-stale',
  'skipped',
  'failed',
  'dead-lettered',
  'replayed',
  'parked',
]);

const ARRIVAL_ORDER: Partial<Record<LineageStage, string>> = {
  received: 'arrival-1',
  queued: 'arrival-2',
};

/** How long lineage is kept when the deployment does not say: a year's audit, and a margin. */
export const DEFAULT_LINEAGE_RETENTION_DAYS = 400;

/** An event's arrival, as the outcome item of the same write carries it. */
interface Arrival {
  readonly receivedAt?: string;
  readonly queuedAt?: string;
  /** The received entry's redacted view of the event. */
  readonly redacted?: unknown;
}

/** An entry folded into its outcome's item: what it does not share with the outcome. */
type Step = Partial<LineageEntry> & Pick<LineageEntry, 'stage'>;

/** Fields every entry of an event repeats; a folded step takes them from its outcome. */
const EVENT_FIELDS = [
  'source',
  'eventId',
  'eventType',
  'contract',
  'flow',
  'correlationId',
  'entityKey',
  'occurredAt',
] as const satisfies readonly (keyof LineageEntry)[];

/** Attributes of the layout, not of an entry. */
const STORAGE_ATTRIBUTES = [
  'pk',
  'sk',
  'recordKey',
  'contractDay',
  'expiresAt',
  'arrival',
  'steps',
  'released',
  'correlation',
] as const;

const eventKeyOf = (source: string, eventId: string) => `EVENT#${source}#${eventId}`;

/** A step on its outcome's record (or on none, like it) can ride on the outcome's item. */
const onRecordOf = (entry: LineageEntry, outcome: LineageEntry) =>
  entry.model === outcome.model && entry.recordId === outcome.recordId;

/**
 * A record the event only found (the partner a payment names) rides on the outcome too: the
 * event's trail shows it, but the found record's timeline does not, since nothing changed it.
 * Its own item and index entry would cost two write units on most events of a ledger.
 */
const foundOnly = (entry: LineageEntry) => entry.stage === 'related' && entry.outcome === 'found';

/**
 * The redacted view of what arrived is kept for every outcome a person has to look into (failed,
 * quarantined, skipped, dead-lettered, ...), not for an applied one: there, the vendor figures
 * and the fingerprints of what was written are what reconciliation compares, the values live in
 * Odoo, and the view would double the item's write units (its size passes 1 KB).
 */
const keepsRedactedView = (outcome: LineageEntry) => outcome.stage !== 'applied';

export class DynamoDbLineageStore implements LineageStore {
  private readonly documents: DynamoDBDocumentClient;
  private readonly retentionSeconds: number;
  private sequence = 0;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
    options: {
      /** How long an item is kept after it is written. @default DEFAULT_LINEAGE_RETENTION_DAYS */
      readonly retentionDays?: number;
    } = {},
  ) {
    this.documents = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    this.retentionSeconds = (options.retentionDays ?? DEFAULT_LINEAGE_RETENTION_DAYS) * 86_400;
  }

  private expiresAt(after = Date.now()): number {
    return Math.floor(after / 1000) + this.retentionSeconds;
  }

  /** The item of one entry, with what rides on it. */
  private item(
    entry: LineageEntry,
    rides: { arrival?: Arrival; steps?: Step[] } = {},
  ): Record<string, unknown> {
    // The sequence keeps two stages recorded in the same millisecond apart, in order. An arrival
    // (received, queued) is keyed by its time alone: recorded again, it is the same item.
    const seq = ARRIVAL_ORDER[entry.stage] ?? String(this.sequence++ % 1_000_000).padStart(6, '0');
    const { correlationId, ...fields } = entry;
    const findable = OUTCOMES.has(entry.stage) || ARRIVAL_ORDER[entry.stage] !== undefined;
    return {
      pk: eventKeyOf(entry.source, entry.eventId),
      sk: `${entry.at}#${seq}#${entry.stage}`,
      ...fields,
      // Only an outcome is found by its correlation id; another record's entry keeps the id
      // under another name, out of that index (the lookup reads the event's whole trail).
      ...(findable ? { correlationId } : { correlation: correlationId }),
      ...(rides.arrival && Object.keys(rides.arrival).length > 0 ? { arrival: rides.arrival } : {}),
      ...(rides.steps && rides.steps.length > 0 ? { steps: rides.steps } : {}),
      ...(entry.model && entry.recordId !== undefined
        ? { recordKey: `${entry.model}#${entry.recordId}` }
        : {}),
      ...(entry.stage === 'applied' && entry.contract && entry.occurredAt
        ? { contractDay: `${entry.contract.split('@')[0]}#${entry.occurredAt.slice(0, 10)}` }
        : {}),
      expiresAt: this.expiresAt(),
    };
  }

  /** The items of one event's entries of one write: its outcome carrying the rest, where it can. */
  private itemsOfEvent(entries: readonly LineageEntry[]): {
    outcome: Record<string, unknown>;
    others: Record<string, unknown>[];
  } {
    const outcome =
      entries.find((e) => OUTCOMES.has(e.stage)) ??
      entries.find((e) => ARRIVAL_ORDER[e.stage] === undefined) ??
      (entries[0] as LineageEntry);
    const arrival: { receivedAt?: string; queuedAt?: string; redacted?: unknown } = {};
    const steps: Step[] = [];
    const others: LineageEntry[] = [];
    const arrivals = new Set([`${outcome.stage}#${outcome.at}`]);
    for (const entry of entries) {
      if (entry === outcome) continue;
      if (ARRIVAL_ORDER[entry.stage] !== undefined) {
        // The same arrival twice (a message delivered twice in one batch) is one arrival.
        const key = `${entry.stage}#${entry.at}`;
        if (arrivals.has(key)) continue;
        arrivals.add(key);
      }
      if (entry.stage === 'received' && outcome.stage !== 'received' && !arrival.receivedAt) {
        arrival.receivedAt = entry.at;
        if (entry.redacted !== undefined && keepsRedactedView(outcome))
          arrival.redacted = entry.redacted;
      } else if (entry.stage === 'queued' && !arrival.queuedAt) arrival.queuedAt = entry.at;
      else if (
        !OUTCOMES.has(entry.stage) &&
        !ARRIVAL_ORDER[entry.stage] &&
        (onRecordOf(entry, outcome) || foundOnly(entry) || entry.stage === 'enriched')
      )
        steps.push(stepOf(entry, outcome));
      else others.push(entry);
    }
    // The outcome first, so that it sorts before the entries recorded with it.
    const item = this.item(outcome, { arrival, steps });
    return { outcome: item, others: others.map((entry) => this.item(entry)) };
  }

  async record(
    entries: readonly LineageEntry[],
    releases: readonly ClaimRelease[] = [],
  ): Promise<void> {
    const byEvent = new Map<string, LineageEntry[]>();
    for (const entry of entries) {
      const key = eventKeyOf(entry.source, entry.eventId);
      byEvent.set(key, [...(byEvent.get(key) ?? []), entry]);
    }
    const outcomes = new Map<string, Record<string, unknown>>();
    const puts: Record<string, unknown>[] = [];
    for (const [key, list] of byEvent) {
      const { outcome, others } = this.itemsOfEvent(list);
      outcomes.set(key, outcome);
      puts.push(outcome, ...others);
    }
    // A claim whose event's outcome is in this write ends with it: the outcome names the claim's
    // token, and the next claimant reads it there (claimEntity) instead of the entity's state
    // being written a second time. Other claims are ended on the state itself.
    const onState: ClaimRelease[] = [];
    for (const release of releases) {
      const outcome =
        release.claim.source !== undefined
          ? outcomes.get(eventKeyOf(release.claim.source, release.claim.eventId))
          : undefined;
      if (outcome)
        outcome.released = new Set([
          ...((outcome.released as Set<string> | undefined) ?? []),
          release.claim.claimToken,
        ]);
      else onState.push(release);
    }
    const live = onState.filter(
      (r) => Date.parse(r.claim.claimedUntil) - Date.now() > LIVE_CLAIM_MARGIN_MS,
    );
    const lapsing = onState.filter((r) => !live.includes(r));
    puts.push(
      ...live.map((r) => ({
        ...this.entityKey(r.contractId, r.entityKey),
        occurredAt: r.claim.occurredAt,
        eventId: r.claim.eventId,
        ...(r.claim.source ? { source: r.claim.source } : {}),
        expiresAt: this.expiresAt(),
      })),
    );
    await Promise.all([
      this.batchPut(puts),
      ...lapsing.map((r) => this.releaseEntity(r.contractId, r.entityKey, r.claim.claimToken)),
    ]);
  }

  /** Puts items 25 to a request (BatchWriteItem's limit), the requests at once. */
  private async batchPut(items: readonly Record<string, unknown>[]): Promise<void> {
    const chunks: Record<string, unknown>[][] = [];
    for (let i = 0; i < items.length; i += 25) chunks.push(items.slice(i, i + 25));
    await Promise.all(
      chunks.map(async (chunk) => {
        let requests = chunk.map((Item) => ({ PutRequest: { Item } }));
        for (let attempt = 0; requests.length > 0; attempt++) {
          const result = await this.documents.send(
            new BatchWriteCommand({ RequestItems: { [this.tableName]: requests } }),
          );
          requests = (result.UnprocessedItems?.[this.tableName] ?? []) as typeof requests;
          if (requests.length > 0)
            await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
        }
      }),
    );
  }

  /** Every item of a query, page after page. */
  private async queryItems(input: {
    IndexName?: string;
    key: string;
    value: string;
  }): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const result = await this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
          ...(input.IndexName ? { IndexName: input.IndexName } : {}),
          KeyConditionExpression: '#k = :v',
          ExpressionAttributeNames: { '#k': input.key },
          ExpressionAttributeValues: { ':v': input.value },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      items.push(...((result.Items ?? []) as Record<string, unknown>[]));
      start = result.LastEvaluatedKey;
    } while (start);
    return items;
  }

  /** The whole trail of each event (its items' partitions), a few events at a time. */
  private async trailsOf(eventKeys: readonly string[]): Promise<LineageEntry[]> {
    const unique = [...new Set(eventKeys)];
    const trails: LineageEntry[][] = [];
    for (let i = 0; i < unique.length; i += 8)
      trails.push(
        ...(await Promise.all(
          unique
            .slice(i, i + 8)
            .map(async (pk) => entriesOf(await this.queryItems({ key: 'pk', value: pk }))),
        )),
      );
    return byTime(trails.flat());
  }

  byEvent(source: string, eventId: string): Promise<LineageEntry[]> {
    return this.trailsOf([eventKeyOf(source, eventId)]);
  }

  async byRecord(model: string, recordId: number): Promise<LineageEntry[]> {
    // The index keeps what a record's timeline shows (not an event's arrival).
    const items = await this.queryItems({
      IndexName: 'byRecord',
      key: 'recordKey',
      value: `${model}#${recordId}`,
    });
    return byTime(
      items.flatMap((item) =>
        entriesOfItem(item).filter((e) => e.model === model && e.recordId === recordId),
      ),
    );
  }

  async byCorrelation(correlationId: string): Promise<LineageEntry[]> {
    // The index holds each event's outcomes, keys only: every entry of those events answers.
    const items = await this.queryItems({
      IndexName: 'byCorrelation',
      key: 'correlationId',
      value: correlationId,
    });
    return this.trailsOf(items.map((item) => String(item.pk)));
  }

  async appliedOn(contract: string, day: string): Promise<LineageEntry[]> {
    const items = await this.queryItems({
      IndexName: 'byContractDay',
      key: 'contractDay',
      value: `${contract.split('@')[0]}#${day}`,
    });
    return byTime(
      items.flatMap((item) => entriesOfItem(item).filter((e) => e.stage === 'applied')),
    );
  }

  /**
   * The days (YYYY-MM-DD, the events' own) that hold applied events of these contracts, with how
   * many each: a scan of the byContractDay index, its keys only, that stops after `maxItems`
   * entries (`complete` is then false). For telling a person which day to reconcile, not for a
   * report: the index has no cheaper way to list its days.
   */
  async appliedDays(
    options: { contracts?: readonly string[]; maxItems?: number } = {},
  ): Promise<{ days: Record<string, number>; complete: boolean }> {
    const maxItems = options.maxItems ?? 5000;
    const wanted = options.contracts && new Set(options.contracts.map((c) => c.split('@')[0]));
    const days: Record<string, number> = {};
    let read = 0;
    let start: Record<string, unknown> | undefined;
    do {
      const result = await this.documents.send(
        new ScanCommand({
          TableName: this.tableName,
          IndexName: 'byContractDay',
          ProjectionExpression: '#c',
          ExpressionAttributeNames: { '#c': 'contractDay' },
          Limit: Math.min(1000, maxItems - read),
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of result.Items ?? []) {
        const [contract = '', day] = String(item.contractDay).split('#');
        if (day && (!wanted || wanted.has(contract))) days[day] = (days[day] ?? 0) + 1;
      }
      read += result.Items?.length ?? 0;
      start = result.LastEvaluatedKey;
    } while (start && read < maxItems);
    return { days, complete: !start };
  }

  private entityKey(contractId: string, entityKey: string) {
    return { pk: `ENTITY#${contractId}#${entityKey}`, sk: 'STATE' };
  }

  async entityState(contractId: string, entityKey: string): Promise<EntityState | undefined> {
    const result = await this.documents.send(
      new GetCommand({
        TableName: this.tableName,
        Key: this.entityKey(contractId, entityKey),
        ConsistentRead: true,
      }),
    );
    if (!result.Item) return undefined;
    return {
      occurredAt: String(result.Item.occurredAt),
      eventId: String(result.Item.eventId),
      ...(typeof result.Item.claimedUntil === 'string'
        ? { claimedUntil: result.Item.claimedUntil }
        : {}),
      ...(typeof result.Item.claimToken === 'string' ? { claimToken: result.Item.claimToken } : {}),
      ...(typeof result.Item.source === 'string' ? { source: result.Item.source } : {}),
    };
  }

  /** Whether the attempt holding a claim recorded its outcome with the claim ended (record). */
  private async claimEnded(holder: EntityState): Promise<boolean> {
    if (!holder.source || !holder.claimToken) return false;
    let start: Record<string, unknown> | undefined;
    do {
      const result = await this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          FilterExpression: 'contains(released, :token)',
          ProjectionExpression: 'pk',
          ExpressionAttributeValues: {
            ':pk': eventKeyOf(holder.source, holder.eventId),
            ':token': holder.claimToken,
          },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      if ((result.Count ?? 0) > 0) return true;
      start = result.LastEvaluatedKey;
    } while (start);
    return false;
  }

  async claimEntity(
    contractId: string,
    entityKey: string,
    claim: HeldClaim,
    now: string,
  ): Promise<EntityClaim> {
    /** The token of a live claim found ended on its outcome: the put may replace that one. */
    let ended: string | undefined;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.documents.send(
          new PutCommand({
            TableName: this.tableName,
            Item: {
              ...this.entityKey(contractId, entityKey),
              occurredAt: claim.occurredAt,
              eventId: claim.eventId,
              claimedUntil: claim.claimedUntil,
              claimToken: claim.claimToken,
              ...(claim.source ? { source: claim.source } : {}),
              expiresAt: this.expiresAt(),
            },
            // Same order as isNewerChange: later, or at the same time a greater event id (or the
            // same event again); and no claim live, not even an earlier attempt of this event,
            // unless it is the one found ended.
            ConditionExpression:
              'attribute_not_exists(pk) OR ' +
              '((eventId = :id OR occurredAt < :at OR (occurredAt = :at AND eventId < :id)) AND ' +
              `(attribute_not_exists(claimedUntil) OR claimedUntil <= :now${ended ? ' OR claimToken = :ended' : ''}))`,
            ExpressionAttributeValues: {
              ':at': claim.occurredAt,
              ':id': claim.eventId,
              ':now': now,
              ...(ended ? { ':ended': ended } : {}),
            },
          }),
        );
        return { claimed: true };
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
      const holder = await this.entityState(contractId, entityKey);
      if (!holder) {
        // Refused, yet gone when read: states are never deleted, so this is a race to retry, briefly.
        if (attempt >= 2)
          throw new Error(`the entity state ${contractId} ${entityKey} could not be claimed`);
        continue;
      }
      const live = holder.claimedUntil !== undefined && holder.claimedUntil > now;
      if (
        live &&
        attempt < 3 &&
        holder.claimToken !== ended &&
        !isNewerChange(holder, claim) &&
        (await this.claimEnded(holder))
      ) {
        ended = holder.claimToken;
        continue;
      }
      return { claimed: false, holder };
    }
  }

  async releaseEntity(contractId: string, entityKey: string, claimToken: string): Promise<void> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.entityKey(contractId, entityKey),
          UpdateExpression: 'REMOVE claimedUntil, claimToken',
          ConditionExpression: 'claimToken = :token',
          ExpressionAttributeValues: { ':token': claimToken },
        }),
      );
    } catch (error) {
      // Another attempt holds the entity now (this claim had lapsed): not this one's to end.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  private naturalKey(key: string) {
    return { pk: `NATURALKEY#${key}`, sk: 'LOCK' };
  }

  async lockNaturalKey(key: string, token: string, until: string, now: string): Promise<boolean> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          // A lock its writer never ended holds nothing once lapsed; it goes a day after.
          Item: {
            ...this.naturalKey(key),
            token,
            lockedUntil: until,
            expiresAt: Math.floor(Date.parse(until) / 1000) + 86_400,
          },
          ConditionExpression: 'attribute_not_exists(pk) OR lockedUntil <= :now OR #t = :token',
          ExpressionAttributeNames: { '#t': 'token' },
          ExpressionAttributeValues: { ':now': now, ':token': token },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async unlockNaturalKey(key: string, token: string): Promise<void> {
    try {
      await this.documents.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: this.naturalKey(key),
          ConditionExpression: '#t = :token',
          ExpressionAttributeNames: { '#t': 'token' },
          ExpressionAttributeValues: { ':token': token },
        }),
      );
    } catch (error) {
      // The lock had lapsed and another writer holds it: not this writer's to end.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
}

/** A step as its outcome's item keeps it: only what differs from the outcome. */
function stepOf(entry: LineageEntry, outcome: LineageEntry): Step {
  const step: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(entry))
    if (value !== undefined && value !== (outcome as unknown as Record<string, unknown>)[name])
      step[name] = value;
  return step as Step;
}

/** The entries one item holds: its own, its event's arrival, and the steps riding on it. */
function entriesOfItem(item: Record<string, unknown>): LineageEntry[] {
  const stored: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(item))
    if (!(STORAGE_ATTRIBUTES as readonly string[]).includes(name)) stored[name] = value;
  if (item.correlation !== undefined && stored.correlationId === undefined)
    stored.correlationId = item.correlation;
  const entry = stored as unknown as LineageEntry;
  const fields = Object.fromEntries(
    EVENT_FIELDS.filter((f) => entry[f] !== undefined).map((f) => [f, entry[f]]),
  ) as Pick<LineageEntry, 'source' | 'eventId'>;
  const arrival = item.arrival as Arrival | undefined;
  return [
    ...(arrival?.receivedAt
      ? [
          {
            ...fields,
            stage: 'received' as const,
            at: arrival.receivedAt,
            ...(arrival.redacted !== undefined ? { redacted: arrival.redacted } : {}),
          },
        ]
      : []),
    ...(arrival?.queuedAt ? [{ ...fields, stage: 'queued' as const, at: arrival.queuedAt }] : []),
    entry,
    ...((item.steps as Step[] | undefined) ?? []).map(
      (step) =>
        ({
          ...fields,
          at: entry.at,
          ...(entry.model !== undefined ? { model: entry.model } : {}),
          ...(entry.recordId !== undefined ? { recordId: entry.recordId } : {}),
          ...step,
        }) as LineageEntry,
    ),
  ];
}

/**
 * The entries of an event's items: an arrival recorded again (a retried batch) is one entry, as
 * it was one item when each stage had its own.
 */
function entriesOf(items: readonly Record<string, unknown>[]): LineageEntry[] {
  const seen = new Map<string, LineageEntry>();
  const entries: LineageEntry[] = [];
  for (const entry of items.flatMap(entriesOfItem)) {
    if (ARRIVAL_ORDER[entry.stage] === undefined) {
      entries.push(entry);
      continue;
    }
    const key = `${entry.stage}#${entry.at}`;
    const first = seen.get(key);
    if (!first) {
      seen.set(key, entry);
      entries.push(entry);
    } else if (first.redacted === undefined && entry.redacted !== undefined)
      entries[entries.indexOf(first)] = entry;
  }
  // An entry that keeps the correlation id elsewhere (another record's) gets its event's.
  const correlationId = entries.find((e) => e.correlationId)?.correlationId;
  return entries.map((e) => (e.correlationId || !correlationId ? e : { ...e, correlationId }));
}

/** Oldest first; entries of the same time keep the order they were recorded in. */
const byTime = (entries: LineageEntry[]) => entries.sort((a, b) => a.at.localeCompare(b.at));
