/**
 * The embedded runtime: the whole path of an event on one machine, with no AWS account and no
 * Docker. It starts the local SQS, Secrets Manager, DynamoDB (dynalite) and Odoo (or uses
 * ODOO_URL), creates the queues, tables and secrets Spine expects, points the AWS SDK at them,
 * and runs the same handler code Lambda runs behind a local API Gateway and one SQS poller per
 * flow. It holds no handler logic of its own.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { CreateQueueCommand, SetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { CompiledCrosswalk, CompiledFlow } from '../functions/contracts/model.ts';
import {
  deadLetterQueueName,
  flowQueueName,
  idempotencyTableName,
  lineageTableName,
  odooSecretName,
  parkingQueueName,
  redactionKeySecretName,
  sourceCredentialName,
  webhookSecretName,
} from '../functions/platform/names.ts';
import { IDEMPOTENCY_TABLE, LINEAGE_TABLE } from '../functions/platform/tables.ts';
import type { OdooCredential } from '../functions/rotation/rotate.ts';
import type { RedeliveryPolicy } from '../functions/sync/redelivery.ts';
import {
  ensureTable,
  type LocalDynamoDb,
  localDynamoDbClient,
  startLocalDynamoDb,
} from './dynamodb.ts';
import {
  type BatchOutcome,
  type RunningEventSource,
  type SqsHandler,
  startEventSource,
} from './event-source.ts';
import type { HandlerModule } from './execution-environment.ts';
import {
  type GatewayRequestLog,
  type HttpHandler,
  type LocalGateway,
  startGateway,
} from './gateway.ts';
import { type OdooEmulator, startOdooEmulator } from './odoo/server.ts';
import {
  type LocalSecretsManager,
  type RotationHandler,
  startLocalSecretsManager,
} from './secrets-manager.ts';
import { type LocalSqs, startLocalSqs } from './sqs/server.ts';
import { queueArn } from './sqs/store.ts';
import { type HubSpotEmulator, startHubSpotEmulator } from './vendors/hubspot.ts';
import { type StripeEmulator, startStripeEmulator } from './vendors/stripe.ts';

export const STAGE = 'local';

export interface LocalHandlers {
  readonly receiver: HttpHandler;
  /**
   * The worker of one flow (the same code for every flow, configured by environment). Named by
   * its module (`handlerModule(url)`), it runs in execution environments that are stopped at
   * the worker's timeout, as in Lambda; a function runs in this process and cannot be stopped.
   */
  readonly worker: SqsHandler | HandlerModule;
  readonly rotation?: RotationHandler;
}

export interface FlowEndpoints {
  readonly name: string;
  readonly fifo: boolean;
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly parkingQueueUrl: string;
}

export interface LocalRuntimeOptions {
  /** State folder. @default .spine */
  readonly dataDir?: string;
  /** Gateway port. @default 3000 (PORT) */
  readonly port?: number;
  readonly sqsPort?: number;
  readonly dynamoDbPort?: number;
  readonly secretsManagerPort?: number;
  readonly odooPort?: number;
  /** Use this Odoo instead of the emulator. */
  readonly odoo?: {
    readonly url: string;
    readonly database: string;
    readonly login: string;
    readonly password?: string;
    readonly apiKey?: string;
  };
  readonly odooVersion?: 16 | 17 | 18 | 19;
  /** Ports of the vendor API emulators enrichment reads from (HubSpot CRM, Stripe). @default free ports */
  readonly hubspotPort?: number;
  readonly stripePort?: number;
  /**
   * The records the crosswalks name (taxes, journals, pricelists, service products), made in
   * the emulated Odoo as a configured company holds them; omitted, it stays a fresh database.
   */
  readonly referenceData?: Readonly<Record<string, CompiledCrosswalk>>;
  readonly flows: readonly CompiledFlow[];
  /** Sources whose webhooks the gateway accepts, and their signature schemes (a secret is generated for each). */
  readonly sources: readonly { readonly system: string; readonly signature: string }[];
  /** Loaded after the environment points at the local endpoints, so SDK clients pick them up. */
  readonly handlers: () => Promise<LocalHandlers>;
  /** Receives before a message goes to the DLQ (the redrive policy's maxReceiveCount). @default 5 */
  readonly maxReceiveCount?: number;
  /** The worker's timeout; an invocation that reaches it is stopped. @default 30 */
  readonly workerTimeoutSeconds?: number;
  /** The flow queues' visibility timeout, at least the worker's timeout. @default 30 */
  readonly visibilityTimeoutSeconds?: number;
  /** Odoo's limit_time_real, for the emulator and the workers' claims. @default 60 */
  readonly odooRequestLimitSeconds?: number;
  /** How many times faster than real time the queues' timers run (an outage drill). @default 1 */
  readonly timeScale?: number;
  /**
   * How long the worker hides a retried event, by receive count, in queue seconds.
   * @default the visibility timeout, doubling up to 30 times it
   */
  readonly redelivery?: RedeliveryPolicy;
  /** Worker batch size and window, as the event source mapping has them. */
  readonly batchSize?: number;
  readonly batchingWindowSeconds?: number;
  readonly maximumConcurrency?: number;
  /** Start the SQS pollers that feed the worker. @default true (benchmarks drive the worker themselves) */
  readonly pollers?: boolean;
  readonly log?: (line: RuntimeLogLine) => void;
}

