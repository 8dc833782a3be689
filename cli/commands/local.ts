/** `spine local` (what `npm start` runs): the whole path on this machine, until Ctrl-C. */

import type { SQSRecord } from 'aws-lambda';
import type { Command } from 'commander';
import type { BatchOutcome } from '../../local/event-source.ts';
import type { LocalRuntime, RuntimeLogLine } from '../../local/runtime.ts';
import type { RotationFailure } from '../../local/secrets-manager.ts';
import { printLine } from './output.ts';

interface LocalOptions {
  port?: string;
  data?: string;
  odooVersion?: string;
  bareOdoo?: boolean;
  verbose?: boolean;
  json?: boolean;
  workerTimeout?: string;
  visibilityTimeout?: string;
  maxReceiveCount?: string;
  odooRequestLimit?: string;
  timeScale?: string;
}

/** Receives before a flow's message goes to its DLQ, unless --max-receive-count says otherwise. */
const MAX_RECEIVE_COUNT = 5;

/** What `spine local` prints: the runtime's lines and the local Secrets Manager's rotation failures. */
export type LocalLogLine = RuntimeLogLine | { kind: 'rotation-failed'; failure: RotationFailure };

const clock = (at: Date) => at.toISOString().slice(11, 19);
const pad = (text: string, width: number) => text.padEnd(width);

/** The id a person knows an event by: the envelope's, or the message id when it is not one. */
function eventIdOf(record: SQSRecord): string {
  try {
    return (JSON.parse(record.body) as { id?: string }).id ?? record.messageId;
  } catch {
    return record.messageId;
  }
}

/** The receiver's answer, as far as the log lines need it. */
function requestSummary(body: string | undefined) {
  try {
    const answer = JSON.parse(body ?? '{}') as {
      accepted?: string[];
      quarantined?: { id: string }[];
      ignored?: string[];
      error?: string;
      detail?: string;
    };
    return answer && typeof answer === 'object' ? answer : {};
  } catch {
    return {};
  }
}

/** A request is logged once answered; it arrived `ms` earlier, before what it queued. */
const arrival = (line: LocalLogLine, at: Date) =>
  line.kind === 'request' ? new Date(at.getTime() - line.request.ms) : at;

function describeBatch(
  flow: string,
  outcome: BatchOutcome,
  at: Date,
  maxReceiveCount: number,
): string[] {
  const failed = new Set(outcome.failed);
  const because = outcome.error ? `: ${outcome.error.message}` : '';
  const timedOut = outcome.timedOut
    ? [
        `${clock(at)} ${pad('timeout', 9)} ${pad(flow, 10)} ${outcome.functionName} ${outcome.timedOut.stopped ? 'stopped at' : 'ran past, and could not be stopped at,'} its ${outcome.timedOut.timeoutSeconds} s timeout with a batch of ${outcome.records.length}; the batch returns to the queue after the visibility timeout`,
      ]
    : [];
  const lines = outcome.records.map((record) => {
    const id = eventIdOf(record);
    if (!failed.has(record.messageId))
      return `${clock(at)} ${pad('processed', 9)} ${pad(flow, 10)} ${id} (${Math.round(outcome.ms)} ms for ${outcome.records.length})`;
    const receives = Number(record.attributes.ApproximateReceiveCount);
    // SQS moves it on the receive after this one, once the visibility timeout has passed.
    const next =
      receives >= maxReceiveCount
        ? `the last of ${maxReceiveCount}${because}; dead-lettered to the ${flow} DLQ after the visibility timeout`
        : `${receives} of ${maxReceiveCount}${because}; retried after the visibility timeout`;
    return `${clock(at)} ${pad('failed', 9)} ${pad(flow, 10)} ${id} (receive ${next})`;
  });
  return [...timedOut, ...lines];
}

