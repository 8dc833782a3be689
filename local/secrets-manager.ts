/**
 * A Secrets Manager-compatible endpoint (AWS JSON 1.1, `X-Amz-Target: secretsmanager.<Action>`):
 * versions with staging labels that behave as in AWS (moving AWSCURRENT makes the old version
 * AWSPREVIOUS), and RotateSecret running a local rotation handler through createSecret,
 * setSecret, testSecret and finishSecret, as AWS invokes a rotation Lambda.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { dirname } from 'node:path';
import {
  AwsError,
  parseAwsJsonRequest,
  readInteger,
  readMap,
  readString,
  readStringList,
  sendAwsError,
  sendAwsJson,
} from './aws-json.ts';
import { close, listen } from './listen.ts';

const CONTENT_TYPE = 'application/x-amz-json-1.1';
const ACCOUNT = '000000000000';
const REGION = 'us-east-1';

export type RotationStep = 'createSecret' | 'setSecret' | 'testSecret' | 'finishSecret';

/** What AWS sends a rotation Lambda. */
export interface RotationEvent {
  readonly Step: RotationStep;
  readonly SecretId: string;
  readonly ClientRequestToken: string;
  readonly RotationToken?: string;
}

export type RotationHandler = (event: RotationEvent) => Promise<unknown>;

/** A rotation that stopped: in AWS this is only in the rotation Lambda's logs. */
export interface RotationFailure {
  readonly secretName: string;
  readonly secretArn: string;
  /** The version left labelled AWSPENDING, which the next RotateSecret retries. */
  readonly versionId: string;
  /** The step that threw; absent when no handler could be invoked at all. */
  readonly step?: RotationStep;
  readonly error: string;
}

interface Version {
  id: string;
  value?: string;
  binary?: string;
  stages: string[];
  createdAt: number;
  lastAccessedAt?: number;
}

interface Secret {
  name: string;
  arn: string;
  description?: string;
  createdAt: number;
  changedAt: number;
  rotationLambdaArn?: string;
  rotationRules?: Record<string, unknown>;
  rotationEnabled: boolean;
  lastRotatedAt?: number;
  lastRotationError?: string;
  versions: Version[];
}

export interface LocalSecretsManager {
  readonly url: string;
  readonly port: number;
  /**
   * `rotation-failed` with a {@link RotationFailure}. With no listener the failure is written to
   * stderr, so a failed rotation is never silent.
   */
  readonly events: EventEmitter;
  /** Resolves when every rotation started so far has finished (or failed). */
  rotationsSettled(): Promise<void>;
  stop(): Promise<void>;
}

const notFound = () =>
  new AwsError(
    'ResourceNotFoundException',
    "Secrets Manager can't find the specified secret.",
    400,
  );
const invalidRequest = (message: string) => new AwsError('InvalidRequestException', message, 400);
const invalidParameter = (message: string) =>
  new AwsError('InvalidParameterException', message, 400);

/** SecretString or SecretBinary, never both, as AWS requires. */
function readValue(input: Record<string, unknown>) {
  const value = readString(input, 'SecretString');
  const binary = readString(input, 'SecretBinary');
  if (value !== undefined && binary !== undefined)
    throw invalidParameter(
      "You can't specify both a binary secret value and a string secret value in the same secret.",
    );
  return { value, binary };
}

function readRotationRules(input: Record<string, unknown>): Record<string, unknown> | undefined {
  const rules = readMap(input, 'RotationRules');
  if (!rules) return undefined;
  const days = rules.AutomaticallyAfterDays;
  if (days !== undefined && (typeof days !== 'number' || !Number.isInteger(days)))
    throw new AwsError(
      'SerializationException',
      `RotationRules.AutomaticallyAfterDays must be an integer, got ${JSON.stringify(days)}.`,
      400,
      undefined,
      'com.amazon.coral.service#',
    );
  if (typeof days === 'number' && (days < 1 || days > 1000))
    throw invalidParameter(
      `RotationRules.AutomaticallyAfterDays must be between 1 and 1000, got ${days}.`,
    );
  readString(rules, 'ScheduleExpression');
  readString(rules, 'Duration');
  return rules;
}

