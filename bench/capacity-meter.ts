/**
 * DynamoDB request units as AWS would bill them, counted from the items a client actually writes
 * and reads: each write is priced by the larger of the item before and after it (1 KB units,
 * rounded up per item), plus one index write per global secondary index the item enters, leaves
 * or changes in (two when its index key changes), priced by the index entry its projection keeps;
 * a conditional write that fails still costs the item it was checked against. Reads cost 4 KB
 * units, half when eventually consistent.
 *
 * dynalite reports consumed capacity for the table alone and none for a failed condition, so the
 * meter reads the item before (and after an update) through a client of its own, which it does
 * not count.
 */
import {
  type AttributeValue,
  DynamoDBClient,
  GetItemCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import type { TableDefinition, TableIndex } from '../functions/platform/tables.ts';

type Item = Record<string, AttributeValue>;

/** Units billed to one table: its own writes, and each index's. */
export interface TableUnits {
  write: number;
  read: number;
  readonly indexWrites: Record<string, number>;
  /** Write units (table and indexes) per kind of item: its `stage`, or its key's prefix. */
  readonly byKind: Record<string, number>;
}

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

/** A number's size as DynamoDB counts it: about one byte per two significant digits, plus one. */
function numberBytes(value: string): number {
  const digits = value.replace(/^-/, '').replace(/e.*$/i, '').replace('.', '').replace(/^0+/, '');
  return Math.ceil(Math.max(1, digits.replace(/0+$/, '').length) / 2) + 1;
}

function valueBytes(value: AttributeValue): number {
  if (value.S !== undefined) return bytes(value.S);
  if (value.N !== undefined) return numberBytes(value.N);
  if (value.B !== undefined) return value.B.byteLength;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS) return value.SS.reduce((sum, s) => sum + bytes(s), 0);
  if (value.NS) return value.NS.reduce((sum, n) => sum + numberBytes(n), 0);
  if (value.BS) return value.BS.reduce((sum, b) => sum + b.byteLength, 0);
  if (value.L) return 3 + value.L.reduce((sum, v) => sum + 1 + valueBytes(v), 0);
  if (value.M) return 3 + Object.keys(value.M).length + itemBytes(value.M);
  return 0;
}

/** An item's size as DynamoDB bills it: each attribute's name and value. */
export function itemBytes(item: Item): number {
  return Object.entries(item).reduce(
    (sum, [name, value]) => sum + bytes(name) + valueBytes(value),
    0,
  );
}

/** Write units of one item of `size` bytes: 1 KB each, rounded up, at least one. */
export const writeUnits = (size: number) => Math.max(1, Math.ceil(size / 1024));

/** The entry an item makes in an index, as its projection keeps it; undefined when it is not in it. */
export function indexEntry(
  item: Item | undefined,
  table: TableDefinition,
  index: TableIndex,
): Item | undefined {
  if (!item) return undefined;
  const keys = [index.partitionKey, ...(index.sortKey ? [index.sortKey] : [])];
  // A sparse index: only items that carry every key attribute of the index are in it.
  if (keys.some((k) => item[k] === undefined)) return undefined;
  const projection = index.projection ?? 'ALL';
  if (projection === 'ALL') return item;
  const kept = new Set([
    table.partitionKey,
    ...(table.sortKey ? [table.sortKey] : []),
    ...keys,
    ...(projection === 'KEYS_ONLY' ? [] : projection),
  ]);
  return Object.fromEntries(Object.entries(item).filter(([name]) => kept.has(name)));
}

const same = (a: Item | undefined, b: Item | undefined) =>
  JSON.stringify(sorted(a)) === JSON.stringify(sorted(b));
const sorted = (item: Item | undefined) =>
  item && Object.fromEntries(Object.entries(item).sort(([a], [b]) => a.localeCompare(b)));

/** What one write costs an index: the entries it puts and deletes. */
export function indexWriteUnits(
  before: Item | undefined,
  after: Item | undefined,
  table: TableDefinition,
  index: TableIndex,
): number {
  const old = indexEntry(before, table, index);
  const next = indexEntry(after, table, index);
  if (!old && !next) return 0;
  if (!old) return writeUnits(itemBytes(next as Item));
  if (!next) return writeUnits(itemBytes(old));
  const key = (entry: Item) =>
    JSON.stringify([entry[index.partitionKey], index.sortKey ? entry[index.sortKey] : null]);
  // A changed index key is a delete of the old entry and a put of the new one.
  if (key(old) !== key(next)) return writeUnits(itemBytes(old)) + writeUnits(itemBytes(next));
  return same(old, next) ? 0 : writeUnits(Math.max(itemBytes(old), itemBytes(next)));
}

const keyOf = (item: Item, table: TableDefinition): Item => ({
  [table.partitionKey]: item[table.partitionKey] as AttributeValue,
  ...(table.sortKey ? { [table.sortKey]: item[table.sortKey] as AttributeValue } : {}),
});

/**
 * Counts the request units of every call a DynamoDB client makes to the given tables (by name),
 * from the moment it is attached. `units` holds the running totals per table.
 */
export class CapacityMeter {
  readonly units: Record<string, TableUnits> = {};
  /**
   * Off, calls pass unmetered: the meter's own reads take time, which a run that times the
   * handlers must not count as theirs.
   */
  enabled = true;
  private readonly reader: DynamoDBClient;