export function formatLogLine(
  line: LocalLogLine,
  at: Date = new Date(),
  maxReceiveCount = MAX_RECEIVE_COUNT,
): string[] {
  switch (line.kind) {
    case 'request': {
      const r = line.request;
      const answer = requestSummary(r.body);
      const detail = [
        answer.accepted?.length ? `accepted ${answer.accepted.join(', ')}` : '',
        answer.quarantined?.length
          ? `quarantined ${answer.quarantined.map((q) => q.id).join(', ')}`
          : '',
        answer.ignored?.length ? `ignored ${answer.ignored.join(', ')}` : '',
        answer.error ? `${answer.error}: ${answer.detail ?? ''}` : '',
      ]
        .filter(Boolean)
        .join('; ');
      return [
        `${clock(arrival(line, at))} ${pad('received', 9)} ${pad(r.path, 10)} ${r.status} in ${Math.round(r.ms)} ms${detail ? ` — ${detail}` : ''}`,
      ];
    }
    case 'queued':
      return [
        `${clock(at)} ${pad('queued', 9)} ${pad(line.flow, 10)} ${line.event?.id ?? line.messageId}${line.event?.type ? ` ${line.event.type}` : ''}${line.event?.group ? ` (group ${line.event.group})` : ''}`,
      ];
    case 'batch':
      return describeBatch(line.flow, line.outcome, at, maxReceiveCount);
    case 'dead-lettered':
      return [
        `${clock(at)} ${pad('dead', 9)} ${pad(line.flow, 10)} ${line.event?.id ?? line.messageId} is in the ${line.flow} DLQ — see \`spine lineage event\`, replay with \`spine replay --flow ${line.flow}\``,
      ];
    case 'rotation-failed': {
      const f = line.failure;
      return [
        `${clock(at)} ${pad('rotation', 9)} ${pad(f.secretName, 10)} failed${f.step ? ` at ${f.step}` : ''}: ${f.error} — AWSCURRENT is unchanged; version ${f.versionId} stays AWSPENDING and the next RotateSecret retries it`,
      ];
    }
    case 'reference-data':
      return [
        `${clock(at)} ${pad('odoo', 9)} ${pad('reference', 10)} set up as a configured company: ${line.created.join(', ')} (spine local --bare-odoo starts without)`,
      ];
    case 'ready':
      return [];
  }
}

/** One JSON object for --json: the line itself with its time, a batch named by its events. */
export function jsonLogLine(line: LocalLogLine, at: Date = new Date()): Record<string, unknown> {
  const timestamp = arrival(line, at).toISOString();
  if (line.kind === 'ready') return { timestamp, kind: 'ready', ...line.runtime.health() };
  if (line.kind !== 'batch') return { timestamp, ...line };
  const failed = new Set(line.outcome.failed);
  return {
    timestamp,
    kind: 'batch',
    flow: line.flow,
    ms: Math.round(line.outcome.ms),
    events: line.outcome.records.map(eventIdOf),
    failed: line.outcome.records.filter((r) => failed.has(r.messageId)).map(eventIdOf),
    ...(line.outcome.error ? { error: line.outcome.error.message } : {}),
    ...(line.outcome.timedOut ? { timedOut: line.outcome.timedOut } : {}),
  };
}

/**
 * Prints lines in the order things happened. The receiver queues an event (or quarantines it
 * in the DLQ) before the gateway can log the request that brought it, so those lines wait for
 * that request's line; for the event's next line (the worker may be quicker); or for `waitMs`,
 * since a replay queues with no request at all.
 */
export function inEventOrder(
  print: (line: LocalLogLine, at: Date) => void,
  waitMs = 500,
): { push(line: LocalLogLine, at?: Date): void; flush(): void } {
  const held = new Map<string, { lines: [LocalLogLine, Date][]; timer: NodeJS.Timeout }>();
  const release = (id: string) => {
    const entry = held.get(id);
    if (!entry) return;
    held.delete(id);
    clearTimeout(entry.timer);
    for (const [line, at] of entry.lines) print(line, at);
  };
  return {
    push(line, at = new Date()) {
      if (line.kind === 'queued' || line.kind === 'dead-lettered') {
        const id = line.event?.id ?? line.messageId;
        const entry = held.get(id) ?? {
          lines: [],
          timer: setTimeout(() => release(id), waitMs).unref(),
        };
        entry.lines.push([line, at]);
        held.set(id, entry);
      } else if (line.kind === 'request') {
        print(line, at);
        const answer = requestSummary(line.request.body);
        for (const id of [
          ...(answer.accepted ?? []),
          ...(answer.quarantined ?? []).map((q) => q.id),
        ])
          release(id);
      } else {
        if (line.kind === 'batch')
          for (const record of line.outcome.records) release(eventIdOf(record));
        print(line, at);
      }
    },
    flush() {
      for (const id of [...held.keys()]) release(id);
    },
  };
}

/** Ports come from flags and environment variables; a typo is refused before anything starts. */
export function readPort(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const port = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!(port <= 65_535))
    throw new Error(`${name} must be a whole number from 0 to 65535, got "${value}"`);
  return port;
}

