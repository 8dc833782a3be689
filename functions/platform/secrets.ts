/**
 * Secrets through Powertools Parameters with caching, so a warm Lambda does not call Secrets
 * Manager per request: webhook signing secrets, the redaction key, and the Odoo credential.
 */

import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { RedactionKey } from '../contracts/redaction.ts';
import { ConfigurationError } from '../errors/configuration-error.ts';
import type { WebhookSecrets } from '../ingest/ports.ts';
import { OdooClient, type OdooClientConfig } from '../odoo/client.ts';
import { type OdooAddress, type OdooProtocol, odooAddress } from './odoo-address.ts';

/** How long a secret is reused before it is read again (a rotation is picked up within this). */
export const SECRET_CACHE_SECONDS = 300;
/**
 * A signing secret is re-read on a signature mismatch at most this often per source: a rotation
 * is still picked up at once, and forged requests cannot each cost a Secrets Manager call.
 */
export const FORCED_REFRESH_INTERVAL_MS = 30_000;

export class CachedSecrets {
  private readonly provider: SecretsProvider;

  constructor(private readonly client: SecretsManagerClient) {
    this.provider = new SecretsProvider({ awsSdkV3Client: client });
  }

  /**
   * One staging label of a secret (`AWSPENDING` during a rotation), read without the cache,
   * which holds AWSCURRENT; undefined when no version has the label.
   */
  async jsonAtStage<T>(
    name: string,
    stage: string,
  ): Promise<{ value: T; versionId: string } | undefined> {
    try {
      const answer = await this.client.send(
        new GetSecretValueCommand({ SecretId: name, VersionStage: stage }),
      );
      if (answer.SecretString === undefined) return undefined;
      return { value: JSON.parse(answer.SecretString) as T, versionId: answer.VersionId ?? '' };
    } catch (error) {
      if (
        error instanceof ResourceNotFoundException ||
        (error as Error).name === 'ResourceNotFoundException'
      )
        return undefined;
      throw error;
    }
  }

  async json<T>(name: string, options: { forceFetch?: boolean } = {}): Promise<T | undefined> {
    try {
      return (await this.provider.get(name, {
        maxAge: SECRET_CACHE_SECONDS,
        transform: 'json',
        forceFetch: options.forceFetch ?? false,
      })) as T | undefined;
    } catch (error) {
      if (
        (error as { cause?: { name?: string } }).cause?.name === 'ResourceNotFoundException' ||
        (error as Error).name === 'ResourceNotFoundException'
      )
        return undefined;
      throw error;
    }
  }
}

export class WebhookSecretsFromManager implements WebhookSecrets {
  private readonly forcedAt = new Map<string, number>();

  constructor(
    private readonly secrets: CachedSecrets,
    private readonly prefix: string,
    private readonly now: () => number = Date.now,
  ) {}

  async forSource(source: string, options: { fresh?: boolean } = {}): Promise<readonly string[]> {
    let forceFetch = options.fresh ?? false;
    if (forceFetch) {
      const last = this.forcedAt.get(source);
      if (last !== undefined && this.now() - last < FORCED_REFRESH_INTERVAL_MS) forceFetch = false;
      else this.forcedAt.set(source, this.now());
    }
    const value = await this.secrets.json<{ current?: string; previous?: string }>(
      `${this.prefix}${source}`,
      { forceFetch },
    );
    return [value?.current, value?.previous].filter(
      (s): s is string => typeof s === 'string' && s !== '',
    );
  }
}

export async function redactionKey(secrets: CachedSecrets, name: string): Promise<RedactionKey> {
  const value = await secrets.json<{ key?: string }>(name);
  if (!value?.key)
    throw new ConfigurationError(
      `the redaction key secret ${name} is missing or has no "key"`,
      'create it with {"key": "<32+ random bytes, base64>"}',
    );
  return { secret: Buffer.from(value.key, 'base64') };
}

/**
 * The credential secret: the login and its password or API key. `url`, `database` and `protocol`
 * are only in secrets stored before cdk.json gave them to the functions (see odoo-address.ts).
 */
