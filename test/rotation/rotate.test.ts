/**
 * The rotation steps against fake Secrets Manager versions and a fake Odoo, for the failures
 * the emulator cannot stage on cue: a revocation lost once, a test that fails after the
 * password was already changed.
 */
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../functions/errors/index.ts';
import type { OdooClient, OdooClientConfig } from '../../functions/odoo/client.ts';
import {
  OdooAccessDenied,
  OdooServerError,
  OdooTransportError,
  OdooUserError,
} from '../../functions/odoo/errors/index.ts';
import { PendingCredentialRejected } from '../../functions/rotation/pending-credential-rejected.ts';
import {
  type OdooCredential,
  type RotationDependencies,
  type RotationStep,
  rotateOdooCredential,
  type SecretVersions,
} from '../../functions/rotation/rotate.ts';

const SECRET = 'spine/test/odoo';
const OLD_KEY = 'a'.repeat(40);

/** One Odoo user: a password, API keys, and failures to inject. */
class FakeOdoo {
  readonly keys = new Set<string>();
  readonly calls: string[] = [];
  /** The URL of each connection made. */
  readonly connections: string[] = [];
  /** The next N revocations lose their answer before reaching Odoo. */
  failRevokes = 0;
  /** The next N test reads fail after a successful login. */
  failReads = 0;
  private generated = 0;

  constructor(
    readonly version: number,
    public password: string,
    keys: readonly string[] = [],
  ) {
    for (const key of keys) this.keys.add(key);
  }

  logsIn(secret: string | undefined): boolean {
    return secret !== undefined && (secret === this.password || this.keys.has(secret));
  }

  connect = async (config: OdooClientConfig): Promise<OdooClient> => {
    this.connections.push(config.url);
    const authenticate = () => {
      if (!this.logsIn(config.secret)) throw new OdooAccessDenied('Access Denied');
    };
    const client = {
      version: this.version,
      searchCount: async () => {
        authenticate();
        if (this.failReads > 0) {
          this.failReads--;
          throw new OdooServerError('the read failed');
        }
        return 0;
      },
      call: async (model: string, method: string, options: { args: Record<string, unknown> }) => {
        this.calls.push(`${model}.${method}`);
        authenticate();
        const { args } = options;
        if (method === 'change_password') {
          if (args.old_passwd !== this.password) throw new OdooAccessDenied('Access Denied');
          this.password = String(args.new_passwd);
          return true;
        }
        if (this.version < 19)
          throw new OdooServerError(`The method '${method}' does not exist on '${model}'`);
        if (method === 'generate') {
          const key = (++this.generated).toString(16).padStart(40, 'b');
          this.keys.add(key);
          return key;
        }
        if (method === 'revoke') {
          if (this.failRevokes > 0) {
            this.failRevokes--;
            throw new OdooTransportError('connection reset', { notProcessed: true });
          }
          if (!this.keys.delete(String(args.key)))
            throw new OdooUserError('The API key does not exist or was already revoked.');
          return true;
        }
        throw new Error(`unexpected call ${model}.${method}`);
      },
    };
    return client as unknown as OdooClient;
  };
}

/** Versions and staging labels as Secrets Manager keeps them. */
class FakeVersions implements SecretVersions {
  readonly versions = new Map<string, { value?: OdooCredential; stages: string[] }>();
  private passwords = 0;

  constructor(current: OdooCredential) {
    this.versions.set('v1', { value: current, stages: ['AWSCURRENT'] });
  }

  private moveStage(stage: string, to: string): void {
    for (const version of this.versions.values())
      version.stages = version.stages.filter((s) => s !== stage);
    this.versions.get(to)?.stages.push(stage);
  }

  /** What RotateSecret does before the first step: a version without a value, AWSPENDING. */
  start(token: string): void {
    this.versions.set(token, { stages: [] });
    this.moveStage('AWSPENDING', token);
  }

  current(): OdooCredential {
    return [...this.versions.values()].find((v) => v.stages.includes('AWSCURRENT'))
      ?.value as OdooCredential;
  }

