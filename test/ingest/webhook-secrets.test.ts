import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { loadContractRegistry } from '../../functions/contracts/index.ts';
import { receiveWebhook } from '../../functions/ingest/receive.ts';
import { CachedSecrets, WebhookSecretsFromManager } from '../../functions/platform/secrets.ts';
import { signatureHeaders } from '../../local/demo/sign.ts';
import { loadFixture } from '../support/fixtures.ts';
import { MemoryLineageStore } from '../support/memory-lineage.ts';

/** A Secrets Manager client answering from `values` (by secret id), counting GetSecretValue calls. */
function fakeSecretsManager(values: Map<string, string>) {
  const client = new SecretsManagerClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
  });
  const calls: string[] = [];
  client.middlewareStack.add(
    (_next, context) => async (args) => {
      if (context.commandName !== GetSecretValueCommand.name) throw new Error('unexpected call');
      const id = (args.input as { SecretId: string }).SecretId;
      calls.push(id);
      return {
        output: { SecretString: values.get(id), VersionId: 'v1', $metadata: {} },
        response: {},
      } as never;
    },
    { step: 'initialize', name: 'fake-secrets-manager' },
  );
  return { client, calls };
}

describe('webhook signing secrets from Secrets Manager', () => {
  it('re-reads a secret at most once per 30 s per source on bad signatures, and takes a rotation after', async () => {
    const values = new Map([
      ['spine/test/webhooks/stripe', JSON.stringify({ current: 'whsec_a' })],
    ]);
    const { client, calls } = fakeSecretsManager(values);
    let now = 1_000_000;
    const secrets = new WebhookSecretsFromManager(
      new CachedSecrets(client),
      'spine/test/webhooks/',
      () => now,
    );
    const deps = {
      registry: loadContractRegistry(),
      secrets,
      queues: { enqueue: async () => {}, deadLetter: async () => {} },
      lineage: new MemoryLineageStore(),
      redactionKey: async () => ({ secret: 'k' }),
      telemetry: { count: () => {} },
      logger: { info: () => {}, warn: () => {}, error: () => {} },
    };
    const fixture = loadFixture('stripe/customer.created');
    const request = (secret: string) => ({
      source: 'stripe',
      method: 'POST',
      rawBody: Buffer.from(fixture.raw),
      headers: {
        ...fixture.headers,
        ...signatureHeaders({ scheme: 'stripe', secret, body: fixture.raw, url: '' }),
      },
      urls: [],
      receivedAt: new Date(),
    });

    for (let i = 0; i < 20; i++)
      expect((await receiveWebhook(request('whsec_forged'), deps)).status).toBe(401);
    // The first read, and one forced re-read: not one per forged request.
    expect(calls).toHaveLength(2);

    // The secret rotates; once the 30 s have passed, a request signed with the new one gets in.
    values.set(
      'spine/test/webhooks/stripe',
      JSON.stringify({ current: 'whsec_b', previous: 'whsec_a' }),
    );
    now += 30_000;
    expect((await receiveWebhook(request('whsec_b'), deps)).status).toBe(202);
    expect(calls).toHaveLength(3);
  });
});
