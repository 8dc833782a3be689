/**
 * DynamoDB for the local runtime: dynalite (a DynamoDB-compatible server on LevelDB) with its
 * data under .spine/, and the project's tables created at start from the shared definitions.
 */
import { mkdirSync } from 'node:fs';
import {
  CreateTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import type { TableDefinition } from '../functions/platform/tables.ts';
import { rememberDynaliteParses } from './dynalite-expressions.ts';
import { close, listen } from './listen.ts';

export interface LocalDynamoDb {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

export async function startLocalDynamoDb(
  options: { port?: number; host?: string; dataDir?: string } = {},
): Promise<LocalDynamoDb> {
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  rememberDynaliteParses();
  const server = dynalite({
    path: options.dataDir,
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  const port = await listen(server, options.port ?? 0, options.host ?? '127.0.0.1');
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    stop: () => close(server),
  };
}

/** Creates a table (and its indexes and TTL) unless it exists. */
export async function ensureTable(
  client: DynamoDBClient,
  name: string,
  table: TableDefinition,
): Promise<void> {
  const keys = [
    ...new Set(
      [
        table.partitionKey,
        table.sortKey,
        ...table.indexes.flatMap((i) => [i.partitionKey, i.sortKey]),
      ].filter((k): k is string => Boolean(k)),
    ),
  ];
  try {
    await client.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: keys.map((k) => ({ AttributeName: k, AttributeType: 'S' })),
        KeySchema: [
          { AttributeName: table.partitionKey, KeyType: 'HASH' },
          ...(table.sortKey ? [{ AttributeName: table.sortKey, KeyType: 'RANGE' as const }] : []),
        ],
        ...(table.indexes.length > 0
          ? {
              GlobalSecondaryIndexes: table.indexes.map((index) => ({
                IndexName: index.name,
                KeySchema: [
                  { AttributeName: index.partitionKey, KeyType: 'HASH' },
                  ...(index.sortKey
                    ? [{ AttributeName: index.sortKey, KeyType: 'RANGE' as const }]
                    : []),
                ],
                Projection:
                  index.projection === undefined || index.projection === 'KEYS_ONLY'
                    ? { ProjectionType: index.projection ?? 'ALL' }
                    : { ProjectionType: 'INCLUDE', NonKeyAttributes: [...index.projection] },
              })),
            }
          : {}),
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
    return;
  }
  if (table.timeToLiveAttribute) {
    try {
      await client.send(
        new UpdateTimeToLiveCommand({
          TableName: name,
          TimeToLiveSpecification: { AttributeName: table.timeToLiveAttribute, Enabled: true },
        }),
      );
    } catch {
      // dynalite does not expire items; Powertools checks `expiration` itself, so nothing is lost.
    }
  }
}

export function localDynamoDbClient(url: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}
