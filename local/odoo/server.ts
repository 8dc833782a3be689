/**
 * A local Odoo: JSON-2 (19), JSON-RPC and XML-RPC over HTTP, answering as the reference
 * describes (envelopes, statuses, exception names), with fault injection for tests and chaos
 * runs. Start it with `startOdooEmulator()`; `spine local` starts one unless ODOO_URL is set.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CompiledCrosswalk } from '../../functions/contracts/model.ts';
import { close, listen } from '../listen.ts';
import { Database } from './database.ts';
import {
  accessDenied,
  lockError,
  OdooException,
  pythonError,
  serializationFailure,
} from './exceptions.ts';
import {
  type FaultPlan,
  FaultPlanError,
  Faults,
  type InjectedError,
  type InjectedFault,
  parseFaultPlan,
} from './faults.ts';
import { type JournalOptions, OdooJournal } from './journal.ts';
import type { OdooVersion } from './models.ts';
import { METHODS, type Operation, Orm, type RowFault, type UserAccount } from './orm.ts';
import { type ReferenceSetup, setUpReferenceData } from './reference-setup.ts';
import { seedDatabase, seedReferenceData } from './seed.ts';
import { encodeFault, encodeResponse, parseMethodCall, XmlRpcParseError } from './xmlrpc.ts';

export interface OdooEmulatorOptions {
  /** 0 (default) picks a free port. */
  readonly port?: number;
  readonly host?: string;
  /** 16, 17, 18 or 19 (default 18): field names and protocols follow it. */
  readonly version?: OdooVersion;
  readonly database?: string;
  readonly admin?: { readonly login: string; readonly password: string };
  readonly integration?: {
    readonly login: string;
    readonly password: string;
    readonly apiKey?: string;
  };
  /** Let non-admin users generate and revoke their own API keys (Odoo 19). */
  readonly programmaticApiKeys?: boolean;
  /**
   * Keep state in this JSON snapshot and the journal beside it (`<file>.journal`): each
   * committed transaction is appended before it is answered, so it survives kill -9; both are
   * folded into the snapshot at start and when the journal outgrows it.
   */
  readonly snapshotFile?: string;
  /** When to fold the journal into the snapshot. */
  readonly journal?: JournalOptions;
  /**
   * Odoo's `limit_time_real` in milliseconds: a call running longer (stall included) is killed,
   * commits nothing and drops its connection. Odoo's default is 120000. @default no limit
   */
  readonly requestLimitMs?: number;
  readonly faults?: FaultPlan;
  /**
   * Currencies active besides the company's (EUR on 16, USD on 17+). A fresh Odoo activates only
   * the company currency; Odoo refuses to post a document in an inactive one.
   * @default ['EUR', 'USD']
   */
  readonly activeCurrencies?: readonly string[];
  /**
   * Crosswalks whose records (taxes, journals, pricelists, service products) the database holds,
   * as a company configured for Spine does; made at start when missing. @default a fresh database
   */
  readonly referenceData?: Readonly<Record<string, CompiledCrosswalk>>;
}

/** A call killed at the request time limit, as Odoo kills the worker running it. */
class RequestKilled extends Error {
  override readonly name = 'RequestKilled';
}

/** What one request's ORM call did, for deciding whether its answer may be lost. */
interface CallRecord {
  wrote: boolean;
}

export interface OdooEmulator {
  readonly url: string;
  readonly port: number;
  readonly database: string;
  readonly version: OdooVersion;
  readonly admin: { readonly login: string; readonly password: string; readonly uid: number };
  readonly integration: {
    readonly login: string;
    readonly password: string;
    readonly apiKey: string;
    readonly uid: number;
  };
  readonly faults: Faults;
  /** Calls the ORM directly as the admin, outside HTTP and faults (for tests and the demo). */
  readonly orm: Orm;
  /** What `referenceData` made at start. */
  readonly referenceSetup: ReferenceSetup;
  stop(): Promise<void>;
}

