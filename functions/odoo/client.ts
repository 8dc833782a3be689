/**
 * One interface over JSON-2 and JSON-RPC: searchRead, read, searchCount, create, write,
 * unlink, load and call, each guarded (concurrency, rate, retries, circuit breaker) and with a
 * per-call timeout. The protocol is chosen by configuration or from the server's version.
 */
import { errorFromStatus } from './classify.ts';
import { type GuardOptions, guardFor, type OdooGuard } from './guard.ts';
import { JsonRpcProtocol } from './json-rpc.ts';
import { Json2Protocol } from './json2.ts';
import type { OdooCall, OdooProtocol } from './protocol.ts';
import { fieldNameFor, valuesFor } from './versions.ts';

export type Domain = readonly unknown[];
export type OdooRecord = Record<string, unknown> & { id: number };

export interface OdooClientConfig {
  /** Base URL, e.g. https://acme.odoo.com (no trailing slash needed). */
  readonly url: string;
  readonly database: string;
  readonly login: string;
  /** Password or API key (Odoo 14+ accepts a key wherever a password goes; JSON-2 needs a key). */
  readonly secret: string;
  /** `auto` (default): JSON-2 on Odoo 19+ when the secret is an API key, else JSON-RPC. */
  readonly protocol?: 'json2' | 'jsonrpc' | 'auto';
  /** Skip detection when the version is known. */
  readonly version?: number;
  /** Per-call timeout. @default 30000 */
  readonly timeoutMs?: number;
  /** Added to every call's context (lang, tz, ...). */
  readonly context?: Readonly<Record<string, unknown>>;
  readonly guard?: GuardOptions;
}

/** Keeps writes from flooding chatter and followers, as Odoo's own imports do. */
export const DEFAULT_CONTEXT = {
  tz: 'UTC',
  tracking_disable: true,
  mail_create_nolog: true,
  mail_notrack: true,
} as const;

export interface FieldInfo {
  readonly type: string;
  readonly relation?: string;
  readonly required?: boolean;
  readonly string?: string;
}

export interface LoadResult {
  readonly ids: number[] | false;
  readonly messages: readonly {
    readonly type: string;
    readonly message: string;
    readonly record?: number;
    readonly rows?: { readonly from: number; readonly to: number };
    readonly field?: string;
  }[];
}

const API_KEY = /^[0-9a-f]{40}$/i;
/** Methods that change nothing: their lost answers leave nothing behind in Odoo. */
const READ_METHODS = new Set(['search_read', 'read', 'search', 'search_count', 'fields_get']);

/**
 * Whether `load` columns write x2many lines (`order_line/product_id/.id`, `order_line/name`):
 * load adds such lines to an existing record, so a load whose answer was lost is never sent
 * again as it is. A relation by id (`partner_id/.id`) or external id (`partner_id/id`) is a
 * plain value.
 */
export function loadAddsLines(columns: readonly string[]): boolean {
  return columns.some((column) => {
    const [, ...rest] = column.split('/');
    return rest.length > 1 || (rest.length === 1 && rest[0] !== 'id' && rest[0] !== '.id');
  });
}
const fieldCache = new Map<string, Promise<Record<string, FieldInfo>>>();

async function detectVersion(url: string, timeoutMs: number): Promise<number | undefined> {
  try {
    const response = await fetch(`${url}/web/version`, { signal: AbortSignal.timeout(timeoutMs) });
    if (response.ok) {
      const body = (await response.json()) as { version_info?: unknown[] };
      const major = Number(body.version_info?.[0]);
      if (Number.isFinite(major)) return major;
    } else if (response.status === 429 || response.status >= 500) {
      throw errorFromStatus(response.status, response.headers.get('retry-after'), {
        method: 'version',
      });
    }
  } catch (error) {
    if ((error as { retryable?: boolean }).retryable) throw error;
    // Older servers only answer /web/version as JSON-RPC: ask common.version instead.
  }
  return JsonRpcProtocol.version(url, timeoutMs);
}

export class OdooClient {
  /** Set once a write of this client may have run in Odoo without its answer reaching us. */
  private unsettledWrite = false;

