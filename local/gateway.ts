/**
 * The local API Gateway: HTTP on 127.0.0.1:3000 with the routes of the HTTP API
 * (POST /webhooks/{source}), each request turned into a payload v2 event for the receiver
 * handler and its result turned back into the HTTP response, as API Gateway does.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { lambdaContext } from './lambda-context.ts';
import { close, listen } from './listen.ts';

export type HttpHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyResultV2>;

export interface GatewayRoute {
  readonly method: string;
  /** e.g. `/webhooks/{source}` */
  readonly path: string;
  readonly functionName: string;
  readonly handler: HttpHandler;
}

export interface GatewayRequestLog {
  readonly requestId: string;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly ms: number;
  /** The answer's body; for a 5xx, JSON whose `error` and `detail` say what broke. */
  readonly body?: string;
  /** For a 5xx the gateway answered because something threw: what was thrown. */
  readonly cause?: FailureCause;
}

export interface FailureCause {
  readonly name: string;
  readonly message: string;
  /** The first frames of the stack, `at …` lines. */
  readonly stack: readonly string[];
}

/** Stack frames kept in a log line: enough to find the place, short enough to read. */
const CAUSE_FRAMES = 5;

function causeOf(error: unknown): FailureCause {
  if (!(error instanceof Error)) return { name: typeof error, message: String(error), stack: [] };
  return {
    name: error.name,
    message: error.message,
    stack: (error.stack ?? '')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line.startsWith('at '))
      .slice(0, CAUSE_FRAMES),
  };
}

/** A 5xx's log body in the receiver's `{error, detail}` shape, which `spine local` prints. */
function failureBody(error: string, cause: FailureCause): string {
  const where = cause.stack.length > 0 ? ` (${cause.stack.slice(0, 3).join('; ')})` : '';
  return JSON.stringify({ error, detail: `${cause.name}: ${cause.message}${where}` });
}

/**
 * The log body of a handler's own answer: a 5xx that does not say why gets a reason, so no 5xx
 * is logged without one.
 */
function answerLogBody(status: number, body: string | undefined): string | undefined {
  if (status < 500) return body;
  try {
    const parsed = JSON.parse(body ?? '') as { error?: unknown };
    if (parsed && typeof parsed === 'object' && parsed.error) return body;
  } catch {
    // Not JSON: said below.
  }
  const excerpt = (body ?? '').slice(0, 200);
  return JSON.stringify({
    error: 'handler-answer',
    detail: `the function answered ${status} without naming an error${excerpt ? `; its body began: ${excerpt}` : ' and with an empty body'}`,
  });
}

export interface LocalGateway {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** API Gateway's payload limit for HTTP APIs. */
const MAX_BODY = 10 * 1024 * 1024;

const TEXT_TYPES =
  /^(text\/|application\/(json|xml|javascript|x-www-form-urlencoded)|application\/[\w.+-]+\+(json|xml))/i;

/** Thrown for a request API Gateway would refuse before any route runs. */
class BadRequest extends Error {}

function matchRoute(routes: readonly GatewayRoute[], method: string, path: string) {
  for (const route of routes) {
    if (route.method !== method) continue;
    const names: string[] = [];
    const pattern = new RegExp(
      `^${route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
        names.push(name);
        return '([^/]+)';
      })}$`,
    );
    const match = pattern.exec(path);
    if (match)
      return {
        route,
        parameters: Object.fromEntries(
          names.map((n, i) => [n, decodePathSegment(match[i + 1] ?? '')]),
        ),
      };
  }
  return undefined;
}

function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new BadRequest('the path is not valid percent-encoded UTF-8');
  }
}

function clfTime(date: Date): string {
  const months = [
    'Jan',
    'Feb',
    'Mar',
    'Apr',
    'May',
    'Jun',
    'Jul',
    'Aug',
    'Sep',
    'Oct',
    'Nov',
    'Dec',
  ];
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(date.getUTCDate())}/${months[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

/** The payload v2 event API Gateway would hand the Lambda for this request. */
export function toEventV2(
  req: IncomingMessage,
  body: Buffer,
  route: GatewayRoute,
  parameters: Record<string, string>,
  requestId: string,
  port: number,
): APIGatewayProxyEventV2 {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = (req.rawHeaders[i] ?? '').toLowerCase();
    const value = req.rawHeaders[i + 1] ?? '';
    if (name === 'cookie') cookies.push(...value.split(/;\s*/).filter(Boolean));
    // Repeated headers are joined with commas, as HTTP APIs do.
    else headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  // Only text that survives decoding goes through as a string: a signature is computed over
  // the exact bytes, so anything else is passed as base64.
  const text =
    body.length === 0 ||
    (TEXT_TYPES.test(headers['content-type'] ?? '') && utf8(body) !== undefined);
  const now = new Date();
  const query: Record<string, string> = {};
  for (const [key, value] of url.searchParams)
    query[key] = query[key] === undefined ? value : `${query[key]},${value}`;
  return {
    version: '2.0',
    routeKey: `${route.method} ${route.path}`,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    ...(cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    pathParameters: parameters,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? `127.0.0.1:${port}`,
      domainPrefix: (headers.host ?? '127').replace(/:\d+$/, '').split('.')[0] ?? 'local',
      http: {
        method: req.method ?? 'POST',
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey: `${route.method} ${route.path}`,
      stage: '$default',
      time: clfTime(now),
      timeEpoch: now.getTime(),
    },
    ...(body.length > 0 ? { body: text ? body.toString('utf8') : body.toString('base64') } : {}),
    isBase64Encoded: !text,
  };
}

function utf8(body: Buffer): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    return undefined;
  }
}

function send(
  res: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = {},
  requestId?: string,
) {
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    ...(requestId ? { 'apigw-requestid': requestId } : {}),
    ...headers,
  });
  res.end(body);
}