export type RuntimeLogLine =
  | { kind: 'request'; request: GatewayRequestLog }
  | {
      kind: 'queued';
      flow: string;
      messageId: string;
      event?: { id?: string; type?: string; contract?: string; group?: string };
    }
  | { kind: 'batch'; flow: string; outcome: BatchOutcome }
  | {
      kind: 'dead-lettered';
      flow: string;
      messageId: string;
      event?: { id?: string; type?: string };
    }
  | { kind: 'ready'; runtime: LocalRuntime }
  /** What the emulated Odoo was given of the crosswalks' records at start. */
  | { kind: 'reference-data'; created: readonly string[] };

export interface LocalRuntime {
  readonly gatewayUrl: string;
  readonly sqsUrl: string;
  readonly dynamoDbUrl: string;
  readonly secretsManagerUrl: string;
  readonly odoo: {
    readonly url: string;
    readonly database: string;
    readonly login: string;
    readonly emulated: boolean;
    readonly version?: number;
  };
  readonly flows: readonly FlowEndpoints[];
  /** The timeouts and redrive limit the workers and flow queues run with. */
  readonly clock: WorkerClock;
  /** Signing secret of each source, for curl and the demo. */
  readonly webhookSecrets: Readonly<Record<string, string>>;
  readonly sqs: LocalSqs;
  readonly secretsManager: LocalSecretsManager;
  readonly odooEmulator?: OdooEmulator;
  /** The vendors' APIs as enrichment reads them: their emulators, with the credential stored for each. */
  readonly vendorApis: {
    readonly hubspot: HubSpotEmulator;
    readonly stripe: StripeEmulator;
    /** The token stored in `spine/<stage>/sources/<source>` and accepted by the emulator. */
    readonly tokens: Readonly<Record<'hubspot' | 'stripe', string>>;
  };
  health(): Record<string, unknown>;
  stop(): Promise<void>;
}

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

/**
 * The settings that time a worker and its queue: compressed (a timeout of a few seconds, a
 * short visibility timeout, few receives), an outage drill runs in seconds instead of hours.
 */
export interface WorkerClock {
  readonly workerTimeoutSeconds: number;
  readonly visibilityTimeoutSeconds: number;
  readonly maxReceiveCount: number;
  /**
   * How long Odoo runs a request before killing it (its `limit_time_real`): the emulator kills
   * slower ones, and the workers' claims outlive their deadline by this much, so a write sent
   * before a timeout lands (or dies) before another attempt may write the same record.
   */
  readonly odooRequestLimitSeconds: number;
  /**
   * How many times faster than real time the queues' timers run: at 360, the retries that span
   * a two-hour Odoo outage in production span 20 s. The workers' own timeouts stay real.
   */
  readonly timeScale: number;
}

/**
 * The clock with its defaults, refused where AWS would refuse it. Values may be given as the
 * text of a flag; `names` says what the caller calls each setting, for the error.
 */
