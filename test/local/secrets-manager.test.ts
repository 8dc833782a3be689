import { connect } from 'node:net';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetRandomPasswordCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  RotateSecretCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type LocalSecretsManager,
  type RotationEvent,
  type RotationFailure,
  startLocalSecretsManager,
} from '../../local/secrets-manager.ts';

let manager: LocalSecretsManager;
let client: SecretsManagerClient;
const steps: RotationEvent[] = [];
let failTest = false;

/** The shape of AWS's rotation template: a new value as AWSPENDING, tested, then promoted. */
async function rotation(event: RotationEvent) {
  steps.push(event);
  // As AWS's templates do: a version that is already current has nothing left to rotate.
  const { VersionIdsToStages } = await client.send(
    new DescribeSecretCommand({ SecretId: event.SecretId }),
  );
  if (VersionIdsToStages?.[event.ClientRequestToken]?.includes('AWSCURRENT')) return;
  const current = await client.send(
    new GetSecretValueCommand({ SecretId: event.SecretId, VersionStage: 'AWSCURRENT' }),
  );
  if (event.Step === 'createSecret') {
    try {
      await client.send(
        new GetSecretValueCommand({
          SecretId: event.SecretId,
          VersionId: event.ClientRequestToken,
          VersionStage: 'AWSPENDING',
        }),
      );
    } catch {
      const password = (
        await client.send(
          new GetRandomPasswordCommand({ PasswordLength: 20, ExcludePunctuation: true }),
        )
      ).RandomPassword;
      await client.send(
        new PutSecretValueCommand({
          SecretId: event.SecretId,
          ClientRequestToken: event.ClientRequestToken,
          SecretString: JSON.stringify({ password }),
          VersionStages: ['AWSPENDING'],
        }),
      );
    }
  } else if (event.Step === 'testSecret' && failTest) {
    throw new Error('the new password does not work');
  } else if (event.Step === 'finishSecret') {
    if (current.VersionId === event.ClientRequestToken) return;
    await client.send(
      new UpdateSecretVersionStageCommand({
        SecretId: event.SecretId,
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: event.ClientRequestToken,
        RemoveFromVersionId: current.VersionId,
      }),
    );
  }
}

beforeEach(async () => {
  steps.length = 0;
  failTest = false;
  manager = await startLocalSecretsManager({ rotationHandlers: { 'rotate-odoo': rotation } });
  client = new SecretsManagerClient({
    endpoint: manager.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
  });
});
afterEach(() => manager.stop());