  currentId(): string | undefined {
    return [...this.versions].find(([, v]) => v.stages.includes('AWSCURRENT'))?.[0];
  }

  async stages() {
    return Object.fromEntries([...this.versions].map(([id, v]) => [id, [...v.stages]]));
  }

  async value(_secretId: string, selector: { versionId?: string; stage?: string }) {
    const found = [...this.versions].find(
      ([id, v]) =>
        (!selector.versionId || id === selector.versionId) &&
        (!selector.stage || v.stages.includes(selector.stage)),
    );
    return found?.[1].value;
  }

  async putPending(_secretId: string, token: string, value: OdooCredential) {
    this.versions.set(token, { value, stages: this.versions.get(token)?.stages ?? [] });
    this.moveStage('AWSPENDING', token);
  }

  async promote(_secretId: string, token: string, currentVersionId: string) {
    this.moveStage('AWSPREVIOUS', currentVersionId);
    this.moveStage('AWSCURRENT', token);
  }

  async dropPending(_secretId: string, token: string) {
    const version = this.versions.get(token);
    if (version) version.stages = version.stages.filter((s) => s !== 'AWSPENDING');
  }

  /** What `put-secret-value` does: a new version, AWSCURRENT. */
  store(versionId: string, value: OdooCredential): void {
    this.versions.set(versionId, { value, stages: [] });
    this.moveStage('AWSPREVIOUS', this.currentId() as string);
    this.moveStage('AWSCURRENT', versionId);
  }

  pendingIds(): string[] {
    return [...this.versions].filter(([, v]) => v.stages.includes('AWSPENDING')).map(([id]) => id);
  }

  async randomPassword() {
    return `password-${++this.passwords}`;
  }
}

function setup(
  odoo: FakeOdoo,
  credential: Partial<OdooCredential>,
  options: { stored?: OdooCredential; address?: RotationDependencies['odoo'] } = {},
) {
  const secrets = new FakeVersions(
    options.stored ?? {
      url: 'https://odoo.example.com',
      database: 'prod',
      login: 'spine@example.com',
      ...credential,
    },
  );
  const logged: string[] = [];
  const deps: RotationDependencies = {
    secrets,
    connect: odoo.connect,
    log: (message) => logged.push(message),
    ...(options.address ? { odoo: options.address } : {}),
  };
  const step = (Step: RotationStep, token: string) =>
    rotateOdooCredential({ Step, SecretId: SECRET, ClientRequestToken: token }, deps);
  const rotate = async (token: string) => {
    secrets.start(token);
    for (const Step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const)
      await step(Step, token);
  };
  return { secrets, step, rotate, logged };
}

/** The secret as the stateful stack creates it: no credential until an operator stores one. */
const AS_DEPLOYED = {} as OdooCredential;
const ADDRESS = { url: 'https://erp.example.com', database: 'production' };