export function workerClock(
  given: { readonly [K in keyof WorkerClock]?: number | string },
  names: { readonly [K in keyof WorkerClock]: string } = {
    workerTimeoutSeconds: 'workerTimeoutSeconds',
    visibilityTimeoutSeconds: 'visibilityTimeoutSeconds',
    maxReceiveCount: 'maxReceiveCount',
    odooRequestLimitSeconds: 'odooRequestLimitSeconds',
    timeScale: 'timeScale',
  },
): WorkerClock {
  const read = (key: keyof WorkerClock, fallback: number, max: number, unit: string) => {
    const value = given[key];
    if (value === undefined) return fallback;
    const number =
      typeof value === 'number' ? value : /^\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isInteger(number) || number < 1 || number > max)
      throw new Error(
        `${names[key]} must be a whole number${unit} from 1 to ${max}, got ${JSON.stringify(value)}`,
      );
    return number;
  };
  // The upper limits are Lambda's timeout and SQS's own.
  const clock: WorkerClock = {
    workerTimeoutSeconds: read('workerTimeoutSeconds', 30, 900, ' of seconds'),
    visibilityTimeoutSeconds: read('visibilityTimeoutSeconds', 30, 43_200, ' of seconds'),
    maxReceiveCount: read('maxReceiveCount', 5, 1000, ''),
    // Below a production Odoo's 120 s, so that a claim left by a stopped worker lapses before the
    // default five receives of 30 s are spent waiting for it.
    odooRequestLimitSeconds: read('odooRequestLimitSeconds', 60, 3600, ' of seconds'),
    timeScale: read('timeScale', 1, 3600, ''),
  };
  if (clock.visibilityTimeoutSeconds < clock.workerTimeoutSeconds)
    throw new Error(
      `${names.visibilityTimeoutSeconds} (${clock.visibilityTimeoutSeconds} s) must be at least ${names.workerTimeoutSeconds} (${clock.workerTimeoutSeconds} s), as AWS requires of a queue that feeds a Lambda function: otherwise a message is delivered again while an invocation still works on it`,
    );
  return clock;
}

/** A short description of a CloudEvents envelope on a queue, for log lines. */
function describeEnvelope(
  body: string,
): { id?: string; type?: string; contract?: string } | undefined {
  try {
    const envelope = JSON.parse(body) as {
      id?: unknown;
      type?: unknown;
      dataschema?: unknown;
      spinecontract?: unknown;
    };
    return {
      ...(typeof envelope.id === 'string' ? { id: envelope.id } : {}),
      ...(typeof envelope.type === 'string' ? { type: envelope.type } : {}),
      ...(typeof envelope.spinecontract === 'string' ? { contract: envelope.spinecontract } : {}),
    };
  } catch {
    return undefined;
  }
}

async function listen<T>(
  what: string,
  variable: string,
  port: number | undefined,
  start: () => Promise<T>,
): Promise<T> {
  try {
    return await start();
  } catch (error) {
    if ((error as { code?: string }).code === 'EADDRINUSE') {
      throw new Error(
        `port ${port} is in use (${what}); set ${variable} to another port, or stop the process using it`,
      );
    }
    throw error;
  }
}

