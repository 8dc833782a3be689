/**
 * Lineage in one DynamoDB table (see functions/platform/tables.ts): stages of an event under
 * `EVENT#<source>#<id>`, with `recordKey`, `correlationId` and `contractDay` feeding the
 * indexes, the stale guard's entity states under `ENTITY#<contract>#<key>`, and natural-key locks
 * under `NATURALKEY#<hash>`.
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
  LineageStore,
} from './model.ts';

/**
 * A claim with more than this left is ended by a plain put in the lineage batch: no other attempt
 * can be granted the entity before the claim lapses, so nothing newer can be overwritten. Closer
 * to its end, it is ended conditionally, by its token.
 */
const LIVE_CLAIM_MARGIN_MS = 60_000;

const ARRIVAL_ORDER: Partial<Record<LineageEntry['stage'], string>> = {
  received: 'arrival-1',
  queued: 'arrival-2',
};

export class DynamoDbLineageStore implements LineageStore {
  private readonly documents: DynamoDBDocumentClient;
  private sequence = 0;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.documents = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true },
    });
  }

  private item(entry: LineageEntry) {
    // The sequence keeps two stages recorded in the same millisecond apart, in order. An arrival
    // (received, queued) is keyed by its time alone: recorded again, it is the same item.
    const seq = ARRIVAL_ORDER[entry.stage] ?? String(this.sequence++ % 1_000_000).padStart(6, '0');
    return {
      pk: `EVENT#${entry.source}#${entry.eventId}`,
      sk: `${entry.at}#${seq}#${entry.stage}`,
      ...entry,
      ...(entry.model && entry.recordId !== undefined
        ? { recordKey: `${entry.model}#${entry.recordId}` }
        : {}),
      ...(entry.stage === 'applied' && entry.contract && entry.occurredAt
        ? { contractDay: `${entry.contract.split('@')[0]}#${entry.occurredAt.slice(0, 10)}` }
        : {}),
    };
  }

  async record(
    entries: readonly LineageEntry[],
    releases: readonly ClaimRelease[] = [],
  ): Promise<void> {
    const live = releases.filter(
      (r) => Date.parse(r.claim.claimedUntil) - Date.now() > LIVE_CLAIM_MARGIN_MS,
    );
    const lapsing = releases.filter((r) => !live.includes(r));
    const puts: Record<string, unknown>[] = [
      ...entries.map((entry) => this.item(entry)),
      ...live.map((r) => ({
        ...this.entityKey(r.contractId, r.entityKey),
        occurredAt: r.claim.occurredAt,
        eventId: r.claim.eventId,
      })),
    ];
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

  private async query(input: {
    IndexName?: string;
    key: string;
    value: string;
    sortPrefix?: string;
  }): Promise<LineageEntry[]> {
    const items: LineageEntry[] = [];
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
      items.push(
        ...((result.Items ?? []) as Record<string, unknown>[]).map(
          ({ pk: _pk, sk: _sk, recordKey: _r, contractDay: _c, ...entry }) =>
            entry as unknown as LineageEntry,
        ),
      );
      start = result.LastEvaluatedKey;
    } while (start);
    return items.sort((a, b) => a.at.localeCompare(b.at));
  }

  byEvent(source: string, eventId: string): Promise<LineageEntry[]> {
    return this.query({ key: 'pk', value: `EVENT#${source}#${eventId}` });
  }

  byRecord(model: string, recordId: number): Promise<LineageEntry[]> {
    return this.query({ IndexName: 'byRecord', key: 'recordKey', value: `${model}#${recordId}` });
  }

  byCorrelation(correlationId: string): Promise<LineageEntry[]> {
    return this.query({ IndexName: 'byCorrelation', key: 'correlationId', value: correlationId });
  }

  appliedOn(contract: string, day: string): Promise<LineageEntry[]> {
    return this.query({
      IndexName: 'byContractDay',
      key: 'contractDay',
      value: `${contract.split('@')[0]}#${day}`,
    });
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
    };
  }

  async claimEntity(
    contractId: string,
    entityKey: string,
    claim: HeldClaim,
    now: string,
  ): Promise<EntityClaim> {
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
            },
            // Same order as isNewerChange: later, or at the same time a greater event id (or the
            // same event again); and no claim live, not even an earlier attempt of this event.
            ConditionExpression:
              'attribute_not_exists(pk) OR ' +
              '((eventId = :id OR occurredAt < :at OR (occurredAt = :at AND eventId < :id)) AND ' +
              '(attribute_not_exists(claimedUntil) OR claimedUntil <= :now))',
            ExpressionAttributeValues: {
              ':at': claim.occurredAt,
              ':id': claim.eventId,
              ':now': now,
            },
          }),
        );
        return { claimed: true };
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
      const holder = await this.entityState(contractId, entityKey);
      if (holder) return { claimed: false, holder };
      // Refused, yet gone when read: states are never deleted, so this is a race to retry, briefly.
      if (attempt >= 2)
        throw new Error(`the entity state ${contractId} ${entityKey} could not be claimed`);
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
          Item: { ...this.naturalKey(key), token, lockedUntil: until },
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
