/**
 * Where the conformance suite runs: a real Odoo when ODOO_URL is set (with ODOO_DB, ODOO_LOGIN
 * and ODOO_PASSWORD or ODOO_API_KEY), otherwise the local emulator. The same cases must pass
 * against both.
 */
import { startOdooEmulator } from '../../../local/odoo/server.ts';

export interface ConformanceTarget {
  readonly url: string;
  readonly db: string;
  readonly login: string;
  /** Password when known, else the API key. */
  readonly password: string;
  readonly apiKey?: string;
  /**
   * A user who may create reference data (taxes, pricelists): ODOO_ADMIN_LOGIN and
   * ODOO_ADMIN_PASSWORD against a real Odoo (default: the user above), the emulator's admin.
   */
  readonly admin: { readonly login: string; readonly password: string };
  readonly version: number;
  readonly emulated: boolean;
  stop(): Promise<void>;
}

export async function conformanceTarget(): Promise<ConformanceTarget> {
  const url = process.env.ODOO_URL;
  if (url) {
    const password = process.env.ODOO_PASSWORD ?? process.env.ODOO_API_KEY ?? '';
    const response = await fetch(`${url.replace(/\/$/, '')}/web/version`);
    const version = Number(((await response.json()) as { version_info: number[] }).version_info[0]);
    return {
      url: url.replace(/\/$/, ''),
      db: process.env.ODOO_DB ?? '',
      login: process.env.ODOO_LOGIN ?? '',
      password,
      apiKey: process.env.ODOO_API_KEY,
      admin: {
        login: process.env.ODOO_ADMIN_LOGIN ?? process.env.ODOO_LOGIN ?? '',
        password: process.env.ODOO_ADMIN_PASSWORD ?? password,
      },
      version,
      emulated: false,
      stop: async () => {},
    };
  }
  const version = Number(process.env.ODOO_EMULATOR_VERSION ?? 18) as 16 | 17 | 18 | 19;
  const emulator = await startOdooEmulator({ version });
  return {
    url: emulator.url,
    db: emulator.database,
    login: emulator.integration.login,
    password: emulator.integration.password,
    apiKey: emulator.integration.apiKey,
    admin: { login: emulator.admin.login, password: emulator.admin.password },
    version,
    emulated: true,
    stop: () => emulator.stop(),
  };
}

/** A raw JSON-RPC call, so the suite checks the wire and not our client's reading of it. */
export async function jsonRpc(
  target: ConformanceTarget,
  service: string,
  method: string,
  args: unknown[],
) {
  const response = await fetch(`${target.url}/jsonrpc`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      method: 'call',
      params: { service, method, args },
      id: 7,
    }),
  });
  return {
    status: response.status,
    body: (await response.json()) as {
      id: unknown;
      result?: unknown;
      error?: { code: number; message: string; data: { name: string; message: string } };
    },
  };
}

export function uniqueTag(): string {
  return `spine-conformance-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