export async function startLocalRuntime(options: LocalRuntimeOptions): Promise<LocalRuntime> {
  const clock = workerClock(options);
  const redelivery = options.redelivery ?? {
    baseSeconds: clock.visibilityTimeoutSeconds,
    capSeconds: clock.visibilityTimeoutSeconds * 30,
  };
  const dataDir = resolve(options.dataDir ?? '.spine');
  mkdirSync(dataDir, { recursive: true });
  const log = options.log ?? (() => {});
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
  };

  try {
    const sqs = await listen('SQS', 'SPINE_SQS_PORT', options.sqsPort, () =>
      startLocalSqs({
        port: options.sqsPort,
        dataDir: join(dataDir, 'sqs'),
        timeScale: clock.timeScale,
      }),
    );
    stops.push(() => sqs.stop());
    const dynamo: LocalDynamoDb = await listen(
      'DynamoDB',
      'SPINE_DYNAMODB_PORT',
      options.dynamoDbPort,
      () => startLocalDynamoDb({ port: options.dynamoDbPort, dataDir: join(dataDir, 'dynamodb') }),
    );
    stops.push(() => dynamo.stop());
    let rotation: RotationHandler | undefined;
    const secretsManager = await listen(
      'Secrets Manager',
      'SPINE_SECRETS_MANAGER_PORT',
      options.secretsManagerPort,
      () =>
        startLocalSecretsManager({
          port: options.secretsManagerPort,
          file: join(dataDir, 'secrets-manager.json'),
          rotationHandlers: {
            'spine-local-rotate-credentials': (event) =>
              rotation ? rotation(event) : Promise.reject(new Error('no rotation handler loaded')),
          },
        }),
    );
    stops.push(() => secretsManager.stop());
    let odooEmulator: OdooEmulator | undefined;
    if (!options.odoo) {
      odooEmulator = await listen('Odoo emulator', 'SPINE_ODOO_PORT', options.odooPort, () =>
        startOdooEmulator({
          port: options.odooPort,
          version: options.odooVersion ?? 18,
          snapshotFile: join(dataDir, 'odoo.json'),
          requestLimitMs: clock.odooRequestLimitSeconds * 1000,
          ...(options.referenceData ? { referenceData: options.referenceData } : {}),
        }),
      );
      stops.push(() => (odooEmulator as OdooEmulator).stop());
      const { created } = (odooEmulator as OdooEmulator).referenceSetup;
      if (created.length > 0) log({ kind: 'reference-data', created });
    }
    const odoo = options.odoo ?? emulatedOdooCredential(odooEmulator as OdooEmulator);

    // The vendors' APIs that enrichment reads thin events' objects from, each with a token of its
    // own, stored below where a deployment stores the real one.
    const vendorTokens = {
      hubspot: `pat-local-${randomBytes(12).toString('hex')}`,
      stripe: `rk_test_local${randomBytes(12).toString('hex')}`,
    };
    const hubspot = await listen(
      'HubSpot API emulator',
      'SPINE_HUBSPOT_PORT',
      options.hubspotPort,
      () => startHubSpotEmulator({ token: vendorTokens.hubspot, port: options.hubspotPort }),
    );
    stops.push(() => hubspot.stop());
    const stripe = await listen(
      'Stripe API emulator',
      'SPINE_STRIPE_PORT',
      options.stripePort,
      () => startStripeEmulator({ token: vendorTokens.stripe, port: options.stripePort }),
    );
    stops.push(() => stripe.stop());

    // The AWS SDK reads these, so the unchanged handler code talks to the local endpoints.
    Object.assign(process.env, {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_ENDPOINT_URL_SQS: sqs.url,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.url,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsManager.url,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    });

    const sqsClient = new SQSClient({ endpoint: sqs.url, region: 'us-east-1', credentials });
    const flows: FlowEndpoints[] = [];
    for (const flow of options.flows) {
      const dlqName = deadLetterQueueName(STAGE, flow.name, flow.fifo);
      const fifoAttributes = flow.fifo ? { FifoQueue: 'true' } : {};
      const dlq = await sqsClient.send(
        new CreateQueueCommand({
          QueueName: dlqName,
          Attributes: { ...fifoAttributes, MessageRetentionPeriod: '1209600' },
        }),
      );
      const parking = await sqsClient.send(
        new CreateQueueCommand({
          QueueName: parkingQueueName(STAGE, flow.name, flow.fifo),
          Attributes: { ...fifoAttributes, MessageRetentionPeriod: '1209600' },
        }),
      );
      const queue = await sqsClient.send(
        new CreateQueueCommand({
          QueueName: flowQueueName(STAGE, flow.name, flow.fifo),
          Attributes: fifoAttributes,
        }),
      );
      // Set apart from CreateQueue, which refuses a queue kept in .spine/ with other values:
      // the clock may change from one start to the next.
      await sqsClient.send(
        new SetQueueAttributesCommand({
          QueueUrl: queue.QueueUrl,
          Attributes: {
            // At least the worker's timeout, as Lambda requires; a failed event is retried after it.
            VisibilityTimeout: String(clock.visibilityTimeoutSeconds),
            MessageRetentionPeriod: '345600',
            RedrivePolicy: JSON.stringify({
              deadLetterTargetArn: queueArn(dlqName),
              maxReceiveCount: clock.maxReceiveCount,
            }),
          },
        }),
      );
      flows.push({
        name: flow.name,
        fifo: flow.fifo,
        queueUrl: queue.QueueUrl as string,
        deadLetterQueueUrl: dlq.QueueUrl as string,
        parkingQueueUrl: parking.QueueUrl as string,
      });
    }

    const dynamoClient = localDynamoDbClient(dynamo.url);
    await ensureTable(dynamoClient, idempotencyTableName(STAGE), IDEMPOTENCY_TABLE);
    await ensureTable(dynamoClient, lineageTableName(STAGE), LINEAGE_TABLE);

    // Secrets are generated once and kept under .spine/, so signed requests keep working.
    const secretsClient = new SecretsManagerClient({
      endpoint: secretsManager.url,
      region: 'us-east-1',
      credentials,
    });
    const ensureSecret = async (name: string, create: () => string): Promise<string> => {
      try {
        return (await secretsClient.send(new GetSecretValueCommand({ SecretId: name })))
          .SecretString as string;
      } catch (error) {
        if (!(error instanceof ResourceNotFoundException)) throw error;
        const value = create();
        await secretsClient.send(new CreateSecretCommand({ Name: name, SecretString: value }));
        return value;
      }
    };
    const webhookSecrets: Record<string, string> = {};
    for (const source of options.sources) {
      const stored = await ensureSecret(webhookSecretName(STAGE, source.system), () =>
        JSON.stringify({ current: generateSigningSecret(source.signature) }),
      );
      webhookSecrets[source.system] = (JSON.parse(stored) as { current: string }).current;
    }
    // The emulators start with fresh tokens: the stored ones are replaced with them.
    for (const [source, token] of Object.entries(vendorTokens)) {
      const name = sourceCredentialName(STAGE, source);
      const stored = await ensureSecret(name, () => JSON.stringify({ token }));
      if ((JSON.parse(stored) as { token?: string }).token !== token)
        await secretsClient.send(
          new PutSecretValueCommand({ SecretId: name, SecretString: JSON.stringify({ token }) }),
        );
    }
    await ensureSecret(redactionKeySecretName(STAGE), () =>
      JSON.stringify({ key: randomBytes(32).toString('base64') }),
    );
    const storedOdoo = JSON.parse(
      await ensureSecret(odooSecretName(STAGE), () =>
        JSON.stringify({ ...odoo, protocol: 'auto' } satisfies OdooCredential),
      ),
    ) as OdooCredential;
    const odooSecret = reconcileOdooSecret(storedOdoo, odoo, odooEmulator);
    if (odooSecret !== storedOdoo)
      await secretsClient.send(
        new PutSecretValueCommand({
          SecretId: odooSecretName(STAGE),
          SecretString: JSON.stringify(odooSecret),
        }),
      );

    Object.assign(process.env, {
      SPINE_STAGE: STAGE,
      SPINE_FLOWS: JSON.stringify(
        Object.fromEntries(
          flows.map((f) => [
            f.name,
            {
              queueUrl: f.queueUrl,
              deadLetterQueueUrl: f.deadLetterQueueUrl,
              parkingQueueUrl: f.parkingQueueUrl,
              fifo: f.fifo,
            },
          ]),
        ),
      ),
      SPINE_IDEMPOTENCY_TABLE: idempotencyTableName(STAGE),
      SPINE_LINEAGE_TABLE: lineageTableName(STAGE),
      SPINE_ODOO_SECRET: odooSecretName(STAGE),
      // Where Odoo is, as the stack tells the Lambdas (cdk.json's odoo.url and odoo.database).
      SPINE_ODOO_URL: odoo.url,
      SPINE_ODOO_DATABASE: odoo.database,
      SPINE_REDACTION_SECRET: redactionKeySecretName(STAGE),
      SPINE_WEBHOOK_SECRET_PREFIX: `spine/${STAGE}/webhooks/`,
      SPINE_HUBSPOT_API_URL: hubspot.url,
      SPINE_STRIPE_API_URL: stripe.url,
      // So the worker knows a record's last receive without asking its queue on every batch.
      SPINE_MAX_RECEIVE_COUNT: String(clock.maxReceiveCount),
      SPINE_ODOO_REQUEST_LIMIT_SECONDS: String(clock.odooRequestLimitSeconds),
      SPINE_REDELIVERY_BASE_SECONDS: String(redelivery.baseSeconds),
      SPINE_REDELIVERY_CAP_SECONDS: String(redelivery.capSeconds),
      // On a compressed clock the circuit's pause shrinks with the queues' timers, and the retries
      // within a call (real time) would outlast the whole drill: the queue's retries carry it.
      ...(clock.timeScale > 1
        ? {
            SPINE_ODOO_CIRCUIT_OPEN_SECONDS: String(30 / clock.timeScale),
            SPINE_ODOO_RETRIES: '0',
          }
        : {}),
      // The emulated Odoo takes far more than a production Odoo should be asked for.
      SPINE_ODOO_RATE_PER_SECOND:
        process.env.SPINE_ODOO_RATE_PER_SECOND ?? (odooEmulator ? '1000' : '20'),
      SPINE_ODOO_MAX_CONCURRENCY:
        process.env.SPINE_ODOO_MAX_CONCURRENCY ?? (odooEmulator ? '8' : '4'),
      POWERTOOLS_SERVICE_NAME: 'spine',
      POWERTOOLS_METRICS_NAMESPACE: 'Spine',
    });

    const handlers = await options.handlers();
    rotation = handlers.rotation;

    // Log lines for each event's way through: queued, applied or failed, dead-lettered.
    const flowOfQueue = new Map<string, { flow: string; dead: boolean }>();
    for (const f of flows) {
      flowOfQueue.set(f.queueUrl.split('/').at(-1) as string, { flow: f.name, dead: false });
      flowOfQueue.set(f.deadLetterQueueUrl.split('/').at(-1) as string, {
        flow: f.name,
        dead: true,
      });
    }
    sqs.store.events.on(
      'sent',
      ({
        queue,
        message,
      }: {
        queue: string;
        message: { id: string; body: string; groupId?: string };
      }) => {
        const flow = flowOfQueue.get(queue);
        if (!flow) return;
        const event = {
          ...describeEnvelope(message.body),
          ...(message.groupId ? { group: message.groupId } : {}),
        };
        log(
          flow.dead
            ? { kind: 'dead-lettered', flow: flow.flow, messageId: message.id, event }
            : { kind: 'queued', flow: flow.flow, messageId: message.id, event },
        );
      },
    );
    sqs.store.events.on(
      'moved',
      ({ to, message }: { to: string; message: { id: string; body: string } }) => {
        const flow = flowOfQueue.get(to);
        if (flow?.dead)
          log({
            kind: 'dead-lettered',
            flow: flow.flow,
            messageId: message.id,
            event: describeEnvelope(message.body) ?? {},
          });
      },
    );

    const sources: RunningEventSource[] = (options.pollers === false ? [] : flows).map((flow) =>
      startEventSource(
        sqsClient,
        {
          functionName: `spine-${STAGE}-worker-${flow.name}`,
          queueUrl: flow.queueUrl,
          queueArn: queueArn(flow.queueUrl.split('/').at(-1) as string),
          handler: handlers.worker,
          batchSize: options.batchSize ?? 10,
          maximumBatchingWindowSeconds: options.batchingWindowSeconds ?? 0,
          maximumConcurrency: options.maximumConcurrency ?? 2,
          timeoutSeconds: clock.workerTimeoutSeconds,
          reportBatchItemFailures: true,
        },
        (outcome) => log({ kind: 'batch', flow: flow.name, outcome }),
      ),
    );
    stops.push(async () => {
      await Promise.all(sources.map((s) => s.stop()));
    });

    let ready = false;
    let runtime: LocalRuntime | undefined;
    const health = () => ({
      status: ready ? 'ok' : 'starting',
      gateway: gateway?.url,
      sqs: sqs.url,
      dynamodb: dynamo.url,
      secretsmanager: secretsManager.url,
      odoo: {
        url: odoo.url,
        db: odoo.database,
        login: odoo.login,
        emulated: Boolean(odooEmulator),
        ...(odooEmulator ? { version: odooEmulator.version } : {}),
      },
      vendorApis: {
        hubspot: {
          url: hubspot.url,
          emulated: true,
          credential: sourceCredentialName(STAGE, 'hubspot'),
        },
        stripe: {
          url: stripe.url,
          emulated: true,
          credential: sourceCredentialName(STAGE, 'stripe'),
        },
      },
      worker: {
        timeoutSeconds: clock.workerTimeoutSeconds,
        visibilityTimeoutSeconds: clock.visibilityTimeoutSeconds,
        maxReceiveCount: clock.maxReceiveCount,
        redelivery,
        ...(clock.timeScale > 1 ? { timeScale: clock.timeScale } : {}),
      },
      flows: flows.map((f) => ({
        name: f.name,
        fifo: f.fifo,
        queueUrl: f.queueUrl,
        deadLetterQueueUrl: f.deadLetterQueueUrl,
        parkingQueueUrl: f.parkingQueueUrl,
      })),
      sources: Object.keys(webhookSecrets).map((source) => ({
        source,
        url: `${gateway?.url}/webhooks/${source}`,
      })),
    });
    let gateway: LocalGateway | undefined;
    gateway = await listen('gateway', 'PORT', options.port, () =>
      startGateway({
        port: options.port,
        routes: [
          {
            method: 'POST',
            path: '/webhooks/{source}',
            functionName: `spine-${STAGE}-receiver`,
            handler: handlers.receiver,
          },
        ],
        local: { 'GET /_spine/health': () => ({ status: ready ? 200 : 503, body: health() }) },
        onRequest: (request) => log({ kind: 'request', request }),
      }),
    );
    const started = gateway;
    stops.push(() => started.stop());

    runtime = {
      gatewayUrl: started.url,
      sqsUrl: sqs.url,
      dynamoDbUrl: dynamo.url,
      secretsManagerUrl: secretsManager.url,
      odoo: {
        url: odoo.url,
        database: odoo.database,
        login: odoo.login,
        emulated: Boolean(odooEmulator),
        ...(odooEmulator ? { version: odooEmulator.version } : {}),
      },
      flows,
      clock,
      webhookSecrets,
      sqs,
      secretsManager,
      ...(odooEmulator ? { odooEmulator } : {}),
      vendorApis: { hubspot, stripe, tokens: vendorTokens },
      health,
      stop,
    };
    ready = true;
    log({ kind: 'ready', runtime });
    return runtime;
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * The emulator's integration user as the local secret holds it: an API key where Odoo can
 * rotate one (19+), a password below, so the rotation handler's strategy works on it.
 */
function emulatedOdooCredential(
  emulator: OdooEmulator,
): OdooCredential & { url: string; database: string } {
  const { url, database, integration } = emulator;
  return {
    url,
    database,
    login: integration.login,
    ...(emulator.version >= 19
      ? { apiKey: integration.apiKey }
      : { password: integration.password }),
  };
}

/**
 * The Odoo secret to keep, given the one stored by an earlier start and the Odoo this start
 * uses: the stored one itself when it still fits, else the stored credential with the new
 * url, database and login (a rotated password or key survives a port change), else the
 * credential of this Odoo (the stored one belongs to another Odoo or user).
 */
export function reconcileOdooSecret(
  stored: OdooCredential,
  odoo: OdooCredential,
  emulator: OdooEmulator | undefined,
): OdooCredential {
  const sameConnection =
    stored.url === odoo.url && stored.database === odoo.database && stored.login === odoo.login;
  const storedSecrets = {
    ...(stored.password ? { password: stored.password } : {}),
    ...(stored.apiKey ? { apiKey: stored.apiKey } : {}),
    ...(stored.previousApiKey ? { previousApiKey: stored.previousApiKey } : {}),
  };
  const connection = {
    url: odoo.url,
    database: odoo.database,
    login: odoo.login,
    protocol: stored.protocol ?? 'auto',
  };
  if (emulator) {
    // The emulator keeps rotated credentials in its snapshot: ask it whether it knows these.
    const user = emulator.orm.users.get(emulator.integration.uid);
    const accepted =
      user !== undefined &&
      stored.login === user.login &&
      ((stored.password !== undefined && stored.password === user.password) ||
        (stored.apiKey !== undefined && user.apiKeys.some((k) => k.key === stored.apiKey)));
    if (accepted) return sameConnection ? stored : { ...connection, ...storedSecrets };
    return { ...odoo, protocol: connection.protocol };
  }
  if (sameConnection) return stored;
  return { ...odoo, protocol: connection.protocol };
}

/** A signing secret shaped like the scheme's own, so the vendors' libraries accept it in tests. */
export function generateSigningSecret(signature: string): string {
  const random = randomBytes(24);
  if (signature === 'stripe') return `whsec_${random.toString('hex')}`;
  if (signature === 'standard-webhooks') return `whsec_${random.toString('base64')}`;
  return random.toString('hex');
}