  private constructor(
    readonly config: OdooClientConfig,
    private readonly protocol: OdooProtocol,
    /** Odoo's major version (16–19), when known. */
    readonly version: number | undefined,
    private readonly guard: OdooGuard,
    private readonly deadline?: AbortSignal,
    /** When `deadline` fires (epoch ms), when known: no retry starts that could not finish. */
    private readonly endsAt?: number,
  ) {}

  /**
   * The same connection for one invocation: no call starts after `deadline` and a call in flight
   * is abandoned then, so an invocation past its deadline writes nothing more.
   */
  until(deadline: AbortSignal, endsAt?: number): OdooClient {
    return new OdooClient(this.config, this.protocol, this.version, this.guard, deadline, endsAt);
  }

  /**
   * Whether a write made through this client may have run without its answer reaching us (a
   * timeout, a dropped connection, the deadline): Odoo may still commit it, so whatever it
   * guards (an entity claim, a natural-key lock) must not be ended early.
   */
  get hasUnsettledWrites(): boolean {
    return this.unsettledWrite;
  }

  /** Connects (detecting version and protocol unless configured); no login happens until the first call. */
  static async connect(config: OdooClientConfig): Promise<OdooClient> {
    const url = config.url.replace(/\/+$/, '');
    const timeoutMs = config.timeoutMs ?? 30_000;
    const guard = guardFor(url, config.guard);
    const version =
      config.version ??
      (config.protocol === 'json2' || config.protocol === 'jsonrpc'
        ? undefined
        : await guard.run({ idempotent: true }, () => detectVersion(url, timeoutMs)));
    const useJson2 =
      config.protocol === 'json2' ||
      (config.protocol !== 'jsonrpc' && (version ?? 0) >= 19 && API_KEY.test(config.secret));
    const credentials = { login: config.login, secret: config.secret };
    const protocol = useJson2
      ? new Json2Protocol(url, config.database, credentials)
      : new JsonRpcProtocol(url, config.database, credentials, timeoutMs);
    return new OdooClient({ ...config, url }, protocol, version, guard);
  }

  get protocolName(): 'json2' | 'jsonrpc' {
    return this.protocol.name;
  }

  /** Calls made, attempts (with retries) and calls refused by the circuit breaker, for this Odoo URL. */
  get stats(): Readonly<OdooGuard['stats']> {
    return this.guard.stats;
  }

  private run(
    call: Omit<OdooCall, 'timeoutMs' | 'context'> & { context?: Record<string, unknown> },
    idempotent: boolean,
  ): Promise<unknown> {
    const full: OdooCall = {
      ...call,
      timeoutMs: this.config.timeoutMs ?? 30_000,
      context: { ...DEFAULT_CONTEXT, ...this.config.context, ...call.context },
      ...(this.deadline ? { deadline: this.deadline } : {}),
    };
    const write = !READ_METHODS.has(call.method);
    const { endsAt } = this;
    return this.guard.run(
      {
        idempotent,
        ...(this.deadline ? { deadline: this.deadline } : {}),
        ...(endsAt !== undefined ? { endsAt } : {}),
        unsettled: () => {
          if (write) this.unsettledWrite = true;
        },
      },
      // The deadline cuts an attempt short at the invocation's end, and is told apart from a
      // timeout: a write it cut may still land, which the entity's claim waits out.
      () => this.protocol.call(full),
    );
  }

  private fields(model: string, fields: readonly string[] | undefined): string[] | undefined {
    return fields?.map((f) => fieldNameFor(this.version, model, f));
  }

  async searchRead(
    model: string,
    domain: Domain,
    options: {
      fields?: readonly string[];
      limit?: number;
      offset?: number;
      order?: string;
      context?: Record<string, unknown>;
    } = {},
  ): Promise<OdooRecord[]> {
    return (await this.run(
      {
        model,
        method: 'search_read',
        named: {
          domain,
          fields: this.fields(model, options.fields),
          limit: options.limit,
          offset: options.offset,
          order: options.order,
        },
        positional: ['domain'],
        context: options.context,
      },
      true,
    )) as OdooRecord[];
  }

