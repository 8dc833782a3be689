/**
 * The DynamoDB tables Spine uses, as key schemas shared by the CDK stack, the local runtime
 * and the adapters that read and write them.
 */

export interface TableIndex {
  readonly name: string;
  readonly partitionKey: string;
  readonly sortKey?: string;
  /**
   * What the index keeps of an item beside the keys: nothing (`KEYS_ONLY`) or the attributes
   * named. Every attribute kept is paid again on each write of the item.
   * @default 'ALL'
   */
  readonly projection?: 'KEYS_ONLY' | readonly string[];
}

export interface TableDefinition {
  readonly partitionKey: string;
  readonly sortKey?: string;
  readonly timeToLiveAttribute?: string;
  readonly indexes: readonly TableIndex[];
}

/** Powertools idempotency records: partition key `id`, expired through `expiration`. */
export const IDEMPOTENCY_TABLE: TableDefinition = {
  partitionKey: 'id',
  timeToLiveAttribute: 'expiration',
  indexes: [],
};

/** What reconciliation reads of an applied entry, kept in the indexes it reads from. */
const APPLIED_FIELDS = [
  'stage',
  'source',
  'eventId',
  'eventType',
  'contract',
  'flow',
  'correlationId',
  'entityKey',
  'occurredAt',
  'model',
  'recordId',
  'externalId',
  'outcome',
  'measure',
  'vendor',
  'written',
  'detail',
] as const;

/**
 * Lineage, one table for every access pattern: an event's trail under `EVENT#<source>#<id>`
 * (functions/lineage/dynamodb-store.ts), an Odoo record's events in `byRecord`, a correlation
 * id's in `byCorrelation`, a contract's applied events of a day in `byContractDay`, and the
 * stale guard's entity states under `ENTITY#...`. Every index is sparse and keeps only what its
 * readers use, so that each entry stays one write unit: `byCorrelation` the keys (the lookup
 * reads the events' trails), the others what a record's timeline and reconciliation show, not
 * the event's arrival and its redacted view. Items expire through `expiresAt`.
 */
export const LINEAGE_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  timeToLiveAttribute: 'expiresAt',
  indexes: [
    {
      name: 'byRecord',
      partitionKey: 'recordKey',
      sortKey: 'at',
      projection: [...APPLIED_FIELDS, 'error', 'steps', 'correlation'],
    },
    {
      name: 'byCorrelation',
      partitionKey: 'correlationId',
      sortKey: 'at',
      projection: 'KEYS_ONLY',
    },
    {
      name: 'byContractDay',
      partitionKey: 'contractDay',
      sortKey: 'at',
      projection: APPLIED_FIELDS,
    },
  ],
} as const satisfies TableDefinition;
