/** The Secrets Manager rotation Lambda for the Odoo credential: adapts the event to rotateOdooCredential. */
import {
  DescribeSecretCommand,
  GetRandomPasswordCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { OdooClient } from '../odoo/client.ts';
import { readOdooAddress } from '../platform/odoo-address.ts';
import { createLogger } from '../platform/powertools.ts';
import {
  type OdooCredential,
  type RotationStep,
  rotateOdooCredential,
  type SecretVersions,
} from '../rotation/rotate.ts';

const logger = createLogger();
let cached: { endpoint: string | undefined; client: SecretsManagerClient } | undefined;

/** One client per container; a new one only if the endpoint changed (several local runtimes in one test process). */
function secretsManager(): SecretsManagerClient {
  const endpoint = process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER;
  if (!cached || cached.endpoint !== endpoint)
    cached = { endpoint, client: new SecretsManagerClient({}) };
  return cached.client;
}

const versions: SecretVersions = {
  async stages(secretId) {
    return (
      (await secretsManager().send(new DescribeSecretCommand({ SecretId: secretId })))
        .VersionIdsToStages ?? {}
    );
  },
  async value(secretId, selector) {
    try {
      const answer = await secretsManager().send(
        new GetSecretValueCommand({
          SecretId: secretId,
          VersionId: selector.versionId,
          VersionStage: selector.stage,
        }),
      );
      return JSON.parse(answer.SecretString ?? '{}') as OdooCredential;
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return undefined;
      throw error;
    }
  },
  async putPending(secretId, token, value) {
    await secretsManager().send(
      new PutSecretValueCommand({
        SecretId: secretId,
        ClientRequestToken: token,
        SecretString: JSON.stringify(value),
        VersionStages: ['AWSPENDING'],
      }),
    );
  },
  async promote(secretId, token, currentVersionId) {
    await secretsManager().send(
      new UpdateSecretVersionStageCommand({
        SecretId: secretId,
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: token,
        RemoveFromVersionId: currentVersionId,
      }),
    );
  },
  async dropPending(secretId, token) {
    await secretsManager().send(
      new UpdateSecretVersionStageCommand({
        SecretId: secretId,
        VersionStage: 'AWSPENDING',
        RemoveFromVersionId: token,
      }),
    );
  },
  async randomPassword() {
    return (
      await secretsManager().send(
        new GetRandomPasswordCommand({ PasswordLength: 32, ExcludePunctuation: true }),
      )
    ).RandomPassword as string;
  },
};

export async function handler(event: {
  Step: RotationStep;
  SecretId: string;
  ClientRequestToken: string;
}): Promise<void> {
  logger.info('rotation step', { step: event.Step, token: event.ClientRequestToken });
  await rotateOdooCredential(event, {
    secrets: versions,
    odoo: readOdooAddress(process.env),
    connect: (config) => OdooClient.connect(config),
    log: (message, fields) => logger.info(message, fields ?? {}),
  });
}
