/**
 * Rotating the Odoo credential with Secrets Manager's four steps. Two strategies, chosen by
 * the secret's content and the Odoo it talks to: an API key on Odoo 19+ (generate a new key,
 * test it, promote it, revoke the old one only after promotion) and a password everywhere else
 * (change_password from current to pending, test, promote). Every step can run again with the
 * same token and do no harm, and a failed step leaves AWSCURRENT working.
 */

import { ConfigurationError } from '../errors/configuration-error.ts';
import type { OdooClient, OdooClientConfig } from '../odoo/client.ts';
import { OdooUserError } from '../odoo/errors/index.ts';
import { type OdooAddress, type OdooProtocol, odooAddress } from '../platform/odoo-address.ts';
import { PendingCredentialRejected } from './pending-credential-rejected.ts';

export type RotationStep = 'createSecret' | 'setSecret' | 'testSecret' | 'finishSecret';
export type RotationStrategy = 'api-key' | 'password';

/** The secret's value: a login and its password or API key (`url`, ... only in older secrets). */
export interface OdooCredential {
  readonly login: string;
  readonly password?: string;
  readonly apiKey?: string;
  readonly url?: string;
  readonly database?: string;
  readonly protocol?: OdooProtocol;
  /** The key this one replaced, kept until finishSecret revokes it. */
  readonly previousApiKey?: string;
}

/** The Secrets Manager calls rotation needs (an adapter over the SDK, or a fake in tests). */
export interface SecretVersions {
  /** Stages of each version id. */
  stages(secretId: string): Promise<Record<string, readonly string[]>>;
  value(
    secretId: string,
    selector: { versionId?: string; stage?: string },
  ): Promise<OdooCredential | undefined>;
  putPending(secretId: string, token: string, value: OdooCredential): Promise<void>;
  promote(secretId: string, token: string, currentVersionId: string): Promise<void>;
  /** Takes AWSPENDING off a version that is not promoted, so that the next rotation starts anew. */
  dropPending(secretId: string, token: string): Promise<void>;
  randomPassword(): Promise<string>;
}

export interface RotationDependencies {
  readonly secrets: SecretVersions;
  /** Where Odoo is, from the environment (cdk.json); unset parts are read from the secret. */
  readonly odoo?: Partial<OdooAddress>;
  readonly connect: (config: OdooClientConfig) => Promise<OdooClient>;
  readonly log: (message: string, fields?: Record<string, unknown>) => void;
}

/** The first Odoo whose API keys can be generated and revoked over RPC. */
const API_KEY_ROTATION_SINCE = 19;

function clientConfig(
  credential: OdooCredential,
  strategy: RotationStrategy,
  deps: RotationDependencies,
): OdooClientConfig {
  return {
    ...odooAddress(deps.odoo ?? {}, credential),
    login: credential.login,
    // Each strategy logs in with the credential it rotates, so a test proves that one.
    secret: (strategy === 'api-key' ? credential.apiKey : credential.password) as string,
    guard: { retries: 2 },
  };
}

/**
 * API key when the secret holds one and Odoo (major `version`) can make keys over RPC,
 * otherwise password: before 19 keys can only be made interactively.
 */
export function strategyOf(
  credential: OdooCredential,
  version: number | undefined,
): RotationStrategy {
  if (credential.apiKey && (version ?? 0) >= API_KEY_ROTATION_SINCE) return 'api-key';
  if (credential.password) return 'password';
  if (credential.apiKey)
    throw new ConfigurationError(
      `the Odoo credential holds only an API key, and Odoo ${version ?? '(version unknown)'} cannot generate keys over RPC (Odoo 19+ can)`,
      'store the integration user\'s "password" in the secret to rotate it, or rotate the key by hand',
    );
  throw new ConfigurationError(
    'the Odoo credential has neither "apiKey" nor "password"',
    'store one of them in the secret before rotating it',
  );
}

