import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  RotateSecretCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, describe, expect, it } from 'vitest';
import { DynamoDbLineageStore } from '../../functions/lineage/dynamodb-store.ts';
import { odooSecretName } from '../../functions/platform/names.ts';
import type { OdooCredential } from '../../functions/rotation/rotate.ts';
import { localDynamoDbClient } from '../../local/dynamodb.ts';
import type { OdooEmulator } from '../../local/odoo/server.ts';
import { loadFixture } from '../support/fixtures.ts';
import {
  localSecretsClient,
  sendFixture,
  startTestRuntime,
  waitFor,
} from '../support/local-runtime.ts';

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
  const secrets = localSecretsClient(runtime);
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

  it('rotates a secret the stack created without a credential through all four steps without failing, changing nothing, leaving no AWSPENDING', async () => {
    const { secrets, runtime } = await setup(18);
    const empty = 'spine/local/odoo-as-deployed';
    await secrets.send(new CreateSecretCommand({ Name: empty, SecretString: '{}' }));
    const failures: unknown[] = [];
    runtime.secretsManager.events.on('rotation-failed', (failure) => failures.push(failure));
    await secrets.send(
      new RotateSecretCommand({
        SecretId: empty,
        RotationLambdaARN: 'spine-local-rotate-credentials',
      }),
    );
    await runtime.secretsManager.rotationsSettled();
    expect(failures).toEqual([]);
    const stages = Object.values(
      (await secrets.send(new DescribeSecretCommand({ SecretId: empty }))).VersionIdsToStages ?? {},
    );
    expect(stages).toEqual([['AWSCURRENT']]);
    const value = await secrets.send(new GetSecretValueCommand({ SecretId: empty }));
    expect(value.SecretString).toBe('{}');
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

  // The handlers' container is built once per test process, by the first runtime that receives
  // traffic: this is the one test of the file that sends webhooks.
  it('loses no event when the password rotates in the middle of traffic, even between setSecret and finishSecret', async () => {
    const { secrets, runtime } = await setup(18);
    const emulator = runtime.odooEmulator as OdooEmulator;
    const partners = (email: string) =>
      emulator.orm.call(2, 'res.partner', 'search_count', [[['email', '=ilike', email]]], {});
    const customers = runtime.flows.find((f) => f.name === 'customers');
    const deadLetters = () =>
      runtime.sqs.store.queues.get(customers?.deadLetterQueueUrl.split('/').at(-1) as string)
        ?.messages.size ?? 0;
    // A warm worker, holding a client with the password about to change.
    const first = await sendFixture(runtime, loadFixture('stripe/customer.created'));
    expect(first.status, JSON.stringify(first.body)).toBe(202);
    await waitFor('the first partner', async () => partners('camille.durand@example.com') === 1);

    // The rotation's first two steps by hand: Odoo now takes only the pending password, while
    // AWSCURRENT still holds the old one until finishSecret.
    const before = await current(secrets);
    const token = 'bbbbbbbb-cccc-4ddd-8eee-ffffffffffff';
    await secrets.send(
      new PutSecretValueCommand({
        SecretId: SECRET,
        ClientRequestToken: token,
        SecretString: JSON.stringify({
          ...before.credential,
          password: 'Rotated-password-0123456789',
        }),
        VersionStages: ['AWSPENDING'],
      }),
    );
    const { handler } = await import('../../functions/handlers/rotate-credentials.ts');
    await handler({ Step: 'setSecret', SecretId: SECRET, ClientRequestToken: token });
    expect(await logsIn(emulator, before.credential.password)).toBe(false);

    expect((await sendFixture(runtime, loadFixture('shopify/customers-create'))).status).toBe(202);
    await waitFor(
      'the event to land in Odoo or in the DLQ',
      async () => partners('bob.norman@example.com') === 1 || deadLetters() > 0,
    );
    expect(deadLetters()).toBe(0);
    expect(partners('bob.norman@example.com')).toBe(1);
    const lineage = new DynamoDbLineageStore(
      localDynamoDbClient(runtime.dynamoDbUrl),
      'spine-local-lineage',
    );
    // The denials retried at once with AWSCURRENT read again, then AWSPENDING, leave no trace:
    // the trail shows the event applied, not failed first.
    // (The outcome is recorded just after the Odoo write the wait above saw.)
    const trailOf = () => lineage.byEvent('shopify', 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043');
    await waitFor('the outcome in lineage', async () =>
      (await trailOf()).some((e) => e.stage !== 'received' && e.stage !== 'queued'),
    );
    const trail = await trailOf();
    expect(trail.map((e) => e.stage)).toContain('applied');
    expect(trail.filter((e) => e.stage === 'failed')).toEqual([]);

    // Odoo refuses the pending password too (changed behind Spine's back): with a rotation under
    // way the denial is retried later, not dead-lettered.
    const changePassword = (from: string, to: string) =>
      emulator.orm.call(emulator.integration.uid, 'res.users', 'change_password', [from, to], {});
    changePassword('Rotated-password-0123456789', 'Elsewhere-password-0123456789');
    expect((await sendFixture(runtime, loadFixture('shopify/customers-update'))).status).toBe(202);
    // Each attempt of the invocation is recorded; the last one decides where the event goes.
    const last = await waitFor(
      'the update to be given back to the queue, or dead-lettered',
      async () => {
        const trail = await lineage.byEvent('shopify', '0f3c2a55-9e61-4c8b-a1de-3b7f90c2e6d4');
        const retried = trail.find((e) => e.stage === 'failed' && e.error?.retryable);
        return retried ?? (deadLetters() > 0 && { error: { code: 'dead-lettered' } });
      },
    );
    expect(last.error).toMatchObject({ code: 'odoo-access-denied', retryable: true });
    expect(deadLetters()).toBe(0);
    changePassword('Elsewhere-password-0123456789', 'Rotated-password-0123456789');

    for (const Step of ['testSecret', 'finishSecret'] as const)
      await handler({ Step, SecretId: SECRET, ClientRequestToken: token });
    expect((await sendFixture(runtime, loadFixture('clerk/user.created'))).status).toBe(202);
    await waitFor('the third partner', async () => partners('amara.okafor@example.com') === 1);
    expect(deadLetters()).toBe(0);
  });
});
