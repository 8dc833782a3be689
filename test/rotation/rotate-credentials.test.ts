import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  RotateSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, describe, expect, it } from 'vitest';
import { odooSecretName } from '../../functions/platform/names.ts';
import type { OdooCredential } from '../../functions/rotation/rotate.ts';
import type { OdooEmulator } from '../../local/odoo/server.ts';
import { allFixtures, loadFixture } from '../support/fixtures.ts';
import { sendFixture, startTestRuntime, waitFor } from '../support/local-runtime.ts';

type Runtime = Awaited<ReturnType<typeof startTestRuntime>>;
let runtime: Runtime | undefined;
afterEach(async () => {
  await runtime?.dispose();
  runtime = undefined;
});

const SECRET = odooSecretName('local');

/** The default local runtime, its Odoo secret as `spine local` seeds it. */
async function setup(version: 18 | 19) {
  runtime = await startTestRuntime({ odooVersion: version });
  const secrets = new SecretsManagerClient({
    endpoint: runtime.secretsManagerUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
  });
  const emulator = runtime.odooEmulator as OdooEmulator;
  return { secrets, emulator, runtime };
}

async function rotate(secrets: SecretsManagerClient, runtime: Runtime) {
  const { VersionId } = await secrets.send(
    new RotateSecretCommand({
      SecretId: SECRET,
      RotationLambdaARN: 'spine-local-rotate-credentials',
    }),
  );
  await runtime.secretsManager.rotationsSettled();
  return VersionId as string;
}

async function current(secrets: SecretsManagerClient, stage = 'AWSCURRENT') {
  const answer = await secrets.send(
    new GetSecretValueCommand({ SecretId: SECRET, VersionStage: stage }),
  );
  return {
    versionId: answer.VersionId,
    credential: JSON.parse(answer.SecretString ?? '{}') as OdooCredential,
  };
}

async function logsIn(emulator: OdooEmulator, secret: string | undefined): Promise<boolean> {
  const response = await fetch(`${emulator.url}/jsonrpc`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      method: 'call',
      params: {
        service: 'object',
        method: 'execute_kw',
        args: [
          emulator.database,
          emulator.integration.uid,
          secret,
          'res.partner',
          'search_count',
          [[]],
        ],
      },
      id: 1,
    }),
  });
  return ((await response.json()) as { result?: unknown }).result !== undefined;
}

describe('rotating the Odoo credential', { timeout: 120_000 }, () => {
  it('rotates the password of the default local runtime (Odoo 18) through the four steps: the new one works, the old one no longer does', async () => {
    const { secrets, emulator, runtime } = await setup(18);
    const before = await current(secrets);
    // Odoo 18 cannot make API keys over RPC: the runtime seeds the password only.
    expect(before.credential).toMatchObject({ password: emulator.integration.password });
    expect(before.credential.apiKey).toBeUndefined();
    const VersionId = await rotate(secrets, runtime);
    const after = await current(secrets);
    expect(after.versionId).toBe(VersionId);
    expect(after.credential.password).not.toBe(before.credential.password);
    expect(await logsIn(emulator, after.credential.password)).toBe(true);
    expect(await logsIn(emulator, before.credential.password)).toBe(false);
    expect((await current(secrets, 'AWSPREVIOUS')).versionId).toBe(before.versionId);
    expect(
      (await secrets.send(new DescribeSecretCommand({ SecretId: SECRET }))).LastRotatedDate,
    ).toBeInstanceOf(Date);
    // Re-running any step with the same token does no harm.
    const { handler } = await import('../../functions/handlers/rotate-credentials.ts');
    for (const Step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const)
      await handler({ Step, SecretId: SECRET, ClientRequestToken: VersionId });
    expect(await logsIn(emulator, after.credential.password)).toBe(true);
  });

  it('rotates the password on Odoo 18 when the secret holds an API key too', async () => {
    const { secrets, emulator, runtime } = await setup(18);
    const before = await current(secrets);
    await secrets.send(
      new PutSecretValueCommand({
        SecretId: SECRET,
        SecretString: JSON.stringify({
          ...before.credential,
          apiKey: emulator.integration.apiKey,
        }),
      }),
    );
    const VersionId = await rotate(secrets, runtime);
    const after = await current(secrets);
    expect(after.versionId).toBe(VersionId);
    expect(after.credential.password).not.toBe(before.credential.password);
    expect(after.credential.apiKey).toBe(emulator.integration.apiKey);
    expect(await logsIn(emulator, after.credential.password)).toBe(true);
    expect(await logsIn(emulator, before.credential.password)).toBe(false);
  });

  it('rotates the API key of the default local runtime on Odoo 19: generates, tests, promotes, then revokes the old key', async () => {
    const { secrets, emulator, runtime } = await setup(19);
    const before = await current(secrets);
    expect(before.credential).toMatchObject({ apiKey: emulator.integration.apiKey });
    expect(before.credential.password).toBeUndefined();
    const VersionId = await rotate(secrets, runtime);
    const after = await current(secrets);
    expect(after.versionId).toBe(VersionId);
    expect(after.credential.apiKey).toMatch(/^[0-9a-f]{40}$/);
    expect(after.credential.apiKey).not.toBe(before.credential.apiKey);
    expect(await logsIn(emulator, after.credential.apiKey)).toBe(true);
    expect(await logsIn(emulator, before.credential.apiKey)).toBe(false);
  });

  it('leaves AWSCURRENT working when the new credential fails its test', async () => {
    const { secrets, emulator } = await setup(19);
    const before = await current(secrets);
    const token = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';
    await secrets.send(
      new PutSecretValueCommand({
        SecretId: SECRET,
        ClientRequestToken: token,
        SecretString: JSON.stringify({ ...before.credential, apiKey: 'f'.repeat(40) }),
        VersionStages: ['AWSPENDING'],
      }),
    );
    const { handler } = await import('../../functions/handlers/rotate-credentials.ts');
    await expect(
      handler({ Step: 'testSecret', SecretId: SECRET, ClientRequestToken: token }),
    ).rejects.toThrow(/does not work .*; AWSCURRENT is unchanged and still logs in/);
    expect((await current(secrets)).versionId).toBe(before.versionId);
    expect(await logsIn(emulator, before.credential.apiKey)).toBe(true);
  });

  it('loses no event when the credential rotates in the middle of traffic', async () => {
    const { secrets, runtime } = await setup(18);
    const customers = allFixtures().filter((f) =>
      ['stripe/customer.created', 'shopify/customers-create', 'clerk/user.created'].includes(
        f.name,
      ),
    );
    for (const fixture of customers.slice(0, 2))
      expect((await sendFixture(runtime, fixture)).status).toBe(202);
    await rotate(secrets, runtime);
    expect(
      (await sendFixture(runtime, customers[2] ?? loadFixture('clerk/user.created'))).status,
    ).toBe(202);
    const emulator = runtime.odooEmulator as OdooEmulator;
    await waitFor('three partners', async () => {
      const count = emulator.orm.call(
        2,
        'res.partner',
        'search_count',
        [
          [
            [
              'email',
              'in',
              ['Camille.Durand@example.com', 'bob.norman@example.com', 'amara.okafor@example.com'],
            ],
          ],
        ],
        {},
      ) as number;
      return count === 3;
    });
  });
});