export async function startLocalSecretsManager(
  options: {
    port?: number;
    host?: string;
    file?: string;
    rotationHandlers?: Record<string, RotationHandler>;
  } = {},
): Promise<LocalSecretsManager> {
  const secrets = new Map<string, Secret>();
  const rotations = new Set<Promise<void>>();
  const events = new EventEmitter();
  const rotationFailed = (failure: RotationFailure) => {
    if (events.emit('rotation-failed', failure)) return;
    console.error(
      `local Secrets Manager: rotation of ${failure.secretName} failed${failure.step ? ` at ${failure.step}` : ''}: ${failure.error}`,
    );
  };
  if (options.file && existsSync(options.file)) {
    for (const secret of JSON.parse(readFileSync(options.file, 'utf8')) as Secret[])
      secrets.set(secret.name, secret);
  }
  const save = () => {
    if (!options.file) return;
    mkdirSync(dirname(options.file), { recursive: true });
    writeFileSync(`${options.file}.tmp`, JSON.stringify([...secrets.values()]));
    renameSync(`${options.file}.tmp`, options.file);
  };

  const find = (id: string): Secret => {
    const secret = secrets.get(id) ?? [...secrets.values()].find((s) => s.arn === id);
    if (!secret) throw notFound();
    return secret;
  };

  /** Moves `stage` to `version`; moving AWSCURRENT labels the old current AWSPREVIOUS. */
  const moveStage = (secret: Secret, stage: string, version: Version) => {
    const holder = secret.versions.find((v) => v.stages.includes(stage));
    if (holder === version) return;
    if (holder) holder.stages = holder.stages.filter((s) => s !== stage);
    if (stage === 'AWSCURRENT' && holder) {
      for (const v of secret.versions) v.stages = v.stages.filter((s) => s !== 'AWSPREVIOUS');
      holder.stages.push('AWSPREVIOUS');
    }
    version.stages.push(stage);
    // Versions without any label are deprecated and eventually removed, as in AWS.
    secret.versions = secret.versions.filter(
      (v) => v.stages.length > 0 || secret.versions.indexOf(v) >= secret.versions.length - 100,
    );
  };

  const putVersion = (
    secret: Secret,
    token: string | undefined,
    value: string | undefined,
    binary: string | undefined,
    stages: string[],
  ) => {
    if (value === undefined && binary === undefined)
      throw invalidRequest('You must provide either SecretString or SecretBinary.');
    const id = token ?? randomUUID();
    if (token !== undefined && !/^[A-Za-z0-9-]{32,64}$/.test(token)) {
      throw new AwsError(
        'InvalidParameterException',
        'ClientRequestToken must be 32 to 64 characters long.',
        400,
      );
    }
    const existing = secret.versions.find((v) => v.id === id);
    // RotateSecret made this version, labelled AWSPENDING, with no value yet: this fills it.
    if (existing && existing.value === undefined && existing.binary === undefined) {
      Object.assign(existing, value !== undefined ? { value } : { binary });
      for (const stage of stages) moveStage(secret, stage, existing);
      secret.changedAt = Date.now();
      return existing;
    }
    if (existing) {
      if (existing.value !== value || existing.binary !== binary) {
        throw new AwsError(
          'ResourceExistsException',
          `You can't modify an existing version, you can only create a new version.`,
          400,
        );
      }
      return existing;
    }
    const version: Version = {
      id,
      ...(value !== undefined ? { value } : {}),
      ...(binary !== undefined ? { binary } : {}),
      stages: [],
      createdAt: Date.now(),
    };
    secret.versions.push(version);
    for (const stage of stages) moveStage(secret, stage, version);
    secret.changedAt = Date.now();
    return version;
  };

  const describeVersions = (secret: Secret) =>
    Object.fromEntries(
      secret.versions.filter((v) => v.stages.length > 0).map((v) => [v.id, v.stages]),
    );

  const epoch = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000);

  async function rotate(secret: Secret, token: string) {
    const handler = secret.rotationLambdaArn
      ? (options.rotationHandlers?.[secret.rotationLambdaArn] ??
        options.rotationHandlers?.[secret.rotationLambdaArn.split(':').at(-1) ?? ''])
      : undefined;
    const failed = (error: string, step?: RotationStep) => {
      secret.lastRotationError = error;
      rotationFailed({
        secretName: secret.name,
        secretArn: secret.arn,
        versionId: token,
        ...(step ? { step } : {}),
        error,
      });
    };
    if (!handler) return failed(`no local rotation handler for ${secret.rotationLambdaArn}`);
    let step: RotationStep = 'createSecret';
    try {
      for (step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const) {
        await handler({
          Step: step,
          SecretId: secret.arn,
          ClientRequestToken: token,
          RotationToken: randomUUID(),
        });
      }
      // As in AWS, a finished rotation leaves the new version AWSCURRENT only.
      const promoted = secret.versions.find((v) => v.id === token);
      if (promoted?.stages.includes('AWSCURRENT'))
        promoted.stages = promoted.stages.filter((s) => s !== 'AWSPENDING');
      secret.lastRotatedAt = Date.now();
      secret.lastRotationError = undefined;
    } catch (error) {
      // AWS leaves AWSPENDING in place: the next RotateSecret reattempts the same rotation.
      failed(error instanceof Error ? error.message : String(error), step);
    } finally {
      save();
    }
  }

  const actions: Record<string, (input: Record<string, unknown>) => Promise<unknown>> = {
    async CreateSecret(input) {
      const name = readString(input, 'Name', true);
      if (!/^[A-Za-z0-9/_+=.@-]{1,512}$/.test(name))
        throw new AwsError(
          'InvalidParameterException',
          'Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!',
          400,
        );
      if (secrets.has(name))
        throw new AwsError(
          'ResourceExistsException',
          `The operation failed because the secret ${name} already exists.`,
          400,
        );
      const now = Date.now();
      const secret: Secret = {
        name,
        arn: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}-${randomUUID().slice(0, 6)}`,
        description: readString(input, 'Description'),
        createdAt: now,
        changedAt: now,
        rotationEnabled: false,
        versions: [],
      };
      const { value, binary } = readValue(input);
      secrets.set(name, secret);
      let versionId: string | undefined;
      if (value !== undefined || binary !== undefined)
        versionId = putVersion(secret, readString(input, 'ClientRequestToken'), value, binary, [
          'AWSCURRENT',
        ]).id;
      save();
      return { ARN: secret.arn, Name: secret.name, ...(versionId ? { VersionId: versionId } : {}) };
    },
    async GetSecretValue(input) {
      const secret = find(readString(input, 'SecretId', true));
      const versionId = readString(input, 'VersionId');
      const stage = readString(input, 'VersionStage') ?? (versionId ? undefined : 'AWSCURRENT');
      const version = secret.versions.find(
        (v) =>
          (!versionId || v.id === versionId) &&
          (!stage || v.stages.includes(stage)) &&
          (v.value !== undefined || v.binary !== undefined),
      );
      if (!version) {
        throw new AwsError(
          'ResourceNotFoundException',
          `Secrets Manager can't find the specified secret value for ${versionId ? `VersionId: ${versionId}` : `staging label: ${stage}`}`,
          400,
        );
      }
      version.lastAccessedAt = Date.now();
      return {
        ARN: secret.arn,
        Name: secret.name,
        VersionId: version.id,
        ...(version.value !== undefined
          ? { SecretString: version.value }
          : { SecretBinary: version.binary }),
        VersionStages: version.stages,
        CreatedDate: epoch(version.createdAt),
      };
    },
    async PutSecretValue(input) {
      const secret = find(readString(input, 'SecretId', true));
      const stages = readStringList(input, 'VersionStages') ?? ['AWSCURRENT'];
      const { value, binary } = readValue(input);
      const version = putVersion(
        secret,
        readString(input, 'ClientRequestToken'),
        value,
        binary,
        stages,
      );
      save();
      return {
        ARN: secret.arn,
        Name: secret.name,
        VersionId: version.id,
        VersionStages: version.stages,
      };
    },
    async DescribeSecret(input) {
      const secret = find(readString(input, 'SecretId', true));
      return {
        ARN: secret.arn,
        Name: secret.name,
        ...(secret.description ? { Description: secret.description } : {}),
        RotationEnabled: secret.rotationEnabled,
        ...(secret.rotationLambdaArn ? { RotationLambdaARN: secret.rotationLambdaArn } : {}),
        ...(secret.rotationRules ? { RotationRules: secret.rotationRules } : {}),
        ...(secret.lastRotatedAt ? { LastRotatedDate: epoch(secret.lastRotatedAt) } : {}),
        LastChangedDate: epoch(secret.changedAt),
        CreatedDate: epoch(secret.createdAt),
        VersionIdsToStages: describeVersions(secret),
      };
    },
    async ListSecretVersionIds(input) {
      const secret = find(readString(input, 'SecretId', true));
      const includeDeprecated = input.IncludeDeprecated === true;
      return {
        ARN: secret.arn,
        Name: secret.name,
        Versions: secret.versions
          .filter((v) => includeDeprecated || v.stages.length > 0)
          .map((v) => ({
            VersionId: v.id,
            VersionStages: v.stages,
            CreatedDate: epoch(v.createdAt),
            ...(v.lastAccessedAt ? { LastAccessedDate: epoch(v.lastAccessedAt) } : {}),
          })),
      };
    },
    async UpdateSecretVersionStage(input) {
      const secret = find(readString(input, 'SecretId', true));
      const stage = readString(input, 'VersionStage', true);
      const moveTo = readString(input, 'MoveToVersionId');
      const removeFrom = readString(input, 'RemoveFromVersionId');
      const holder = secret.versions.find((v) => v.stages.includes(stage));
      if (holder && moveTo && holder.id !== moveTo && holder.id !== removeFrom) {
        throw invalidRequest(
          `The staging label ${stage} is currently attached to version ${holder.id}. Specify that version as RemoveFromVersionId to move it.`,
        );
      }
      if (removeFrom) {
        const from = secret.versions.find((v) => v.id === removeFrom);
        if (!from?.stages.includes(stage))
          throw invalidRequest(
            `The staging label ${stage} is not attached to version ${removeFrom}.`,
          );
        if (!moveTo) {
          if (stage === 'AWSCURRENT')
            throw invalidRequest(
              'You can only move staging label AWSCURRENT to a different secret version. It can’t be completely removed.',
            );
          from.stages = from.stages.filter((s) => s !== stage);
        }
      }
      if (moveTo) {
        const to = secret.versions.find((v) => v.id === moveTo);
        if (!to)
          throw new AwsError(
            'ResourceNotFoundException',
            `Secrets Manager can't find the specified secret value for VersionId: ${moveTo}`,
            400,
          );
        moveStage(secret, stage, to);
      }
      secret.changedAt = Date.now();
      save();
      return { ARN: secret.arn, Name: secret.name };
    },
    async RotateSecret(input) {
      const secret = find(readString(input, 'SecretId', true));
      const lambda = readString(input, 'RotationLambdaARN');
      const rules = readRotationRules(input);
      const requestToken = readString(input, 'ClientRequestToken');
      if (lambda) secret.rotationLambdaArn = lambda;
      if (rules) secret.rotationRules = rules;
      if (!secret.rotationLambdaArn)
        throw invalidRequest('No Lambda rotation function ARN is associated with this secret.');
      secret.rotationEnabled = true;
      // An unfinished rotation (AWSPENDING on a version that is not current) is reattempted.
      const pending = secret.versions.find(
        (v) => v.stages.includes('AWSPENDING') && !v.stages.includes('AWSCURRENT'),
      );
      const token = pending?.id ?? requestToken ?? randomUUID();
      if (!pending) {
        // As AWS does, the new version exists from the start, labelled AWSPENDING, without a
        // value: the rotation function's createSecret step fills it.
        const placeholder: Version = { id: token, stages: [], createdAt: Date.now() };
        secret.versions.push(placeholder);
        moveStage(secret, 'AWSPENDING', placeholder);
      }
      save();
      if (input.RotateImmediately !== false) {
        const run = rotate(secret, token);
        rotations.add(run);
        void run.finally(() => rotations.delete(run));
      }
      return { ARN: secret.arn, Name: secret.name, VersionId: token };
    },
    async GetRandomPassword(input) {
      const length = readInteger(input, 'PasswordLength', 1, 4096) ?? 32;
      const exclude = readString(input, 'ExcludeCharacters') ?? '';
      let alphabet = '';
      if (input.ExcludeLowercase !== true) alphabet += 'abcdefghijklmnopqrstuvwxyz';
      if (input.ExcludeUppercase !== true) alphabet += 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
      if (input.ExcludeNumbers !== true) alphabet += '0123456789';
      if (input.ExcludePunctuation !== true) alphabet += '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';
      if (input.IncludeSpace === true) alphabet += ' ';
      alphabet = [...alphabet].filter((c) => !exclude.includes(c)).join('');
      if (!alphabet) throw invalidRequest('The password has no characters left to choose from.');
      return {
        RandomPassword: Array.from({ length }, () => alphabet[randomInt(alphabet.length)]).join(''),
      };
    },
    async ListSecrets() {
      return {
        SecretList: [...secrets.values()].map((s) => ({
          ARN: s.arn,
          Name: s.name,
          RotationEnabled: s.rotationEnabled,
          LastChangedDate: epoch(s.changedAt),
          SecretVersionsToStages: describeVersions(s),
        })),
      };
    },
    async DeleteSecret(input) {
      const secret = find(readString(input, 'SecretId', true));
      secrets.delete(secret.name);
      save();
      return { ARN: secret.arn, Name: secret.name, DeletionDate: Date.now() / 1000 };
    },
  };

  const server: Server = createServer(async (req, res) => {
    try {
      const { action, input } = await parseAwsJsonRequest(req, 'secretsmanager', 1024 * 1024);
      const handler = actions[action];
      if (!handler)
        throw new AwsError(
          'UnknownOperationException',
          `Unknown operation ${action}`,
          400,
          undefined,
          'com.amazon.coral.service#',
        );
      sendAwsJson(res, 200, await handler(input), CONTENT_TYPE);
    } catch (error) {
      if (error instanceof AwsError) return sendAwsError(res, error, CONTENT_TYPE);
      sendAwsError(
        res,
        new AwsError('InternalServiceError', (error as Error).message, 500),
        CONTENT_TYPE,
      );
    }
  });
  const port = await listen(server, options.port ?? 0, options.host ?? '127.0.0.1');
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    events,
    rotationsSettled: async () => {
      while (rotations.size > 0) await Promise.allSettled([...rotations]);
    },
    stop: () => close(server),
  };
}
