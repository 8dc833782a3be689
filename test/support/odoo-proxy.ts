/**
 * A proxy in front of the Odoo emulator that can hold one kind of call back (the caller gives
 * up, Odoo still runs it later: a late commit) or answer it differently (a row message instead
 * of a result), the way a slow or unusual Odoo does, for one method only.
 */
import { createServer, type IncomingHttpHeaders, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxyRule {
  /** The ORM method the rule applies to (`load`, `search_read`, ...). */
  readonly method: string;
  /** Only calls on this model. @default every model */
  readonly model?: string;
  /** Forward the call this many ms late, whether or not the caller still waits. */
  readonly delayMs?: number;
  /** Answer this result instead of Odoo's (the call still runs in Odoo unless `skip`). */
  readonly answer?: unknown;
  /** Do not forward the call at all. */
  readonly skip?: boolean;
  /** Forward the call (Odoo commits it), then cut the connection: the answer is lost. */
  readonly dropAnswer?: boolean;
  /** How many calls the rule applies to. @default every call */
  readonly times?: number;
}

export interface OdooProxy {
  readonly url: string;
  /** Calls forwarded to Odoo, by method. */
  readonly forwarded: Map<string, number>;
  rule(rule: ProxyRule | undefined): void;
  stop(): Promise<void>;
}

/** The model and ORM method of a JSON-RPC execute_kw body. */
function callOf(body: string): { model?: string; method?: string } {
  try {
    const args = (JSON.parse(body) as { params?: { args?: unknown[] } }).params?.args;
    return typeof args?.[4] === 'string' ? { model: String(args[3]), method: args[4] } : {};
  } catch {
    return {};
  }
}

export async function startOdooProxy(target: string): Promise<OdooProxy> {
  const forwarded = new Map<string, number>();
  let current: (ProxyRule & { used: number }) | undefined;
  const upstream = new URL(target);
  const forward = (path: string, method: string, headers: IncomingHttpHeaders, body: string) =>
    new Promise<{ status: number; headers: object; body: string }>((resolve, reject) => {
      const out = request(
        { host: upstream.hostname, port: upstream.port, path, method, headers },
        (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => {
            text += chunk.toString();
          });
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 502, headers: res.headers, body: text }),
          );
        },
      );
      out.on('error', reject);
      out.end(body);
    });

  const server: Server = createServer((req, res) => {
    let body = '';
    // Before an answer is written, a close means the caller gave up (its timeout or deadline).
    let gone = false;
    res.on('close', () => {
      gone = true;
    });
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on('end', async () => {
      const { model, method } = callOf(body);
      const rule =
        current &&
        method === current.method &&
        (current.model === undefined || model === current.model) &&
        (current.times === undefined || current.used < current.times)
          ? current
          : undefined;
      if (rule) rule.used++;
      try {
        if (rule?.delayMs) await new Promise((r) => setTimeout(r, rule.delayMs));
        let answer: { status: number; headers: object; body: string } | undefined;
        if (!rule?.skip) {
          answer = await forward(req.url ?? '/', req.method ?? 'POST', req.headers, body);
          if (method) forwarded.set(method, (forwarded.get(method) ?? 0) + 1);
        }
        if (rule?.dropAnswer || gone) {
          res.destroy();
          return;
        }
        if (rule?.answer !== undefined) {
          const id = (JSON.parse(body) as { id?: unknown }).id ?? null;
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ jsonrpc: '2.0', id, result: rule.answer }));
          return;
        }
        if (!answer) {
          res.destroy();
          return;
        }
        res.writeHead(answer.status, { 'Content-Type': 'application/json' });
        res.end(answer.body);
      } catch {
        res.destroy();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    forwarded,
    rule: (rule) => {
      current = rule ? { ...rule, used: 0 } : undefined;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
