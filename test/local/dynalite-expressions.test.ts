/**
 * The local DynamoDB remembers parsed expressions: the answers must be those of a fresh parse,
 * with each call's own values, names and errors.
 */
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ensureTable,
  type LocalDynamoDb,
  localDynamoDbClient,
  startLocalDynamoDb,
} from '../../local/dynamodb.ts';

const TABLE = 'expressions';
let dynamo: LocalDynamoDb;
let client: DynamoDBClient;

beforeAll(async () => {
  dynamo = await startLocalDynamoDb();
  client = localDynamoDbClient(dynamo.url);
  await ensureTable(client, TABLE, { partitionKey: 'pk', sortKey: 'sk', indexes: [] });
});
afterAll(() => dynamo?.stop());

const key = (pk: string, sk = 'x') => ({ pk: { S: pk }, sk: { S: sk } });
const errorOf = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: Error) => error,
  );

describe('remembered expressions', () => {
  it('evaluate each call with its own values', async () => {
    const put = (at: string, now: string) =>
      client.send(
        new PutItemCommand({
          TableName: TABLE,
          Item: { ...key('claim'), at: { S: at } },
          ConditionExpression: 'attribute_not_exists(pk) OR #at < :now',
          ExpressionAttributeNames: { '#at': 'at' },
          ExpressionAttributeValues: { ':now': { S: now } },
        }),
      );
    await put('2025-01-01', '2025-01-01');
    await put('2025-01-02', '2025-01-02');
    // The same expression again, with a value that makes the condition false.
    expect(await errorOf(put('2025-01-03', '2025-01-01'))).toBeInstanceOf(
      ConditionalCheckFailedException,
    );
    await put('2025-01-04', '2025-01-03');
    const { Item } = await client.send(new GetItemCommand({ TableName: TABLE, Key: key('claim') }));
    expect(Item?.at).toEqual({ S: '2025-01-04' });
  });

  it('write each call its own values in an update, with the names it gives', async () => {
    const update = (name: string, value: number) =>
      client.send(
        new UpdateItemCommand({
          TableName: TABLE,
          Key: key('counter'),
          UpdateExpression: 'SET #f = :v',
          ExpressionAttributeNames: { '#f': name },
          ExpressionAttributeValues: { ':v': { N: String(value) } },
        }),
      );
    await update('a', 1);
    await update('a', 2);
    await update('b', 3);
    const { Item } = await client.send(
      new GetItemCommand({ TableName: TABLE, Key: key('counter') }),
    );
    expect(Item).toMatchObject({ a: { N: '2' }, b: { N: '3' } });
  });

  it('still refuse an unused or undefined attribute value after a good call', async () => {
    const query = (values: Record<string, { S: string }>) =>
      client.send(
        new QueryCommand({
          TableName: TABLE,
          KeyConditionExpression: 'pk = :v',
          ExpressionAttributeValues: values,
        }),
      );
    expect((await query({ ':v': { S: 'claim' } })).Count).toBe(1);
    expect((await query({ ':v': { S: 'counter' } })).Count).toBe(1);
    expect((await errorOf(query({ ':v': { S: 'claim' }, ':w': { S: 'x' } })))?.message).toContain(
      'unused in expressions',
    );
    expect((await errorOf(query({ ':w': { S: 'claim' } })))?.message).toContain(
      'not defined; attribute value: :v',
    );
    expect((await query({ ':v': { S: 'claim' } })).Count).toBe(1);
  });

  it("check each call's value types, and BETWEEN bounds, as a fresh parse would", async () => {
    const sized = (value: { S: string } | { N: string }) =>
      client.send(
        new QueryCommand({
          TableName: TABLE,
          KeyConditionExpression: 'pk = :k',
          FilterExpression: 'size(:s) > :zero',
          ExpressionAttributeValues: { ':k': { S: 'claim' }, ':s': value, ':zero': { N: '0' } },
        }),
      );
    expect((await sized({ S: 'abc' })).Count).toBe(1);
    expect((await errorOf(sized({ N: '3' })))?.message).toContain('Incorrect operand type');
    const between = (low: string, high: string) =>
      client.send(
        new QueryCommand({
          TableName: TABLE,
          KeyConditionExpression: 'pk = :k AND sk BETWEEN :low AND :high',
          ExpressionAttributeValues: {
            ':k': { S: 'claim' },
            ':low': { S: low },
            ':high': { S: high },
          },
        }),
      );
    expect((await between('a', 'z')).Count).toBe(1);
    expect((await errorOf(between('z', 'a')))?.message).toContain(
      'upper bound to be greater than or equal to lower bound',
    );
  });
});
