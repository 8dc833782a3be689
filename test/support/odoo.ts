/** An Odoo client signed in to an emulator as its integration user, the way the worker signs in. */
import { OdooClient } from '../../functions/odoo/client.ts';
import type { GuardOptions } from '../../functions/odoo/guard.ts';
import type { OdooEmulator } from '../../local/odoo/server.ts';

export function integrationClient(
  emulator: OdooEmulator,
  guard: GuardOptions = { ratePerSecond: 10_000 },
): Promise<OdooClient> {
  return OdooClient.connect({
    url: emulator.url,
    database: emulator.database,
    login: emulator.integration.login,
    secret: emulator.integration.password,
    guard,
  });
}
