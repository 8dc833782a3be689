/** `spine lineage event | record | correlation`: an event's trail, as a timeline or JSON. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Command } from 'commander';
import type { LineageEntry } from '../../functions/lineage/model.ts';
import { lineageTableName } from '../../functions/platform/names.ts';
import { printError, printLine } from './output.ts';

interface LineageOptions {
  json?: boolean;
  stage?: string;
  endpoint?: string;
  table?: string;
}

/** The DynamoDB endpoint of the running `spine local`, from its health answer. */
async function localEndpoint(): Promise<string> {
  const gateway = process.env.SPINE_GATEWAY_URL ?? `http://127.0.0.1:${process.env.PORT ?? 3000}`;
  try {
    const health = (await (await fetch(`${gateway}/_spine/health`)).json()) as {
      dynamodb?: string;
    };
    if (health.dynamodb) return health.dynamodb;
  } catch {
    // not running
  }
  throw new Error(
    `no local Spine answers at ${gateway}; start it with \`npm start\`, or pass --stage <env> for AWS, or --endpoint <dynamodb url>`,
  );
}

export function formatTimeline(entries: readonly LineageEntry[]): string[] {
  if (entries.length === 0) return ['no lineage found'];
  return entries.map((e) => {
    const record = e.model
      ? ` ${e.model}${e.recordId !== undefined ? ` ${e.recordId}` : ''}${e.externalId ? ` (${e.externalId})` : ''}`
      : '';
    const what = e.outcome ? ` ${e.outcome}` : '';
    const error = e.error
      ? ` — ${e.error.code}: ${e.error.message}${e.error.retryable ? ' (retried)' : ''}`
      : '';
    const detail = e.detail ? ` — ${e.detail}` : '';
    return `${e.at}  ${e.stage.padEnd(13)} ${e.source}/${e.eventId}  ${e.eventType ?? ''} ${e.contract ?? ''}${record}${what}${error}${detail}`.replace(
      /\s+$/,
      '',
    );
  });
}

export function registerLineageCommand(program: Command): void {
  const lineage = program
    .command('lineage')
    .description('show the trail of events: by event, by Odoo record, or by correlation id')
    .option('--json', 'print the entries as JSON')
    .option(
      '--stage <name>',
      'read the lineage table of a deployed environment (AWS credentials from the environment)',
    )
    .option('--endpoint <url>', 'DynamoDB endpoint (default: the running spine local)')
    .option('--table <name>', 'lineage table name (default: spine-<stage>-lineage)')
    .addHelpText(
      'after',
      `
Examples:
  spine lineage event stripe evt_1QkZ7sLkdIwHu7ix4n5nGBQX
  spine lineage record res.partner 6
  spine lineage correlation 3d44b5f6-723f-4314-a91a-bf13a653cb11 --json`,
    );

  const run = async (
    command: Command,
    what: string,
    query: (
      store: import('../../functions/lineage/dynamodb-store.ts').DynamoDbLineageStore,
    ) => Promise<LineageEntry[]>,
  ) => {
    const options = command.optsWithGlobals<LineageOptions>();
    const stage = options.stage ?? 'local';
    const endpoint = options.endpoint ?? (options.stage ? undefined : await localEndpoint());
    const client = new DynamoDBClient(
      endpoint
        ? {
            endpoint,
            region: 'us-east-1',
            credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
          }
        : {},
    );
    const { DynamoDbLineageStore } = await import('../../functions/lineage/dynamodb-store.ts');
    const table = options.table ?? lineageTableName(stage);
    const entries = await query(new DynamoDbLineageStore(client, table));
    if (entries.length === 0) {
      // Nothing found is an answer a script must be able to tell from a trail: exit 1.
      printError(
        `spine: no lineage for ${what} in ${table}${endpoint ? ` at ${endpoint}` : ''}; check the id, the stage (--stage) and that the event reached Spine`,
      );
      if (options.json) printLine('[]');
      process.exitCode = 1;
      return;
    }
    if (options.json) printLine(JSON.stringify(entries, null, 2));
    else for (const line of formatTimeline(entries)) printLine(line);
  };

  lineage
    .command('event <source> <eventId>')
    .description("every stage of one vendor event, e.g. 'stripe evt_123'")
    .action((source: string, eventId: string, _: unknown, command: Command) =>
      run(command, `event ${source} ${eventId}`, (store) => store.byEvent(source, eventId)),
    );
  lineage
    .command('record <model> <id>')
    .description("every event that touched one Odoo record, e.g. 'res.partner 6'")
    .action((model: string, id: string, _: unknown, command: Command) => {
      if (!/^\d+$/.test(id)) throw new Error(`"${id}" is not an Odoo record id (a number)`);
      return run(command, `record ${model} ${id}`, (store) => store.byRecord(model, Number(id)));
    });
  lineage
    .command('correlation <id>')
    .description('every event of one webhook delivery (its correlation id)')
    .action((id: string, _: unknown, command: Command) =>
      run(command, `correlation id ${id}`, (store) => store.byCorrelation(id)),
    );
}