describe('a secret that holds no credential yet (the first deploy)', () => {
  it('passes the testSecret Secrets Manager runs when the schedule is created, without calling Odoo', async () => {
    const odoo = new FakeOdoo(18, 'old-password');
    const { secrets, step, logged } = setup(odoo, {}, { stored: AS_DEPLOYED, address: ADDRESS });
    secrets.start('schedule-test');
    await step('testSecret', 'schedule-test');
    expect(odoo.connections).toEqual([]);
    expect(logged).toEqual(['no Odoo credential stored yet: nothing to rotate']);
  });

  it('lets a scheduled rotation succeed changing nothing, and leaves no AWSPENDING to block the next', async () => {
    const odoo = new FakeOdoo(18, 'old-password');
    const { secrets, rotate } = setup(odoo, {}, { stored: AS_DEPLOYED, address: ADDRESS });
    await rotate('t1');
    expect(secrets.currentId()).toBe('v1');
    expect(secrets.current()).toEqual({});
    expect(secrets.pendingIds()).toEqual([]);
    expect(odoo.connections).toEqual([]);
  });

  it('rotates the credential an operator stored since, at the configured Odoo', async () => {
    const odoo = new FakeOdoo(18, 'stored-password');
    const { secrets, rotate } = setup(odoo, {}, { stored: AS_DEPLOYED, address: ADDRESS });
    await rotate('t1');
    secrets.store('v2', { login: 'spine@example.com', password: 'stored-password' });
    await rotate('t2');
    expect(secrets.currentId()).toBe('t2');
    expect(secrets.current()).toEqual({ login: 'spine@example.com', password: 'password-1' });
    expect(odoo.password).toBe('password-1');
    expect(new Set(odoo.connections)).toEqual(new Set([ADDRESS.url]));
  });

  it('finishes a rotation whose createSecret found nothing without touching a login stored meanwhile', async () => {
    const odoo = new FakeOdoo(18, 'stored-password');
    const { secrets, step } = setup(odoo, {}, { stored: AS_DEPLOYED, address: ADDRESS });
    secrets.start('t1');
    await step('createSecret', 't1');
    secrets.store('v2', { login: 'spine@example.com', password: 'stored-password' });
    for (const Step of ['setSecret', 'testSecret', 'finishSecret'] as const) await step(Step, 't1');
    expect(secrets.currentId()).toBe('v2');
    expect(secrets.pendingIds()).toEqual([]);
    expect(odoo.password).toBe('stored-password');
  });
});