describe('local Secrets Manager with @aws-sdk/client-secrets-manager', () => {
  it('keeps versions with AWSCURRENT, AWSPENDING and AWSPREVIOUS as AWS does', async () => {
    const created = await client.send(
      new CreateSecretCommand({ Name: 'spine/test/odoo', SecretString: '{"password":"one"}' }),
    );
    const second = await client.send(
      new PutSecretValueCommand({
        SecretId: 'spine/test/odoo',
        SecretString: '{"password":"two"}',
      }),
    );
    expect(
      (await client.send(new GetSecretValueCommand({ SecretId: 'spine/test/odoo' }))).SecretString,
    ).toBe('{"password":"two"}');
    expect(
      (
        await client.send(
          new GetSecretValueCommand({ SecretId: created.ARN, VersionStage: 'AWSPREVIOUS' }),
        )
      ).SecretString,
    ).toBe('{"password":"one"}');
    const pending = await client.send(
      new PutSecretValueCommand({
        SecretId: 'spine/test/odoo',
        SecretString: '{"password":"three"}',
        VersionStages: ['AWSPENDING'],
      }),
    );
    expect(
      (
        await client.send(
          new GetSecretValueCommand({ SecretId: 'spine/test/odoo', VersionId: pending.VersionId }),
        )
      ).VersionStages,
    ).toEqual(['AWSPENDING']);
    const { VersionIdsToStages } = await client.send(
      new DescribeSecretCommand({ SecretId: 'spine/test/odoo' }),
    );
    expect(VersionIdsToStages).toEqual({
      [created.VersionId as string]: ['AWSPREVIOUS'],
      [second.VersionId as string]: ['AWSCURRENT'],
      [pending.VersionId as string]: ['AWSPENDING'],
    });
    await expect(
      client.send(
        new UpdateSecretVersionStageCommand({
          SecretId: 'spine/test/odoo',
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: pending.VersionId,
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidRequestException' });
    await expect(
      client.send(new GetSecretValueCommand({ SecretId: 'spine/test/missing' })),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    const versions =
      (await client.send(new ListSecretVersionIdsCommand({ SecretId: 'spine/test/odoo' })))
        .Versions ?? [];
    expect(versions).toHaveLength(3);
  });

  it('rotates through createSecret, setSecret, testSecret and finishSecret, and a rerun of a step does no harm', async () => {
    await client.send(
      new CreateSecretCommand({ Name: 'odoo', SecretString: '{"password":"old"}' }),
    );
    const { VersionId } = await client.send(
      new RotateSecretCommand({
        SecretId: 'odoo',
        RotationLambdaARN: 'arn:aws:lambda:us-east-1:000000000000:function:rotate-odoo',
      }),
    );
    await manager.rotationsSettled();
    expect(steps.map((s) => s.Step)).toEqual([
      'createSecret',
      'setSecret',
      'testSecret',
      'finishSecret',
    ]);
    expect(new Set(steps.map((s) => s.ClientRequestToken))).toEqual(new Set([VersionId]));
    const current = await client.send(new GetSecretValueCommand({ SecretId: 'odoo' }));
    expect(current.VersionId).toBe(VersionId);
    expect(
      (
        await client.send(
          new GetSecretValueCommand({ SecretId: 'odoo', VersionStage: 'AWSPREVIOUS' }),
        )
      ).SecretString,
    ).toBe('{"password":"old"}');
    await rotation({ ...(steps[0] as RotationEvent), Step: 'createSecret' });
    await rotation({ ...(steps[0] as RotationEvent), Step: 'finishSecret' });
    expect((await client.send(new GetSecretValueCommand({ SecretId: 'odoo' }))).VersionId).toBe(
      VersionId,
    );
    expect(
      (await client.send(new DescribeSecretCommand({ SecretId: 'odoo' }))).LastRotatedDate,
    ).toBeInstanceOf(Date);
  });

  it('leaves AWSCURRENT working when a rotation fails its test, says so, and retries the same rotation next time', async () => {
    const failures: RotationFailure[] = [];
    manager.events.on('rotation-failed', (failure: RotationFailure) => failures.push(failure));
    const created = await client.send(
      new CreateSecretCommand({ Name: 'odoo', SecretString: '{"password":"old"}' }),
    );
    failTest = true;
    const first = await client.send(
      new RotateSecretCommand({ SecretId: 'odoo', RotationLambdaARN: 'rotate-odoo' }),
    );
    await manager.rotationsSettled();
    expect(failures).toEqual([
      {
        secretName: 'odoo',
        secretArn: created.ARN,
        versionId: first.VersionId,
        step: 'testSecret',
        error: 'the new password does not work',
      },
    ]);
    // As in AWS: the pending version waits, labelled AWSPENDING, for the next attempt.
    expect(
      (await client.send(new DescribeSecretCommand({ SecretId: 'odoo' }))).VersionIdsToStages?.[
        first.VersionId as string
      ],
    ).toEqual(['AWSPENDING']);
    expect((await client.send(new GetSecretValueCommand({ SecretId: 'odoo' }))).SecretString).toBe(
      '{"password":"old"}',
    );
    failTest = false;
    const second = await client.send(new RotateSecretCommand({ SecretId: 'odoo' }));
    await manager.rotationsSettled();
    expect(second.VersionId).toBe(first.VersionId);
    expect((await client.send(new GetSecretValueCommand({ SecretId: 'odoo' }))).VersionId).toBe(
      first.VersionId,
    );
  });
});

describe('local Secrets Manager input checks', () => {
  async function raw(action: string, input: unknown) {
    const response = await fetch(manager.url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-amz-json-1.1',
        'X-Amz-Target': `secretsmanager.${action}`,
      },
      body: JSON.stringify(input),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  it('refuses wrongly typed stages and rotation rules, and a string and a binary value together', async () => {
    await client.send(new CreateSecretCommand({ Name: 'typed', SecretString: 'v1' }));
    expect(
      await raw('PutSecretValue', { SecretId: 'typed', SecretString: 'v2', VersionStages: [5] }),
    ).toMatchObject({
      status: 400,
      body: { __type: 'com.amazon.coral.service#SerializationException' },
    });
    expect(
      await raw('PutSecretValue', { SecretId: 'typed', SecretString: 'v2', SecretBinary: 'djI=' }),
    ).toMatchObject({ status: 400, body: { __type: 'InvalidParameterException' } });
    expect(
      await raw('CreateSecret', { Name: 'both', SecretString: 'v', SecretBinary: 'dg==' }),
    ).toMatchObject({ status: 400, body: { __type: 'InvalidParameterException' } });
    expect(
      await raw('RotateSecret', {
        SecretId: 'typed',
        RotationLambdaARN: 'rotate-odoo',
        RotationRules: 'daily',
      }),
    ).toMatchObject({
      status: 400,
      body: { __type: 'com.amazon.coral.service#SerializationException' },
    });
    expect(
      await raw('RotateSecret', {
        SecretId: 'typed',
        RotationLambdaARN: 'rotate-odoo',
        RotationRules: { AutomaticallyAfterDays: 0 },
      }),
    ).toMatchObject({ status: 400, body: { __type: 'InvalidParameterException' } });
    // Nothing of the refused calls stuck: no rotation set up, one version, still v1.
    const described = await client.send(new DescribeSecretCommand({ SecretId: 'typed' }));
    expect(described.RotationEnabled).toBe(false);
    expect(Object.keys(described.VersionIdsToStages ?? {})).toHaveLength(1);
    expect((await client.send(new GetSecretValueCommand({ SecretId: 'typed' }))).SecretString).toBe(
      'v1',
    );
    expect((await raw('ListSecrets', {})).body.SecretList).toHaveLength(1);
  });

  it('survives a client that announces a long body and hangs up', async () => {
    const socket = connect(manager.port, '127.0.0.1');
    await new Promise<void>((resolve) =>
      socket.write(
        'POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: secretsmanager.ListSecrets\r\nContent-Length: 100000\r\n\r\n{"Ma',
        () => resolve(),
      ),
    );
    socket.destroy();
    expect((await raw('ListSecrets', {})).status).toBe(200);
  });
});
