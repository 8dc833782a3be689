/**
 * POSTs JSON to Odoo with a per-call timeout and the invocation's deadline, turning network
 * failures into OdooTransportError and a passed deadline into OdooDeadlineExceeded.
 */
import { OdooDeadlineExceeded, OdooTransportError } from './errors/index.ts';

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

export async function postJson(
  url: string,
  body: unknown,
  options: {
    headers?: Record<string, string>;
    timeoutMs: number;
    deadline?: AbortSignal;
    model?: string;
    method?: string;
  },
): Promise<HttpAnswer> {
  const { deadline } = options;
  if (deadline?.aborted)
    throw new OdooDeadlineExceeded({ model: options.model, method: options.method, sent: false });
  const timeout = AbortSignal.timeout(options.timeoutMs);
  let response: Response;
  try {
    // Node's fetch keeps connections alive between calls (undici's pool per origin).
    response = await fetch(url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Accept: 'application/json',
        ...options.headers,
      },
      body: JSON.stringify(body),
      signal: deadline ? AbortSignal.any([timeout, deadline]) : timeout,
    });
    return { status: response.status, headers: response.headers, text: await response.text() };
  } catch (error) {
    if (deadline?.aborted && !timeout.aborted)
      throw new OdooDeadlineExceeded({
        model: options.model,
        method: options.method,
        sent: true,
        cause: error,
      });
    const e = error as { name?: string; cause?: { code?: string } };
    const timedOut = e.name === 'TimeoutError' || e.name === 'AbortError';
    const refused = e.cause?.code === 'ECONNREFUSED' || e.cause?.code === 'ENOTFOUND';
    throw new OdooTransportError(
      timedOut
        ? `no answer from Odoo within ${options.timeoutMs} ms`
        : `cannot reach Odoo at ${new URL(url).origin}: ${e.cause?.code ?? e.name ?? 'network error'}`,
      { model: options.model, method: options.method, cause: error, notProcessed: refused },
    );
  }
}