describe('where the rotation finds Odoo', () => {
  it('uses the configured address over the one a secret stored before still holds', async () => {
    const odoo = new FakeOdoo(18, 'old-password');
    const { rotate } = setup(odoo, { password: 'old-password' }, { address: ADDRESS });
    await rotate('t1');
    expect(new Set(odoo.connections)).toEqual(new Set([ADDRESS.url]));
  });

  it('uses the URL of a secret stored before when nothing is configured', async () => {
    const odoo = new FakeOdoo(18, 'old-password');
    const { rotate } = setup(odoo, { password: 'old-password' });
    await rotate('t1');
    expect(new Set(odoo.connections)).toEqual(new Set(['https://odoo.example.com']));
  });

  it('refuses, naming the setting, when neither the configuration nor the secret gives a URL', async () => {
    const odoo = new FakeOdoo(18, 'old-password');
    const { rotate, secrets } = setup(
      odoo,
      {},
      { stored: { login: 'spine@example.com', password: 'old-password' } },
    );
    const error = await rotate('t1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toMatch(/SPINE_ODOO_URL is unset/);
    expect(secrets.currentId()).toBe('v1');
  });
});

describe('choosing the rotation strategy from the secret and the Odoo version', () => {
  it('rotates the password on Odoo 18 even when the secret holds an API key too', async () => {
    const odoo = new FakeOdoo(18, 'old-password', [OLD_KEY]);
    const { secrets, rotate } = setup(odoo, { password: 'old-password', apiKey: OLD_KEY });
    await rotate('t1');
    expect(secrets.currentId()).toBe('t1');
    expect(odoo.password).toBe('password-1');
    expect(secrets.current()).toMatchObject({ password: 'password-1', apiKey: OLD_KEY });
    expect(odoo.calls).not.toContain('res.users.apikeys.generate');
  });

  it('rotates the API key on Odoo 19 when the secret holds one', async () => {
    const odoo = new FakeOdoo(19, 'old-password', [OLD_KEY]);
    const { secrets, rotate } = setup(odoo, { password: 'old-password', apiKey: OLD_KEY });
    await rotate('t1');
    const key = secrets.current().apiKey;
    expect(key).not.toBe(OLD_KEY);
    expect([...odoo.keys]).toEqual([key]);
    expect(odoo.password).toBe('old-password');
  });

  it('refuses, naming Odoo 19, to rotate a key-only secret on Odoo 18, leaving AWSCURRENT alone', async () => {
    const odoo = new FakeOdoo(18, 'old-password', [OLD_KEY]);
    const { secrets, rotate } = setup(odoo, { apiKey: OLD_KEY });
    const error = await rotate('t1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toMatch(/Odoo 18 cannot generate keys.*Odoo 19\+/);
    expect(secrets.currentId()).toBe('v1');
    expect(odoo.keys.has(OLD_KEY)).toBe(true);
  });
});

describe('revoking the previous API key', () => {
  it('revokes it when finishSecret runs again after the revocation failed once', async () => {
    const odoo = new FakeOdoo(19, 'unused', [OLD_KEY]);
    const { secrets, step } = setup(odoo, { apiKey: OLD_KEY });
    secrets.start('t1');
    for (const Step of ['createSecret', 'setSecret', 'testSecret'] as const) await step(Step, 't1');
    odoo.failRevokes = 1;
    await expect(step('finishSecret', 't1')).rejects.toThrow(OdooTransportError);
    // Promoted before the revocation: readers have the new key, the old one still works.
    expect(secrets.currentId()).toBe('t1');
    expect(odoo.logsIn(OLD_KEY)).toBe(true);

    await step('finishSecret', 't1');
    expect(odoo.logsIn(OLD_KEY)).toBe(false);
    expect(odoo.logsIn(secrets.current().apiKey)).toBe(true);
    // Once more: revoking a revoked key is no error.
    await step('finishSecret', 't1');
    expect(odoo.logsIn(secrets.current().apiKey)).toBe(true);
  });

  it('revokes it at the next rotation when no re-run came', async () => {
    const odoo = new FakeOdoo(19, 'unused', [OLD_KEY]);
    const { secrets, rotate } = setup(odoo, { apiKey: OLD_KEY });
    odoo.failRevokes = 1;
    await expect(rotate('t1')).rejects.toThrow(OdooTransportError);
    await rotate('t2');
    expect([...odoo.keys]).toEqual([secrets.current().apiKey]);
  });
});

describe('a pending credential that fails its test leaves AWSCURRENT working', () => {
  it('password: a test failing right after setSecret changed it puts the AWSCURRENT password back', async () => {
    const odoo = new FakeOdoo(18, 'old-password');
    const { secrets, step } = setup(odoo, { password: 'old-password' });
    secrets.start('t1');
    await step('createSecret', 't1');
    odoo.failReads = 1;
    const error = await step('setSecret', 't1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PendingCredentialRejected);
    expect((error as Error).message).toMatch(/AWSCURRENT is unchanged and still logs in/);
    expect(odoo.password).toBe('old-password');
    expect(odoo.logsIn(secrets.current().password)).toBe(true);
    expect(secrets.currentId()).toBe('v1');
  });

  it('password: a failing testSecret puts the AWSCURRENT password back', async () => {
    const odoo = new FakeOdoo(18, 'old-password');
    const { secrets, step } = setup(odoo, { password: 'old-password' });
    secrets.start('t1');
    await step('createSecret', 't1');
    await step('setSecret', 't1');
    expect(odoo.password).toBe('password-1');
    odoo.failReads = 1;
    await expect(step('testSecret', 't1')).rejects.toThrow(PendingCredentialRejected);
    expect(odoo.logsIn(secrets.current().password)).toBe(true);
    expect(odoo.logsIn('password-1')).toBe(false);
    expect(secrets.currentId()).toBe('v1');
  });

  it('API key: a failing testSecret revokes the new key and keeps the old one', async () => {
    const odoo = new FakeOdoo(19, 'unused', [OLD_KEY]);
    const { secrets, step } = setup(odoo, { apiKey: OLD_KEY });
    secrets.start('t1');
    await step('createSecret', 't1');
    await step('setSecret', 't1');
    const pending = (await secrets.value(SECRET, { versionId: 't1' }))?.apiKey;
    expect(odoo.logsIn(pending)).toBe(true);
    odoo.failReads = 1;
    await expect(step('testSecret', 't1')).rejects.toThrow(PendingCredentialRejected);
    expect(odoo.logsIn(pending)).toBe(false);
    expect(odoo.logsIn(OLD_KEY)).toBe(true);
    expect(secrets.currentId()).toBe('v1');
  });
});
