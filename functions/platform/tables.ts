/**
 * The DynamoDB tables Spine uses, as key schemas shared by the CDK stack, the local runtime
 * and the adapters that read and write them.
 */

export interface TableIndex {
  readonly name: string;
  readonly partitionKey: string;
  readonly sortKey?: string;
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

/**
 * Lineage, one table for every access pattern: an event's stages under `EVENT#<source>#<id>`,
 * an Odoo record's events in `byRecord`, a correlation id's in `byCorrelation`, and the last
 * applied time of each entity (the stale guard) under `ENTITY#...`.
 */
export const LINEAGE_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  indexes: [
    { name: 'byRecord', partitionKey: 'recordKey', sortKey: 'at' },
    { name: 'byCorrelation', partitionKey: 'correlationId', sortKey: 'at' },
    { name: 'byContractDay', partitionKey: 'contractDay', sortKey: 'at' },
  ],
} as const satisfies TableDefinition;