  async search(
    model: string,
    domain: Domain,
    options: { limit?: number; offset?: number; order?: string } = {},
  ): Promise<number[]> {
    return (await this.run(
      {
        model,
        method: 'search',
        named: { domain, limit: options.limit, offset: options.offset, order: options.order },
        positional: ['domain'],
      },
      true,
    )) as number[];
  }

  async read(
    model: string,
    ids: readonly number[],
    fields?: readonly string[],
  ): Promise<OdooRecord[]> {
    if (ids.length === 0) return [];
    return (await this.run(
      {
        model,
        method: 'read',
        ids,
        named: { fields: this.fields(model, fields) },
        positional: ['fields'],
      },
      true,
    )) as OdooRecord[];
  }

  async searchCount(model: string, domain: Domain): Promise<number> {
    return (await this.run(
      { model, method: 'search_count', named: { domain }, positional: ['domain'] },
      true,
    )) as number;
  }

  /** Creates records; not retried after an answer was lost, since Odoo may have created them. */
  async create(model: string, valsList: readonly Record<string, unknown>[]): Promise<number[]> {
    if (valsList.length === 0) return [];
    const result = await this.run(
      {
        model,
        method: 'create',
        named: { vals_list: valsList.map((v) => valuesFor(this.version, model, v)) },
        positional: ['vals_list'],
      },
      false,
    );
    return Array.isArray(result) ? (result as number[]) : [result as number];
  }

  async write(
    model: string,
    ids: readonly number[],
    vals: Record<string, unknown>,
  ): Promise<boolean> {
    return (await this.run(
      {
        model,
        method: 'write',
        ids,
        named: { vals: valuesFor(this.version, model, vals) },
        positional: ['vals'],
      },
      true,
    )) as boolean;
  }

  async unlink(model: string, ids: readonly number[]): Promise<boolean> {
    return (await this.run({ model, method: 'unlink', ids, named: {} }, true)) as boolean;
  }

  /**
   * Odoo's import: creates or updates records together with their external ids, in one
   * transaction. Retried after a lost answer only when running it twice changes nothing more:
   * no x2many lines (added again), and no record it creates (sent again, the creation becomes an
   * update that writes the create-only values over what another writer set meanwhile).
   */
  async load(
    model: string,
    fields: readonly string[],
    rows: readonly (readonly string[])[],
    options: { readonly creates?: boolean } = {},
  ): Promise<LoadResult> {
    const columns = fields.map((f) => {
      const [head, ...rest] = f.split('/');
      return [fieldNameFor(this.version, model, head as string), ...rest].join('/');
    });
    return (await this.run(
      {
        model,
        method: 'load',
        named: { fields: columns, data: rows },
        positional: ['fields', 'data'],
      },
      !loadAddsLines(fields) && !options.creates,
    )) as LoadResult;
  }

  /** Any public method: `ids` for record methods, other arguments by name. */
  async call(
    model: string,
    method: string,
    options: {
      ids?: readonly number[];
      args?: Record<string, unknown>;
      idempotent?: boolean;
      /** Added to the call's context, e.g. `disable_cancel_warning` for a cancel without its wizard. */
      context?: Record<string, unknown>;
    } = {},
  ): Promise<unknown> {
    return this.run(
      {
        model,
        method,
        ids: options.ids,
        named: options.args ?? {},
        ...(options.context ? { context: options.context } : {}),
      },
      options.idempotent ?? false,
    );
  }

  /** Field types of a model, asked once per process. */
  fieldsGet(model: string): Promise<Record<string, FieldInfo>> {
    const key = `${this.config.url}|${this.config.database}|${this.version}|${model}`;
    let cached = fieldCache.get(key);
    if (!cached) {
      cached = this.run(
        {
          model,
          method: 'fields_get',
          named: { attributes: ['type', 'relation', 'required', 'string'] },
        },
        true,
      ).then((fields) => fields as Record<string, FieldInfo>);
      cached.catch(() => fieldCache.delete(key));
      fieldCache.set(key, cached);
    }
    return cached;
  }
}
