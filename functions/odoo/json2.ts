/**
 * JSON-2 (`POST /json/2/<model>/<method>`, Odoo 19): a bearer API key, named arguments only,
 * one transaction per call, and HTTP statuses that follow the exception.
 */
import { errorFromOdoo, errorFromStatus } from './classify.ts';
import { OdooServerError } from './errors/index.ts';
import { postJson } from './http.ts';
import type { OdooCall, OdooCredentials, OdooProtocol } from './protocol.ts';

export class Json2Protocol implements OdooProtocol {
  readonly name = 'json2';

  constructor(
    private readonly url: string,
    private readonly database: string,
    private readonly credentials: OdooCredentials,
  ) {}

  async call(call: OdooCall): Promise<unknown> {
    const body: Record<string, unknown> = {};
    if (call.ids) body.ids = call.ids;
    for (const [key, value] of Object.entries(call.named))
      if (value !== undefined) body[key] = value;
    if (call.context) body.context = call.context;
    const answer = await postJson(
      `${this.url}/json/2/${encodeURIComponent(call.model)}/${encodeURIComponent(call.method)}`,
      body,
      {
        headers: {
          Authorization: `bearer ${this.credentials.secret}`,
          'X-Odoo-Database': this.database,
        },
        timeoutMs: call.timeoutMs,
        ...(call.deadline ? { deadline: call.deadline } : {}),
        model: call.model,
        method: call.method,
      },
    );
    let parsed: unknown;
    try {
      parsed = answer.text === '' ? null : JSON.parse(answer.text);
    } catch {
      if (answer.status === 200) {
        throw new OdooServerError(
          `Odoo answered something that is not JSON: ${answer.text.slice(0, 120)}`,
          { model: call.model, method: call.method, status: 200 },
        );
      }
      throw errorFromStatus(answer.status, answer.headers.get('retry-after'), {
        model: call.model,
        method: call.method,
      });
    }
    if (answer.status === 200) return parsed;
    const error = parsed as { name?: string; message?: string } | null;
    if (error && typeof error === 'object' && typeof error.name === 'string') {
      throw errorFromOdoo(error.name, error.message ?? '', {
        model: call.model,
        method: call.method,
        status: answer.status,
      });
    }
    throw errorFromStatus(answer.status, answer.headers.get('retry-after'), {
      model: call.model,
      method: call.method,
    });
  }
}
