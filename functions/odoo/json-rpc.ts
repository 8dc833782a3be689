/**
 * JSON-RPC (`POST /jsonrpc`, Odoo 8–19): `common.authenticate` once for the uid, then
 * `object.execute_kw(db, uid, secret, model, method, args, kwargs)`. Errors come back as
 * HTTP 200 envelopes whose `data.name` is the Python exception class.
 */
import { errorFromOdoo, errorFromStatus } from './classify.ts';
import { OdooAccessDenied, OdooServerError } from './errors/index.ts';
import { postJson } from './http.ts';
import type { OdooCall, OdooCredentials, OdooProtocol } from './protocol.ts';

interface Envelope {
  result?: unknown;
  error?: { code?: number; message?: string; data?: { name?: string; message?: string } };
}

export class JsonRpcProtocol implements OdooProtocol {
  readonly name = 'jsonrpc';
  private uid: Promise<number> | undefined;
  private nextId = 1;

  constructor(
    private readonly url: string,
    private readonly database: string,
    private readonly credentials: OdooCredentials,
    private readonly timeoutMs: number,
  ) {}

  private async rpc(
    service: string,
    method: string,
    args: unknown[],
    timeoutMs: number,
    model?: string,
    called?: string,
    deadline?: AbortSignal,
  ): Promise<unknown> {
    const answer = await postJson(
      `${this.url}/jsonrpc`,
      { jsonrpc: '2.0', method: 'call', params: { service, method, args }, id: this.nextId++ },
      { timeoutMs, model, method: called, ...(deadline ? { deadline } : {}) },
    );
    if (answer.status !== 200)
      throw errorFromStatus(answer.status, answer.headers.get('retry-after'), {
        model,
        method: called,
      });
    let envelope: Envelope;
    try {
      envelope = JSON.parse(answer.text) as Envelope;
    } catch (cause) {
      throw new OdooServerError(
        `Odoo answered something that is not JSON-RPC: ${answer.text.slice(0, 120)}`,
        { model, method: called, cause },
      );
    }
    if (envelope.error) {
      const data = envelope.error.data ?? {};
      throw errorFromOdoo(
        data.name ?? envelope.error.message ?? 'Odoo Server Error',
        data.message ?? envelope.error.message ?? '',
        { model, method: called },
      );
    }
    return envelope.result;
  }

  /** The user id, asked once per client; a failed attempt is forgotten so the next call asks again. */
  private authenticate(): Promise<number> {
    this.uid ??= this.login().catch((error: unknown) => {
      this.uid = undefined;
      throw error;
    });
    return this.uid;
  }

  private async login(): Promise<number> {
    const { login, secret } = this.credentials;
    const uid = await this.rpc(
      'common',
      'authenticate',
      [this.database, login, secret, {}],
      this.timeoutMs,
      undefined,
      'authenticate',
    );
    // Odoo answers `false`, not an error, to a wrong login or secret.
    if (typeof uid !== 'number' || uid <= 0) {
      throw new OdooAccessDenied(
        `Odoo refused the login "${login}" on database "${this.database}"`,
        { odooName: 'odoo.exceptions.AccessDenied', method: 'authenticate' },
        'check the login and password (or API key) in the Odoo credential secret',
      );
    }
    return uid;
  }

  async call(call: OdooCall): Promise<unknown> {
    const uid = await this.authenticate();
    const positionalNames = call.positional ?? [];
    const args: unknown[] = [
      ...(call.ids ? [call.ids] : []),
      ...positionalNames.map((n) => call.named[n]),
    ];
    const kwargs: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(call.named))
      if (!positionalNames.includes(key) && value !== undefined) kwargs[key] = value;
    if (call.context) kwargs.context = call.context;
    return this.rpc(
      'object',
      'execute_kw',
      [this.database, uid, this.credentials.secret, call.model, call.method, args, kwargs],
      call.timeoutMs,
      call.model,
      call.method,
      call.deadline,
    );
  }

  /** Server version from `common.version`, for detection. */
  static async version(url: string, timeoutMs: number): Promise<number | undefined> {
    const answer = await postJson(
      `${url}/jsonrpc`,
      {
        jsonrpc: '2.0',
        method: 'call',
        params: { service: 'common', method: 'version', args: [] },
        id: 0,
      },
      { timeoutMs },
    );
    const info = (JSON.parse(answer.text) as Envelope).result as
      | { server_version_info?: unknown[] }
      | undefined;
    const major = Number(info?.server_version_info?.[0]);
    return Number.isFinite(major) ? major : undefined;
  }
}