  constructor(
    private readonly tables: Readonly<Record<string, TableDefinition>>,
    endpoint: string,
  ) {
    this.reader = new DynamoDBClient({
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'meter', secretAccessKey: 'meter' },
    });
    for (const name of Object.keys(tables))
      this.units[name] = { write: 0, read: 0, indexWrites: {}, byKind: {} };
  }

  /** Total write units so far (tables and indexes), for differences between two moments. */
  totalWrites(): number {
    return Object.values(this.units).reduce(
      (sum, t) => sum + t.write + Object.values(t.indexWrites).reduce((a, b) => a + b, 0),
      0,
    );
  }

  /** Write units so far per kind of item, each named with its table (`lineage-table: ENTITY`). */
  writesByKind(): Record<string, number> {
    const kinds: Record<string, number> = {};
    for (const [table, units] of Object.entries(this.units))
      for (const [kind, n] of Object.entries(units.byKind))
        kinds[`${table}: ${kind || 'item'}`] = n;
    return kinds;
  }

  totalReads(): number {
    return Object.values(this.units).reduce((sum, t) => sum + t.read, 0);
  }

  /** Counts what `client` sends from now on (the input as sent: after the document client's marshalling). */
  attach(client: DynamoDBClient): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as Record<string, unknown>;
        if (!this.enabled) return next(args);
        return this.metered(context.commandName ?? '', input, () => next(args));
      },
      { step: 'build', name: 'capacityMeter' },
    );
  }

  private async metered<T>(
    command: string,
    input: Record<string, unknown>,
    send: () => Promise<T>,
  ): Promise<T> {
    const tableName = input.TableName as string | undefined;
    switch (command) {
      case 'PutItemCommand':
      case 'UpdateItemCommand':
      case 'DeleteItemCommand': {
        const table = tableName && this.tables[tableName];
        if (!table || !tableName) return send();
        const key = (input.Key as Item | undefined) ?? keyOf(input.Item as Item, table);
        const before = await this.read(tableName, key);
        let result: T;
        try {
          result = await send();
        } catch (error) {
          // A failed condition is billed by the item it was checked against; nothing is written.
          if ((error as Error).name === 'ConditionalCheckFailedException') {
            const units = writeUnits(before ? itemBytes(before) : 0);
            this.addWrite(tableName, units);
            this.addKind(tableName, before ?? key, units, 'failed condition');
          }
          throw error;
        }
        const after =
          command === 'PutItemCommand'
            ? (input.Item as Item)
            : command === 'DeleteItemCommand'
              ? undefined
              : await this.read(tableName, key);
        this.addItemWrite(tableName, table, before, after);
        return result;
      }
      case 'BatchWriteItemCommand': {
        const requests = input.RequestItems as Record<string, WriteRequest[]>;
        const befores = await Promise.all(
          Object.entries(requests).flatMap(([name, list]) =>
            list.map(async (request) => {
              const table = this.tables[name];
              if (!table) return undefined;
              const key = request.PutRequest
                ? keyOf(request.PutRequest.Item as Item, table)
                : (request.DeleteRequest?.Key as Item);
              return { name, table, request, before: await this.read(name, key) };
            }),
          ),
        );
        const result = (await send()) as {
          output?: { UnprocessedItems?: Record<string, WriteRequest[]> };
        };
        const unprocessed = new Set(
          Object.values(result.output?.UnprocessedItems ?? {})
            .flat()
            .map((r) => JSON.stringify(r)),
        );
        for (const entry of befores) {
          if (!entry || unprocessed.has(JSON.stringify(entry.request))) continue;
          this.addItemWrite(
            entry.name,
            entry.table,
            entry.before,
            entry.request.PutRequest?.Item as Item | undefined,
          );
        }
        return result as T;
      }
      case 'GetItemCommand':
      case 'QueryCommand':
      case 'ScanCommand': {
        const result = (await send()) as { output?: { Item?: Item; Items?: Item[] } };
        if (tableName && this.units[tableName]) {
          const items = result.output?.Item ? [result.output.Item] : (result.output?.Items ?? []);
          const size = items.reduce((sum, item) => sum + itemBytes(item), 0);
          const units = Math.max(1, Math.ceil(size / 4096));
          (this.units[tableName] as TableUnits).read += input.ConsistentRead ? units : units / 2;
        }
        return result as T;
      }
      default:
        return send();
    }
  }

  private addWrite(tableName: string, units: number) {
    (this.units[tableName] as TableUnits).write += units;
  }

  private addItemWrite(
    tableName: string,
    table: TableDefinition,
    before: Item | undefined,
    after: Item | undefined,
  ) {
    const units = this.units[tableName] as TableUnits;
    let total = writeUnits(Math.max(before ? itemBytes(before) : 0, after ? itemBytes(after) : 0));
    units.write += total;
    for (const index of table.indexes) {
      const cost = indexWriteUnits(before, after, table, index);
      if (cost > 0) units.indexWrites[index.name] = (units.indexWrites[index.name] ?? 0) + cost;
      total += cost;
    }
    this.addKind(tableName, (after ?? before) as Item, total);
  }

  private addKind(tableName: string, item: Item, units: number, note?: string) {
    const stage = item.stage?.S;
    const partitionKey = this.tables[tableName]?.partitionKey ?? '';
    const prefix = item[partitionKey]?.S?.split('#')[0];
    const kind = [stage ?? prefix ?? 'item', note].filter(Boolean).join(', ');
    const byKind = (this.units[tableName] as TableUnits).byKind;
    byKind[kind] = (byKind[kind] ?? 0) + units;
  }

  private async read(tableName: string, key: Item): Promise<Item | undefined> {
    const result = await this.reader.send(
      new GetItemCommand({ TableName: tableName, Key: key, ConsistentRead: true }),
    );
    return result.Item;
  }
}