export function describeRuntime(runtime: LocalRuntime): string[] {
  const rows: [string, string][] = [
    ['gateway', `${runtime.gatewayUrl}  (POST /webhooks/{source}, GET /_spine/health)`],
    ['sqs', runtime.sqsUrl],
    ['dynamodb', runtime.dynamoDbUrl],
    ['secretsmanager', runtime.secretsManagerUrl],
    [
      'odoo',
      `${runtime.odoo.url}  db ${runtime.odoo.database}, login ${runtime.odoo.login}${runtime.odoo.emulated ? `, emulated Odoo ${runtime.odoo.version}` : ''}`,
    ],
    [
      'vendor APIs',
      `HubSpot ${runtime.vendorApis.hubspot.url}, Stripe ${runtime.vendorApis.stripe.url} (emulated, for enriching thin events; tokens in spine/local/sources/*)`,
    ],
    [
      'workers',
      `timeout ${runtime.clock.workerTimeoutSeconds} s, visibility timeout ${runtime.clock.visibilityTimeoutSeconds} s, DLQ after ${runtime.clock.maxReceiveCount} receives, Odoo request limit ${runtime.clock.odooRequestLimitSeconds} s`,
    ],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return [
    'Spine is running locally.',
    '',
    ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`),
    '',
    '  flows:',
    ...runtime.flows.map(
      (f) => `    ${f.name.padEnd(10)} ${f.fifo ? 'FIFO    ' : 'standard'} ${f.queueUrl}`,
    ),
    '',
    '  webhook signing secrets (stored in the local Secrets Manager and .spine/):',
    ...Object.entries(runtime.webhookSecrets).map(
      ([source, secret]) =>
        `    ${source.padEnd(10)} ${runtime.gatewayUrl}/webhooks/${source}  secret ${secret}`,
    ),
    '',
    'Send signed samples from every vendor with `npm run demo`. Ctrl-C stops.',
    '',
  ];
}

export function registerLocalCommand(program: Command): void {
  program
    .command('local')
    .description(
      'run the whole path on this machine: gateway, SQS, DynamoDB, Secrets Manager, Odoo emulator and the handlers',
    )
    .option('--port <port>', 'gateway port (default: $PORT or 3000)')
    .option('--data <dir>', 'state folder (default: .spine)')
    .option(
      '--odoo-version <version>',
      'version of the emulated Odoo: 16, 17, 18 or 19 (default 18)',
    )
    .option(
      '--bare-odoo',
      'start the emulated Odoo as a fresh database, without the taxes, journals, pricelists and service products the crosswalks name (`spine reference check` then lists them)',
    )
    .option('--verbose', "also print the handlers' JSON logs and metrics")
    .option('--json', 'print one JSON object per log line')
    .option(
      '--worker-timeout <seconds>',
      "the workers' Lambda timeout: an invocation still running then is stopped and its batch retried (default 30)",
    )
    .option(
      '--visibility-timeout <seconds>',
      'how long a received message stays hidden before it is delivered again; at least the worker timeout, as AWS requires (default 30)',
    )
    .option(
      '--max-receive-count <n>',
      'receives of a message before its flow queue moves it to the DLQ (the redrive limit; default 5)',
    )
    .option(
      '--odoo-request-limit <seconds>',
      "Odoo's limit_time_real: the emulator kills a request running longer, and a worker's claim on a record outlives its timeout by this much, so a write sent before a timeout lands before anyone else writes that record (default 60)",
    )
    .option(
      '--time-scale <n>',
      "run the queues' timers n times faster than real time (visibility, delays, retention), for an outage drill: at 360, the retries that carry events through a two-hour Odoo outage take 20 s (default 1)",
    )
    .addHelpText(
      'after',
      `
Environment: PORT (gateway), SPINE_SQS_PORT (9324), SPINE_DYNAMODB_PORT (8000),
SPINE_SECRETS_MANAGER_PORT (9326), SPINE_ODOO_PORT (8069); set ODOO_URL, ODOO_DB, ODOO_LOGIN and
ODOO_PASSWORD or ODOO_API_KEY to use a real Odoo instead of the emulator.
State (queues, tables, secrets, the emulated Odoo) lives in .spine/ and survives a restart.

Compress the clock for an outage drill or a chaos run: with
  spine local --worker-timeout 2 --visibility-timeout 3 --max-receive-count 3
a worker stalled on Odoo is stopped after 2 s, its batch is retried after 3 s, then 6, 12, ...
(the wait doubles with each receive, up to 30 times the visibility timeout), and an event that
keeps failing reaches the DLQ within a minute or two rather than an hour.`,
    )
    .action(async (options: LocalOptions) => {
      const ports = {
        port: readPort(
          options.port ?? process.env.PORT,
          options.port !== undefined ? '--port' : 'PORT',
          3000,
        ),
        sqsPort: readPort(process.env.SPINE_SQS_PORT, 'SPINE_SQS_PORT', 9324),
        dynamoDbPort: readPort(process.env.SPINE_DYNAMODB_PORT, 'SPINE_DYNAMODB_PORT', 8000),
        secretsManagerPort: readPort(
          process.env.SPINE_SECRETS_MANAGER_PORT,
          'SPINE_SECRETS_MANAGER_PORT',
          9326,
        ),
        odooPort: readPort(process.env.SPINE_ODOO_PORT, 'SPINE_ODOO_PORT', 8069),
        hubspotPort: readPort(process.env.SPINE_HUBSPOT_PORT, 'SPINE_HUBSPOT_PORT', 4010),
        stripePort: readPort(process.env.SPINE_STRIPE_PORT, 'SPINE_STRIPE_PORT', 12111),
      };
      const [{ startLocalRuntime, workerClock }, { handlerModule }, { loadContractRegistry }] =
        await Promise.all([
          import('../../local/runtime.ts'),
          import('../../local/execution-environment.ts'),
          import('../../functions/contracts/index.ts'),
        ]);
      const timing = workerClock(
        {
          workerTimeoutSeconds: options.workerTimeout,
          visibilityTimeoutSeconds: options.visibilityTimeout,
          maxReceiveCount: options.maxReceiveCount,
          odooRequestLimitSeconds: options.odooRequestLimit,
          timeScale: options.timeScale,
        },
        {
          workerTimeoutSeconds: '--worker-timeout',
          visibilityTimeoutSeconds: '--visibility-timeout',
          maxReceiveCount: '--max-receive-count',
          odooRequestLimitSeconds: '--odoo-request-limit',
          timeScale: '--time-scale',
        },
      );
      if (!options.verbose) {
        // The runtime prints a readable line per stage; the handlers' JSON is for --verbose.
        process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
        process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
      }
      const registry = loadContractRegistry();
      const sources = [
        ...new Map(
          registry.contracts.map((c) => [
            c.source.system,
            { system: c.source.system, signature: c.source.signature },
          ]),
        ).values(),
      ];
      const odooUrl = process.env.ODOO_URL;
      const output = inEventOrder((line, at) => {
        if (options.json) printLine(JSON.stringify(jsonLogLine(line, at)));
        else for (const text of formatLogLine(line, at, timing.maxReceiveCount)) printLine(text);
      });
      const runtime = await startLocalRuntime({
        dataDir: options.data,
        ...ports,
        ...timing,
        ...(odooUrl
          ? {
              odoo: {
                url: odooUrl,
                database: process.env.ODOO_DB ?? '',
                login: process.env.ODOO_LOGIN ?? '',
                password: process.env.ODOO_PASSWORD,
                apiKey: process.env.ODOO_API_KEY,
              },
            }
          : {}),
        ...(options.odooVersion
          ? { odooVersion: Number(options.odooVersion) as 16 | 17 | 18 | 19 }
          : {}),
        ...(options.bareOdoo ? {} : { referenceData: registry.reference }),
        flows: registry.flows,
        sources,
        handlers: async () => {
          const [receiver, rotation] = await Promise.all([
            import('../../functions/handlers/receiver.ts'),
            import('../../functions/handlers/rotate-credentials.ts'),
          ]);
          return {
            receiver: receiver.handler as never,
            // In environments of its own, so that a worker past its timeout is stopped as in Lambda.
            worker: handlerModule(new URL('../../functions/handlers/worker.ts', import.meta.url)),
            rotation: rotation.handler,
          };
        },
        log: (line) => {
          if (line.kind !== 'ready') output.push(line);
        },
      });
      runtime.secretsManager.events.on('rotation-failed', (failure: RotationFailure) =>
        output.push({ kind: 'rotation-failed', failure }),
      );
      if (options.json) printLine(JSON.stringify(jsonLogLine({ kind: 'ready', runtime })));
      else for (const text of describeRuntime(runtime)) printLine(text);
      let stopping = false;
      const stop = async () => {
        if (stopping) return;
        stopping = true;
        output.flush();
        printLine('stopping…');
        await runtime.stop();
        printLine('stopped; state kept in .spine/');
        process.exit(0);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
}