/** Turns the handler's result into the HTTP answer, following API Gateway's payload v2 rules. */
function sendResult(
  res: ServerResponse,
  result: APIGatewayProxyResultV2,
  requestId: string,
): number {
  if (
    typeof result === 'string' ||
    result === undefined ||
    result === null ||
    typeof result !== 'object' ||
    !('statusCode' in result)
  ) {
    send(
      res,
      200,
      typeof result === 'string' ? result : JSON.stringify(result ?? ''),
      {},
      requestId,
    );
    return 200;
  }
  const status = result.statusCode ?? 200;
  const body =
    result.body === undefined
      ? Buffer.alloc(0)
      : Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8');
  const headers: Record<string, string | string[]> = {
    'Content-Type': 'application/json',
    ...(result.headers as Record<string, string>),
    'Content-Length': String(body.length),
    'apigw-requestid': requestId,
  };
  if (result.cookies?.length) headers['Set-Cookie'] = result.cookies;
  res.writeHead(status, headers);
  res.end(body);
  return status;
}

export async function startGateway(options: {
  port?: number;
  host?: string;
  routes: readonly GatewayRoute[];
  /** Local routes answered by the runtime itself (health). */
  local?: Record<string, () => { status: number; body: unknown }>;
  onRequest?: (log: GatewayRequestLog) => void;
  timeoutSeconds?: number;
}): Promise<LocalGateway> {
  let port = 0;

  async function serve(
    req: IncomingMessage,
    res: ServerResponse,
    requestId: string,
    log: (status: number, body?: string, cause?: FailureCause) => void,
  ) {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const local = options.local?.[`${req.method} ${url.pathname}`];
    if (local) {
      const answer = local();
      return send(res, answer.status, JSON.stringify(answer.body, null, 2));
    }
    let matched: ReturnType<typeof matchRoute>;
    try {
      matched = matchRoute(options.routes, req.method ?? '', url.pathname);
    } catch (error) {
      if (!(error instanceof BadRequest)) throw error;
      send(res, 400, JSON.stringify({ message: `Bad Request: ${error.message}` }), {}, requestId);
      return log(400, JSON.stringify({ error: 'bad-request', detail: error.message }));
    }
    if (!matched) {
      send(res, 404, JSON.stringify({ message: 'Not Found' }), {}, requestId);
      return log(404);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of req) {
        size += (chunk as Buffer).length;
        if (size > MAX_BODY) {
          send(res, 413, JSON.stringify({ message: 'Request Entity Too Large' }), {}, requestId);
          return log(413);
        }
        chunks.push(chunk as Buffer);
      }
    } catch (error) {
      // The client hung up mid-body (`aborted`, ECONNRESET): there is nobody left to answer.
      return log(
        400,
        JSON.stringify({
          error: 'incomplete-body',
          detail: `the client closed the connection after ${size} bytes of the body (${(error as Error).message})`,
        }),
      );
    }
    const event = toEventV2(
      req,
      Buffer.concat(chunks),
      matched.route,
      matched.parameters,
      requestId,
      port,
    );
    const context = lambdaContext(
      matched.route.functionName,
      (options.timeoutSeconds ?? 30) * 1000,
    );
    try {
      const result = await matched.route.handler(event, context);
      const status = sendResult(res, result, requestId);
      log(
        status,
        answerLogBody(
          status,
          typeof result === 'object' && result && 'body' in result
            ? String(result.body ?? '')
            : undefined,
        ),
      );
    } catch (error) {
      // API Gateway hides a failed invocation behind a plain 500; the log says what was thrown.
      if (!res.headersSent)
        send(res, 500, JSON.stringify({ message: 'Internal Server Error' }), {}, requestId);
      else res.destroy();
      const cause = causeOf(error);
      log(500, failureBody('function-failure', cause), cause);
    }
  }

  const server: Server = createServer((req, res) => {
    const started = performance.now();
    const requestId = `${randomUUID().replace(/-/g, '').slice(0, 14)}=`;
    const log = (status: number, body?: string, cause?: FailureCause) => {
      const entry: GatewayRequestLog = {
        requestId,
        method: req.method ?? '',
        path: new URL(req.url ?? '/', 'http://localhost').pathname,
        status,
        ms: performance.now() - started,
        ...(body ? { body } : {}),
        ...(cause ? { cause } : {}),
      };
      if (options.onRequest) options.onRequest(entry);
      // Without a listener a 5xx's cause would go nowhere.
      else if (status >= 500)
        console.error(`local gateway: ${entry.method} ${entry.path} ${status}: ${body ?? ''}`);
    };
    serve(req, res, requestId, log).catch((error: unknown) => {
      // Nothing a client sends may stop the whole runtime: answer 500 and say what broke.
      if (!res.headersSent)
        send(res, 500, JSON.stringify({ message: 'Internal Server Error' }), {}, requestId);
      else res.destroy();
      const cause = causeOf(error);
      try {
        log(500, failureBody('gateway-failure', cause), cause);
      } catch {
        console.error(
          `local gateway: ${req.method} ${req.url} failed: ${cause.name}: ${cause.message}\n  ${cause.stack.join('\n  ')}`,
        );
      }
    });
  });
  port = await listen(server, options.port ?? 0, options.host ?? '127.0.0.1');
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    stop: () => close(server),
  };
}