/** Odoo's major version, read from /web/version (connecting does not log in). */
async function odooVersion(
  credential: OdooCredential,
  deps: RotationDependencies,
): Promise<number | undefined> {
  const odoo = await deps.connect({
    ...odooAddress(deps.odoo ?? {}, credential),
    login: credential.login,
    secret: (credential.apiKey ?? credential.password) as string,
    // A fixed protocol skips detection, and the version is what is asked for here.
    protocol: 'auto',
    guard: { retries: 2 },
  });
  return odoo.version;
}

export async function rotateOdooCredential(
  event: { Step: RotationStep; SecretId: string; ClientRequestToken: string },
  deps: RotationDependencies,
): Promise<void> {
  const { Step: step, SecretId: secretId, ClientRequestToken: token } = event;
  const stages = await deps.secrets.stages(secretId);
  const tokenStages = stages[token];
  if (!tokenStages)
    throw new ConfigurationError(
      `version ${token} of ${secretId} does not exist`,
      'start the rotation with RotateSecret',
    );
  if (tokenStages.includes('AWSCURRENT')) {
    // A re-run of finishSecret after the promotion: the revocation may be what failed.
    if (step === 'finishSecret') {
      const promoted = await deps.secrets.value(secretId, { versionId: token });
      if (promoted) await revokePreviousKey(promoted, deps);
    }
    deps.log('rotation already finished for this version', { step, token });
    return;
  }
  if (!tokenStages.includes('AWSPENDING'))
    throw new ConfigurationError(
      `version ${token} of ${secretId} is not AWSPENDING`,
      'start a new rotation',
    );
  const currentId = Object.entries(stages).find(([, s]) => s.includes('AWSCURRENT'))?.[0] as string;
  const current = await deps.secrets.value(secretId, { stage: 'AWSCURRENT' });
  const pendingValue = () =>
    deps.secrets.value(secretId, { versionId: token, stage: 'AWSPENDING' }) as Promise<
      OdooCredential | undefined
    >;
  // The stack creates the secret without a credential, and Secrets Manager runs testSecret as
  // soon as the schedule exists: until an operator stores a login there is nothing to rotate, and
  // failing would fail the deploy or raise the rotation alarm. A rotation whose createSecret
  // found nothing has no pending value in its later steps, even if a login arrived since.
  const skip = async (reason: string) => {
    if (step === 'finishSecret') await deps.secrets.dropPending(secretId, token);
    deps.log(reason, { step, token });
  };
  if (!current?.login) return skip('no Odoo credential stored yet: nothing to rotate');
  if (step !== 'createSecret' && !(await pendingValue()))
    return skip('no pending credential (createSecret found none to rotate): nothing to do');
  const strategy = strategyOf(current, await odooVersion(current, deps));

  switch (step) {
    case 'createSecret': {
      if (await pendingValue()) return;
      let pending: OdooCredential;
      if (strategy === 'api-key') {
        // A key an earlier rotation failed to revoke goes first: it would never be revoked later.
        await revokePreviousKey(current, deps);
        const odoo = await deps.connect(clientConfig(current, strategy, deps));
        // Named after the rotation, so an operator can tell Spine's keys apart in Odoo.
        const key = (await odoo.call('res.users.apikeys', 'generate', {
          args: {
            key: null,
            scope: 'rpc',
            name: `spine rotation ${token.slice(0, 8)}`,
            expiration_date: null,
          },
        })) as string;
        pending = { ...current, apiKey: key, previousApiKey: current.apiKey };
      } else {
        pending = { ...current, password: await deps.secrets.randomPassword() };
      }
      await deps.secrets.putPending(secretId, token, pending);
      deps.log('created the pending credential', { strategy, token });
      return;
    }
    case 'setSecret': {
      if (strategy === 'api-key') return; // the key exists in Odoo since createSecret
      const pending = (await pendingValue()) as OdooCredential;
      // Already set by an earlier run of this step: the pending password works.
      if ((await probe(pending, strategy, deps)) === undefined) return;
      const odoo = await deps.connect(clientConfig(current, strategy, deps));
      await odoo.call('res.users', 'change_password', {
        args: { old_passwd: current.password, new_passwd: pending.password },
      });
      deps.log('changed the Odoo password', { token });
      // Odoo now has the pending password while AWSCURRENT still holds the old one: if the new
      // one does not work, put the old one back before failing.
      await testPending(secretId, current, pending, strategy, deps);
      return;
    }
    case 'testSecret': {
      await testPending(
        secretId,
        current,
        (await pendingValue()) as OdooCredential,
        strategy,
        deps,
      );
      return;
    }
    case 'finishSecret': {
      const pending = (await pendingValue()) as OdooCredential;
      await deps.secrets.promote(secretId, token, currentId);
      // Only now that every reader gets the new key is the old one revoked.
      if (strategy === 'api-key') await revokePreviousKey(pending, deps);
      deps.log('promoted the new credential', { strategy, token });
      return;
    }
  }
}

