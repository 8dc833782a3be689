/** The meter the cost bench counts DynamoDB with: write units as AWS bills them, from real items. */
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CapacityMeter, itemBytes } from '../../bench/capacity-meter.ts';
import type { TableDefinition } from '../../functions/platform/tables.ts';
import {
  ensureTable,
  type LocalDynamoDb,
  localDynamoDbClient,
  startLocalDynamoDb,
} from '../../local/dynamodb.ts';

const TABLE = 'meter-test';
const DEFINITION: TableDefinition = {
  partitionKey: 'pk',
  sortKey: 'sk',
  indexes: [
    { name: 'byKey', partitionKey: 'key', sortKey: 'at', projection: 'KEYS_ONLY' },
    { name: 'byAll', partitionKey: 'all', sortKey: 'at' },
  ],
};
let dynamo: LocalDynamoDb;
let meter: CapacityMeter;
const client = () => {
  const c = localDynamoDbClient(dynamo.url);
  meter.attach(c);
  return c;
};

beforeAll(async () => {
  dynamo = await startLocalDynamoDb();
  await ensureTable(localDynamoDbClient(dynamo.url), TABLE, DEFINITION);
  meter = new CapacityMeter({ [TABLE]: DEFINITION }, dynamo.url);
});
afterAll(() => dynamo?.stop());

const units = () => ({
  table: meter.units[TABLE]?.write ?? 0,
  byKey: meter.units[TABLE]?.indexWrites.byKey ?? 0,
  byAll: meter.units[TABLE]?.indexWrites.byAll ?? 0,
});
const delta = async (act: () => Promise<unknown>) => {
  const before = units();
  await act();
  const after = units();
  return {
    table: after.table - before.table,
    byKey: after.byKey - before.byKey,
    byAll: after.byAll - before.byAll,
  };
};

describe('the capacity meter', () => {
  it('sizes an item by its attribute names and values', () => {
    expect(itemBytes({ pk: { S: 'abc' }, n: { N: '12345' }, ok: { BOOL: true } })).toBe(
      2 + 3 + (1 + 4) + (2 + 1),
    );
  });

  it('bills a put by 1 KB units, and one index write per index the item enters', async () => {
    const c = client();
    const big = 'x'.repeat(1500);
    expect(
      await delta(() =>
        c.send(
          new PutItemCommand({
            TableName: TABLE,
            Item: {
              pk: { S: 'a' },
              sk: { S: '1' },
              key: { S: 'k' },
              at: { S: 't' },
              big: { S: big },
            },
          }),
        ),
      ),
    ).toEqual({ table: 2, byKey: 1, byAll: 0 });
    // In an index that keeps the whole item, the entry costs what the item costs.
    expect(
      await delta(() =>
        c.send(
          new PutItemCommand({
            TableName: TABLE,
            Item: {
              pk: { S: 'b' },
              sk: { S: '1' },
              all: { S: 'k' },
              at: { S: 't' },
              big: { S: big },
            },
          }),
        ),
      ),
    ).toEqual({ table: 2, byKey: 0, byAll: 2 });
  });

  it('bills an update nothing in a keys-only index unless its key changes, then a delete and a put', async () => {
    const c = client();
    const update = (expression: string, values: Record<string, { S: string }>) =>
      c.send(
        new UpdateItemCommand({
          TableName: TABLE,
          Key: { pk: { S: 'a' }, sk: { S: '1' } },
          UpdateExpression: expression,
          ExpressionAttributeValues: values,
        }),
      );
    expect(await delta(() => update('SET note = :v', { ':v': { S: 'n' } }))).toEqual({
      table: 2,
      byKey: 0,
      byAll: 0,
    });
    const rekey = () =>
      c.send(
        new UpdateItemCommand({
          TableName: TABLE,
          Key: { pk: { S: 'a' }, sk: { S: '1' } },
          UpdateExpression: 'SET #k = :v',
          ExpressionAttributeNames: { '#k': 'key' },
          ExpressionAttributeValues: { ':v': { S: 'k2' } },
        }),
      );
    expect(await delta(rekey)).toEqual({ table: 2, byKey: 2, byAll: 0 });
  });

  it('bills a failed condition by the item it was checked against, and a delete by the item gone', async () => {
    const c = client();
    const failed = await delta(() =>
      c
        .send(
          new PutItemCommand({
            TableName: TABLE,
            Item: { pk: { S: 'a' }, sk: { S: '1' } },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        )
        .catch((error: unknown) => {
          expect(error).toBeInstanceOf(ConditionalCheckFailedException);
        }),
    );
    expect(failed).toEqual({ table: 2, byKey: 0, byAll: 0 });
    expect(
      await delta(() =>
        c.send(
          new DeleteItemCommand({ TableName: TABLE, Key: { pk: { S: 'a' }, sk: { S: '1' } } }),
        ),
      ),
    ).toEqual({ table: 2, byKey: 1, byAll: 0 });
  });
});