/** What the integration user may do: the models Spine reads and writes, nothing more. */
export const INTEGRATION_ACCESS: Record<string, Operation[]> = {
  'res.country': ['read'],
  'res.currency': ['read'],
  'res.currency.rate': ['read'],
  'res.company': ['read'],
  'uom.uom': ['read'],
  'account.account': ['read'],
  'account.tax': ['read'],
  'account.tax.group': ['read'],
  'account.journal': ['read'],
  'product.pricelist': ['read'],
  'account.partial.reconcile': ['read'],
  // Wizards: transient records the user creates and runs.
  'account.payment.register': ['read', 'write', 'create'],
  'account.move.reversal': ['read', 'write', 'create'],
  'sale.order.cancel': ['read', 'write', 'create'],
  'res.partner': ['read', 'write', 'create'],
  'product.template': ['read', 'write', 'create'],
  'product.product': ['read', 'write', 'create'],
  'sale.order': ['read', 'write', 'create'],
  'sale.order.line': ['read', 'write', 'create', 'unlink'],
  'account.move': ['read', 'write', 'create'],
  'account.move.line': ['read', 'write', 'create', 'unlink'],
  'account.payment': ['read', 'write', 'create'],
  // Plain users may read and create external ids, not change or delete them.
  'ir.model.data': ['read', 'create'],
  'res.users': ['read'],
};

const WRITE_METHODS = new Set([
  'create',
  'write',
  'unlink',
  'load',
  'action_post',
  'action_confirm',
  'action_cancel',
  'action_draft',
  'button_cancel',
  'button_draft',
  'js_assign_outstanding_line',
  'reconcile',
  'action_create_payments',
  'reverse_moves',
  'refund_moves',
  'modify_moves',
]);
/** Calls that change credentials: saved like writes, but not failed by `failWrites`. */
const CREDENTIAL_METHODS = new Set(['change_password', 'generate', 'revoke']);

