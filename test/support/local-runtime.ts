/**
 * Starts the embedded runtime for a test with the real receiver and worker, on free ports and
 * a fresh state folder, and signs fixtures the way their vendors do.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { loadContractRegistry } from '../../functions/contracts/index.ts';
import { type SignOptions, signatureHeaders } from '../../local/demo/sign.ts';
import { handlerModule } from '../../local/execution-environment.ts';
import {
  type LocalRuntime,
  type LocalRuntimeOptions,
  startLocalRuntime,
} from '../../local/runtime.ts';
import { seedVendorObjects } from '../../local/vendors/seed.ts';
import { FIXTURES_DIR, type Fixture } from './fixtures.ts';

export interface TestRuntimeOptions extends Partial<LocalRuntimeOptions> {
  /**
   * Run the real worker as `spine local` does, in execution environments of its own that are
   * stopped at the worker's timeout, instead of in the test's process (where a spy or a stubbed
   * variable reaches it, but a timed-out invocation runs on).
   * @default false
   */
  readonly isolatedWorker?: boolean;
}

export async function startTestRuntime({
  isolatedWorker = false,
  ...options
}: TestRuntimeOptions = {}): Promise<LocalRuntime & { dataDir: string; dispose(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'spine-runtime-'));
  const registry = loadContractRegistry();
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  const runtime = await startLocalRuntime({
    dataDir,
    port: 0,
    sqsPort: 0,
    dynamoDbPort: 0,
    secretsManagerPort: 0,
    odooPort: 0,
    // As `spine local` runs it: the emulated Odoo holds what the crosswalks name.
    referenceData: registry.reference,
    flows: registry.flows,
    sources: [
      ...new Map(
        registry.contracts.map((c) => [
          c.source.system,
          { system: c.source.system, signature: c.source.signature },
        ]),
      ).values(),
    ],
    handlers: async () => {
      const [receiver, worker, rotation] = await Promise.all([
        import('../../functions/handlers/receiver.ts'),
        import('../../functions/handlers/worker.ts'),
        import('../../functions/handlers/rotate-credentials.ts'),
      ]);
      return {
        receiver: receiver.handler as never,
        worker: isolatedWorker
          ? handlerModule(new URL('../../functions/handlers/worker.ts', import.meta.url))
          : worker.handler,
        rotation: rotation.handler,
      };
    },
    batchingWindowSeconds: 0,
    ...options,
  });
  // The vendor objects the fixtures' thin events name, as the demo seeds them.
  await seedVendorObjects(FIXTURES_DIR, {
    hubspot: { url: runtime.vendorApis.hubspot.url, token: runtime.vendorApis.tokens.hubspot },
  });
  return Object.assign(runtime, {
    dataDir,
    dispose: async () => {
      await runtime.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  });
}

/** POSTs a fixture to the gateway, signed with `secret` (default: the source's current one). */
export async function sendFixture(
  runtime: LocalRuntime,
  fixture: Fixture,
  options: { secret?: string; body?: string; scheme?: SignOptions['scheme'] } = {},
) {
  const registry = loadContractRegistry();
  const url = `${runtime.gatewayUrl}/webhooks/${fixture.source}`;
  const scheme =
    options.scheme ?? (registry.source(fixture.source)?.signature as SignOptions['scheme']);
  const signed = signatureHeaders({
    scheme,
    secret: options.secret ?? (runtime.webhookSecrets[fixture.source] as string),
    body: fixture.raw,
    url,
    headers: fixture.headers,
  });
  const response = await fetch(url, {
    method: 'POST',
    headers: { ...fixture.headers, ...signed },
    body: options.body ?? fixture.raw,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 40_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await check();
    if (result) return result;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The real SQS client, pointed at a runtime's local SQS endpoint. */
export function localSqsClient(runtime: LocalRuntime): SQSClient {
  return new SQSClient({
    endpoint: runtime.sqsUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
  });
}

/** The real Secrets Manager client, pointed at a runtime's local endpoint. */
export function localSecretsClient(
  runtime: Pick<LocalRuntime, 'secretsManagerUrl'>,
): SecretsManagerClient {
  return new SecretsManagerClient({
    endpoint: runtime.secretsManagerUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
  });
}

/** Messages in a queue, visible or in flight. */
export async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] }),
  );
  return (
    Number(Attributes.ApproximateNumberOfMessages) +
    Number(Attributes.ApproximateNumberOfMessagesNotVisible)
  );
}