/**
 * Fails, leaving the AWSCURRENT credential working in Odoo, unless the pending one works: a
 * pending key that does not work is revoked, a pending password that was set is changed back.
 */
async function testPending(
  secretId: string,
  current: OdooCredential,
  pending: OdooCredential,
  strategy: RotationStrategy,
  deps: RotationDependencies,
): Promise<void> {
  const failure = await probe(pending, strategy, deps);
  if (failure === undefined) return;
  const restored =
    strategy === 'api-key'
      ? await discardPendingKey(current, pending, deps)
      : await restorePassword(current, pending, deps);
  throw new PendingCredentialRejected(
    `the pending Odoo credential of ${secretId} does not work (${errorText(failure)}); ${
      restored
        ? 'AWSCURRENT is unchanged and still logs in'
        : "AWSCURRENT does not log in either: set the integration user's password in Odoo to the AWSCURRENT one by hand"
    }`,
    'find why the new credential fails (rights, login cooldown, Odoo reachable), then rotate again',
    { cause: failure },
  );
}

/** Revokes a generated key that failed its test, so none piles up towards Odoo's key limit. */
async function discardPendingKey(
  current: OdooCredential,
  pending: OdooCredential,
  deps: RotationDependencies,
): Promise<boolean> {
  if (pending.apiKey && pending.apiKey !== current.apiKey) {
    try {
      const odoo = await deps.connect(clientConfig(current, 'api-key', deps));
      await odoo.call('res.users.apikeys', 'revoke', { args: { key: pending.apiKey } });
    } catch (error) {
      deps.log('could not revoke the pending API key', { error: errorText(error) });
    }
  }
  return (await probe(current, 'api-key', deps)) === undefined;
}

/** Puts the AWSCURRENT password back when Odoo has the pending one; true when AWSCURRENT logs in. */
async function restorePassword(
  current: OdooCredential,
  pending: OdooCredential,
  deps: RotationDependencies,
): Promise<boolean> {
  if ((await probe(current, 'password', deps)) === undefined) return true;
  try {
    const odoo = await deps.connect(clientConfig(pending, 'password', deps));
    await odoo.call('res.users', 'change_password', {
      args: { old_passwd: pending.password, new_passwd: current.password },
    });
    deps.log('changed the Odoo password back to the AWSCURRENT one');
  } catch (error) {
    deps.log('could not change the Odoo password back', { error: errorText(error) });
  }
  return (await probe(current, 'password', deps)) === undefined;
}

/** Revokes `previousApiKey`; a key already revoked (a re-run) is fine. */
async function revokePreviousKey(
  credential: OdooCredential,
  deps: RotationDependencies,
): Promise<void> {
  if (!credential.previousApiKey || !credential.apiKey) return;
  if (credential.previousApiKey === credential.apiKey) return;
  const odoo = await deps.connect(clientConfig(credential, 'api-key', deps));
  try {
    await odoo.call('res.users.apikeys', 'revoke', { args: { key: credential.previousApiKey } });
    deps.log('revoked the previous API key');
  } catch (error) {
    if (!(error instanceof OdooUserError)) throw error; // already revoked
  }
}

/** Logs in with the credential and reads: undefined when that works, else the error. */
async function probe(
  credential: OdooCredential,
  strategy: RotationStrategy,
  deps: RotationDependencies,
): Promise<Error | undefined> {
  try {
    const odoo = await deps.connect({
      ...clientConfig(credential, strategy, deps),
      guard: { retries: 0 },
    });
    await odoo.searchCount('res.partner', [['id', '=', 0]]);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