export async function startOdooEmulator(options: OdooEmulatorOptions = {}): Promise<OdooEmulator> {
  const version = options.version ?? 18;
  const database = options.database ?? 'spine';
  const db = new Database();
  db.defineIndex('ir.model.data', (row) => `${String(row.module)}.${String(row.name)}`);
  const users = new Map<number, UserAccount>();
  const admin = {
    login: options.admin?.login ?? 'admin',
    password: options.admin?.password ?? 'admin',
    uid: 2,
  };
  const integration = {
    login: options.integration?.login ?? 'spine@example.com',
    password: options.integration?.password ?? 'spine-local-password',
    apiKey: options.integration?.apiKey ?? randomBytes(20).toString('hex'),
    uid: 6,
  };
  const snapshot = options.snapshotFile;
  if (snapshot && existsSync(snapshot)) {
    const saved = db.loadFrom(snapshot) as UserAccount[];
    for (const user of saved) users.set(user.id, user);
    // Credentials may have rotated since the snapshot was taken: report the stored ones.
    const stored = users.get(integration.uid);
    if (stored)
      Object.assign(integration, {
        password: stored.password,
        apiKey: stored.apiKeys[0]?.key ?? integration.apiKey,
      });
  } else {
    users.set(admin.uid, {
      id: admin.uid,
      login: admin.login,
      password: admin.password,
      apiKeys: [],
      access: '*',
    });
    users.set(integration.uid, {
      id: integration.uid,
      login: integration.login,
      password: integration.password,
      apiKeys: [{ key: integration.apiKey, name: 'spine', scope: 'rpc', expiration: null }],
      access: INTEGRATION_ACCESS,
    });
    const orm = new Orm(db, users, { version, programmaticApiKeys: true });
    db.transaction(() =>
      seedDatabase(orm, admin.uid, [admin, integration], {
        ...(options.activeCurrencies ? { activeCurrencies: options.activeCurrencies } : {}),
      }),
    );
  }
  const journal = snapshot
    ? OdooJournal.open(snapshot, db, () => [...users.values()], options.journal)
    : undefined;
  const orm = new Orm(db, users, {
    version,
    programmaticApiKeys: options.programmaticApiKeys ?? true,
  });
  // A snapshot from an older emulator gains the reference data it lacks (all countries, ...).
  if (snapshot && users.has(admin.uid))
    db.transaction(() =>
      seedReferenceData(orm, admin.uid, {
        ...(options.activeCurrencies ? { activeCurrencies: options.activeCurrencies } : {}),
      }),
    );
  const referenceSetup = options.referenceData
    ? db.transaction(() =>
        setUpReferenceData(
          orm,
          admin.uid,
          options.referenceData as Record<string, CompiledCrosswalk>,
        ),
      )
    : { created: [], skipped: [] };
  const faults = new Faults(
    options.faults ? parseFaultPlan(options.faults) : {},
    options.requestLimitMs,
  );
  const failures = new Map<string, { count: number; until: number }>();
  const sessions = new Map<string, number>();
  // Stalled calls wait on this, so stopping the emulator does not leave them to run later.
  const stopping = new AbortController();
  // Commit-then-fail only loses answers of calls that committed a write.
  const loseAnswer = (call: CallRecord) => call.wrote && faults.afterCommit();

  const serverVersion = `${version}.0`;
  const versionInfo = [version, 0, 0, 'final', 0, ''];

  // ---- credentials ------------------------------------------------------------------------

  function checkLogin(remote: string, login: unknown, secret: unknown): number | false {
    const record = failures.get(remote);
    if (record && record.count >= 5 && record.until > Date.now()) {
      throw accessDenied('Too many login failures, please wait a bit before trying again.');
    }
    const user = [...users.values()].find((u) => u.login === login);
    const ok =
      user &&
      typeof secret === 'string' &&
      (secret === user.password || user.apiKeys.some((k) => k.key === secret));
    if (!ok) {
      const count = (record?.count ?? 0) + 1;
      failures.set(remote, { count, until: Date.now() + 60_000 });
      return false;
    }
    failures.delete(remote);
    return user.id;
  }

  function checkUid(uid: unknown, secret: unknown): number {
    const user = typeof uid === 'number' ? users.get(uid) : undefined;
    if (
      !user ||
      typeof secret !== 'string' ||
      (secret !== user.password && !user.apiKeys.some((k) => k.key === secret))
    ) {
      throw accessDenied();
    }
    return user.id;
  }

  function checkDatabase(name: unknown): void {
    if (name !== database) {
      throw new OdooException(
        'psycopg2.OperationalError',
        `FATAL:  database "${String(name)}" does not exist`,
        500,
        1,
      );
    }
  }

  function injectedException(kind: InjectedError, inLoad: boolean): OdooException {
    switch (kind) {
      case 'lock':
        // Inside load's rows a concurrent update surfaces as PostgreSQL's error, which load
        // reports by its text; elsewhere as Odoo's LockError.
        return inLoad
          ? serializationFailure()
          : lockError(
              'Could not obtain lock on the record; another transaction is writing it. Try again.',
            );
      case 'server':
        return new OdooException('builtins.RuntimeError', 'Injected server failure', 500, 1);
      case 'validation':
        return new OdooException(
          'odoo.exceptions.ValidationError',
          'Injected validation failure',
          422,
          2,
        );
      case 'access':
        return accessDenied();
    }
  }

  /**
   * Odoo's load catches what its rows raise and answers it as their messages, so an injected
   * fault strikes a row there (every row, or the first); an unexpected server error still
   * escapes the call, as an error outside the rows would.
   */
  function rowFaultOf(fault: InjectedFault): RowFault | undefined {
    if (fault.kind === 'server') return undefined;
    return (record) =>
      fault.everyRow || record === 0 ? injectedException(fault.kind, true) : undefined;
  }

  /**
   * One ORM call through the fault plan: a stall and the request time limit, injected errors
   * before (inside the rows for load), commit-then-fail after (through `call`).
   */
  async function execute(
    call: CallRecord,
    uid: number,
    model: string,
    method: string,
    args: unknown[],
    kwargs: Record<string, unknown>,
  ): Promise<unknown> {
    const started = performance.now();
    const limit = faults.requestLimitMs;
    const stall = faults.stall();
    if (stall > 0) {
      if (limit !== undefined && stall >= limit) {
        await sleep(limit, undefined, { signal: stopping.signal });
        faults.count('killed');
        throw new RequestKilled(`killed at the ${limit} ms request limit`);
      }
      // The client may have given up meanwhile: the call still runs and commits, as in Odoo.
      await sleep(stall, undefined, { signal: stopping.signal });
    }
    const { context, ...named } = kwargs;
    const write = WRITE_METHODS.has(method);
    const fault = faults.before(model, method, write);
    const rowFault = fault && method === 'load' ? rowFaultOf(fault) : undefined;
    if (fault && !rowFault) throw injectedException(fault.kind, false);
    const result = db.transaction(() => {
      const answer = orm.call(
        uid,
        model,
        method,
        args,
        named,
        (context as Record<string, unknown>) ?? {},
        rowFault ? { rowFault } : {},
      );
      if (CREDENTIAL_METHODS.has(method)) db.markSecretsChanged();
      // Killed before the commit: the whole transaction rolls back.
      if (limit !== undefined && performance.now() - started > limit) {
        faults.count('killed');
        throw new RequestKilled(`killed at the ${limit} ms request limit`);
      }
      return answer;
    });
    call.wrote = write;
    return result;
  }

  // ---- protocols -----------------------------------------------------------------------------

  function jsonRpcError(error: unknown) {
    const e =
      error instanceof OdooException
        ? error
        : pythonError('ValueError', String((error as Error)?.message ?? error));
    return {
      code: version >= 19 ? 0 : 200,
      message: 'Odoo Server Error',
      data: {
        name: e.odooName,
        debug: `Traceback (most recent call last):\n  File "odoo/http.py", in _serve_db\n${e.odooName}: ${e.message}\n`,
        message: e.message,
        arguments: e.arguments,
        context: {},
      },
    };
  }

  async function dispatchJsonRpc(
    call: CallRecord,
    remote: string,
    params: Record<string, unknown>,
  ): Promise<unknown> {
    const service = params.service;
    const method = params.method;
    const args = Array.isArray(params.args) ? params.args : [];
    if (service === 'common') {
      if (method === 'version') {
        return {
          server_version: serverVersion,
          server_version_info: versionInfo,
          server_serie: serverVersion,
          protocol_version: 1,
        };
      }
      if (method === 'about') return 'See http://openerp.com';
      if (method === 'login' || method === 'authenticate') {
        checkDatabase(args[0]);
        return checkLogin(remote, args[1], args[2]);
      }
      throw pythonError('KeyError', `The method 'common.${String(method)}' does not exist`);
    }
    if (service === 'object') {
      if (method !== 'execute_kw' && method !== 'execute')
        throw pythonError('KeyError', `The method 'object.${String(method)}' does not exist`);
      const [dbName, uid, secret, model, name, ...rest] = args;
      checkDatabase(dbName);
      const user = checkUid(uid, secret);
      if (method === 'execute_kw') {
        return await execute(
          call,
          user,
          String(model),
          String(name),
          Array.isArray(rest[0]) ? rest[0] : [],
          (rest[1] as Record<string, unknown>) ?? {},
        );
      }
      return await execute(call, user, String(model), String(name), rest, {});
    }
    if (service === 'db') {
      if (method === 'list') return [database];
      if (method === 'server_version') return serverVersion;
      throw accessDenied();
    }
    throw pythonError('KeyError', `Unknown service ${JSON.stringify(service)}`);
  }

  function sendJson(
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ) {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(text),
      ...headers,
    });
    res.end(text);
  }

  function sendText(
    res: ServerResponse,
    status: number,
    text: string,
    type = 'text/plain; charset=utf-8',
  ) {
    res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }

  async function handleJsonRpc(
    req: IncomingMessage,
    res: ServerResponse,
    raw: string,
    session?: 'authenticate' | 'call_kw',
  ) {
    let request: { id?: unknown; params?: Record<string, unknown> };
    try {
      request = JSON.parse(raw);
    } catch {
      return sendText(res, 400, 'Invalid JSON data');
    }
    if (!request || typeof request !== 'object' || Array.isArray(request))
      return sendText(res, 400, 'Invalid JSON-RPC data');
    const id = request.id ?? null;
    const params = request.params ?? {};
    const remote = req.socket.remoteAddress ?? '';
    const call: CallRecord = { wrote: false };
    try {
      let result: unknown;
      const headers: Record<string, string> = {};
      if (session === 'authenticate') {
        checkDatabase(params.db);
        const uid = checkLogin(remote, params.login, params.password);
        if (uid === false) throw accessDenied();
        const sid = randomUUID();
        sessions.set(sid, uid);
        headers['Set-Cookie'] = `session_id=${sid}; HttpOnly; Path=/`;
        result = {
          uid,
          db: database,
          server_version: serverVersion,
          server_version_info: versionInfo,
          user_context: { lang: 'en_US', tz: 'UTC', uid },
        };
      } else if (session === 'call_kw') {
        const sid = /session_id=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
        const uid = sid ? sessions.get(sid) : undefined;
        if (!uid) {
          return sendJson(res, 200, {
            jsonrpc: '2.0',
            id,
            error: {
              code: 100,
              message: 'Odoo Session Expired',
              data: {
                name: 'odoo.http.SessionExpiredException',
                debug: '',
                message: 'Session expired',
                arguments: ['Session expired'],
                context: {},
              },
            },
          });
        }
        result = await execute(
          call,
          uid,
          String(params.model),
          String(params.method),
          Array.isArray(params.args) ? params.args : [],
          (params.kwargs as Record<string, unknown>) ?? {},
        );
      } else {
        result = await dispatchJsonRpc(call, remote, params);
      }
      if (loseAnswer(call)) return res.socket?.destroy();
      sendJson(res, 200, { jsonrpc: '2.0', id, result }, headers);
    } catch (error) {
      if (!(error instanceof OdooException)) throw error;
      sendJson(res, 200, { jsonrpc: '2.0', id, error: jsonRpcError(error) });
    }
  }

  function json2Error(
    res: ServerResponse,
    error: OdooException,
    headers: Record<string, string> = {},
  ) {
    sendJson(
      res,
      error.status,
      {
        name: error.odooName,
        message: error.message,
        arguments: error.arguments,
        context: {},
        debug: '',
      },
      headers,
    );
  }

  async function handleJson2(
    req: IncomingMessage,
    res: ServerResponse,
    raw: string,
    model: string,
    method: string,
  ) {
    const auth = /^bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim();
    const user = auth
      ? [...users.values()].find((u) => u.apiKeys.some((k) => k.key === auth))
      : undefined;
    if (!user) {
      const message = auth
        ? 'Invalid apikey'
        : 'User not authenticated, use an API Key with a Bearer Authorization header.';
      const error = new OdooException('werkzeug.exceptions.Unauthorized', message, 401, 1);
      return sendJson(
        res,
        401,
        { name: error.odooName, message, arguments: [message, 401], context: {}, debug: '' },
        { 'WWW-Authenticate': 'Bearer' },
      );
    }
    const dbHeader = req.headers['x-odoo-database'];
    if (dbHeader && dbHeader !== database)
      return json2Error(
        res,
        new OdooException('werkzeug.exceptions.NotFound', `Database ${dbHeader} not found`, 404, 1),
      );
    let body: Record<string, unknown>;
    try {
      body = raw.trim() === '' ? {} : JSON.parse(raw);
      if (!body || typeof body !== 'object' || Array.isArray(body))
        throw new Error('not an object');
    } catch {
      return json2Error(
        res,
        new OdooException(
          'werkzeug.exceptions.BadRequest',
          'could not parse the body as json: expected a JSON object',
          400,
          1,
        ),
      );
    }
    try {
      if (method.startsWith('_'))
        throw new OdooException(
          'werkzeug.exceptions.Forbidden',
          `Private methods (such as '${model}.${method}') cannot be called remotely.`,
          403,
          4,
        );
      try {
        orm.model(model);
      } catch {
        throw new OdooException(
          'werkzeug.exceptions.NotFound',
          `the model '${model}' does not exist`,
          404,
          1,
        );
      }
      const signature = METHODS[method];
      if (!signature || (signature.models && !signature.models.includes(model))) {
        throw new OdooException(
          'werkzeug.exceptions.NotFound',
          `The method '${model}.${method}' does not exist`,
          404,
          1,
        );
      }
      if (!signature.records && 'ids' in body) {
        throw new OdooException(
          'werkzeug.exceptions.UnprocessableEntity',
          `cannot call ${model}.${method} with ids`,
          422,
          1,
        );
      }
      for (const key of Object.keys(body)) {
        if (key !== 'ids' && key !== 'context' && !signature.params.includes(key)) {
          throw new OdooException(
            'werkzeug.exceptions.UnprocessableEntity',
            `${method}() got an unexpected keyword argument '${key}'`,
            422,
            1,
          );
        }
      }
      const call: CallRecord = { wrote: false };
      let result = await execute(call, user.id, model, method, [], body);
      // JSON-2 returns recordsets as lists of ids, so create always answers a list.
      if (method === 'create' && typeof result === 'number') result = [result];
      if (loseAnswer(call)) return res.socket?.destroy();
      sendJson(res, 200, result ?? null);
    } catch (error) {
      if (!(error instanceof OdooException)) throw error;
      json2Error(res, error);
    }
  }

  async function handleXmlRpc(
    req: IncomingMessage,
    res: ServerResponse,
    raw: string,
    service: string,
  ) {
    let call: { method: string; params: unknown[] };
    try {
      call = parseMethodCall(raw);
    } catch (error) {
      if (error instanceof XmlRpcParseError)
        return sendText(
          res,
          200,
          encodeFault(1, `Invalid XML-RPC request: ${error.message}`),
          'text/xml',
        );
      throw error;
    }
    const record: CallRecord = { wrote: false };
    try {
      const result = await dispatchJsonRpc(record, req.socket.remoteAddress ?? '', {
        service,
        method: call.method,
        args: call.params,
      });
      if (loseAnswer(record)) return res.socket?.destroy();
      sendText(res, 200, encodeResponse(result), 'text/xml');
    } catch (error) {
      if (!(error instanceof OdooException)) throw error;
      const message =
        typeof error.faultCode === 'number' && error.faultCode === 1
          ? jsonRpcError(error).data.debug
          : error.message;
      sendText(res, 200, encodeFault(error.faultCode, message), 'text/xml');
    }
  }

  async function readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  const server: Server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const path = url.pathname;
      const raw = await readBody(req);

      if (path.startsWith('/_emulator/')) return handleControl(req, res, path, raw);

      const injected = await faults.transport();
      if (injected) {
        if (injected.kind === 'drop') return void req.socket.destroy();
        const headers: Record<string, string> =
          injected.retryAfter !== undefined ? { 'Retry-After': String(injected.retryAfter) } : {};
        res.writeHead(injected.status, { 'Content-Type': 'text/html', ...headers });
        return res.end(`<html><body><h1>${injected.status}</h1></body></html>`);
      }

      if ((path === '/web/version' || path === '/json/version') && req.method === 'GET') {
        if (path === '/json/version' && version < 19) return sendText(res, 404, 'Not Found');
        return sendJson(res, 200, { version_info: versionInfo, version: serverVersion });
      }
      if (req.method !== 'POST') return sendText(res, 405, 'Method Not Allowed');
      if (path === '/jsonrpc') return await handleJsonRpc(req, res, raw);
      if (path === '/web/version') {
        return sendJson(res, 200, {
          jsonrpc: '2.0',
          id: null,
          result: { version_info: versionInfo, version: serverVersion },
        });
      }
      if (path === '/web/session/authenticate')
        return await handleJsonRpc(req, res, raw, 'authenticate');
      if (path.startsWith('/web/dataset/call_kw'))
        return await handleJsonRpc(req, res, raw, 'call_kw');
      const json2 = /^\/json\/2\/([^/]+)\/([^/]+)$/.exec(path);
      if (json2) {
        if (version < 19) return sendText(res, 404, 'Not Found');
        return await handleJson2(
          req,
          res,
          raw,
          decodeURIComponent(json2[1] as string),
          decodeURIComponent(json2[2] as string),
        );
      }
      const xml = /^\/xmlrpc\/(?:2\/)?(common|object|db)$/.exec(path);
      if (xml) return await handleXmlRpc(req, res, raw, xml[1] as string);
      sendText(res, 404, 'Not Found');
    } catch (error) {
      // Odoo's killed worker answers nothing: the connection just drops.
      if (error instanceof RequestKilled || stopping.signal.aborted)
        return void req.socket.destroy();
      // An emulator bug must not take the server down: answer 500 as Odoo's worker would.
      if (!res.headersSent)
        sendText(res, 500, `Internal Server Error: ${(error as Error).message}`);
      else res.end();
    }
  });

  function handleControl(req: IncomingMessage, res: ServerResponse, path: string, raw: string) {
    if (path === '/_emulator/faults' && req.method === 'POST') {
      let plan: FaultPlan;
      try {
        plan = parseFaultPlan(raw.trim() ? JSON.parse(raw) : {});
      } catch (error) {
        const message =
          error instanceof FaultPlanError
            ? error.message
            : `the fault plan is not JSON: ${(error as Error).message}`;
        return sendJson(res, 400, { error: 'invalid-fault-plan', detail: message });
      }
      faults.set(plan);
      return sendJson(res, 200, faults.plan);
    }
    if (path === '/_emulator/faults') return sendJson(res, 200, faults.plan);
    if (path === '/_emulator/state') {
      return sendJson(res, 200, db.snapshot(undefined).tables);
    }
    sendText(res, 404, 'Not Found');
  }

  server.keepAliveTimeout = 30_000;
  const port = await listen(server, options.port ?? 0, options.host ?? '127.0.0.1');
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    database,
    version,
    admin,
    integration,
    faults,
    orm,
    referenceSetup,
    stop: async () => {
      stopping.abort();
      await close(server);
      journal?.close();
    },
  };
}