interface OdooSecret {
  login: string;
  password?: string;
  apiKey?: string;
  url?: string;
  database?: string;
  protocol?: OdooProtocol;
}

/**
 * The Odoo client for the current credential. After a rotation the cached credential may be
 * stale: `refresh()` reads AWSCURRENT again. In the middle of a password rotation, between
 * setSecret (Odoo already takes the new password) and finishSecret (AWSCURRENT still holds the
 * old one), `usePending()` switches to the AWSPENDING credential until AWSCURRENT changes.
 */
export class OdooConnection {
  private current: { key: string; client: Promise<OdooClient> } | undefined;
  /** The AWSPENDING credential, used while AWSCURRENT still holds the refused one. */
  private pending: { refused: string; key: string; client: Promise<OdooClient> } | undefined;

  constructor(
    private readonly secrets: CachedSecrets,
    private readonly secretName: string,
    private readonly options: Partial<OdooClientConfig> = {},
    /** Where Odoo is, from the environment (cdk.json); what it leaves unset is read from the secret. */
    private readonly address: Partial<OdooAddress> = {},
  ) {}

  private usable(secret: OdooSecret | undefined): secret is OdooSecret {
    return Boolean(secret?.login && (secret.apiKey || secret.password));
  }

  private connect(secret: OdooSecret): Promise<OdooClient> {
    return OdooClient.connect({
      ...odooAddress(this.address, secret),
      login: secret.login,
      secret: (secret.apiKey ?? secret.password) as string,
      ...this.options,
    });
  }

  async client(forceFetch = false): Promise<OdooClient> {
    const secret = await this.secrets.json<OdooSecret>(this.secretName, { forceFetch });
    if (!this.usable(secret)) {
      // The stack creates the secret empty: nothing works until an operator stores the login.
      throw new ConfigurationError(
        `the Odoo credential secret ${this.secretName} holds no login yet, or is incomplete`,
        'store {"login", "password"} (or "apiKey" on Odoo 19) in it: see README, Deploy',
      );
    }
    const key = JSON.stringify(secret);
    if (this.pending) {
      if (this.pending.refused === key) return this.pending.client;
      // AWSCURRENT moved on: the rotation finished (or was redone), the current one is used again.
      this.pending = undefined;
    }
    if (this.current?.key !== key) {
      const client = this.connect(secret);
      client.catch(() => {
        if (this.current?.client === client) this.current = undefined;
      });
      this.current = { key, client };
    }
    return this.current.client;
  }

  /** Reads AWSCURRENT again, leaving any pending credential; answers whether it differs from the one in use. */
  async refresh(): Promise<boolean> {
    const before = this.pending?.key ?? this.current?.key;
    this.pending = undefined;
    await this.client(true);
    return this.current?.key !== before;
  }

  /**
   * Uses the AWSPENDING credential when a rotation is under way (a pending version that differs
   * from AWSCURRENT); answers whether one is. Odoo takes it once the rotation's setSecret ran.
   */
  async usePending(): Promise<boolean> {
    const rotation = await this.rotation();
    if (!rotation) return false;
    const { pending, key, refused } = rotation;
    if (this.pending?.key !== key || this.pending.refused !== refused) {
      const client = this.connect(pending);
      client.catch(() => {
        if (this.pending?.client === client) this.pending = undefined;
      });
      this.pending = { refused, key, client };
    }
    return true;
  }

  /** Whether a rotation is under way: a usable AWSPENDING that differs from AWSCURRENT. */
  async rotating(): Promise<boolean> {
    return (await this.rotation()) !== undefined;
  }

  private async rotation() {
    const [pending, current] = await Promise.all([
      this.secrets.jsonAtStage<OdooSecret>(this.secretName, 'AWSPENDING'),
      this.secrets.json<OdooSecret>(this.secretName),
    ]);
    if (!pending || !this.usable(pending.value) || !this.usable(current)) return undefined;
    const key = JSON.stringify(pending.value);
    const refused = JSON.stringify(current);
    return key === refused ? undefined : { pending: pending.value, key, refused };
  }
}
