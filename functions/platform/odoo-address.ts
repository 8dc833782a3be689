/**
 * Where Spine's Odoo is: its URL, database and protocol. cdk.json owns them, per environment, and
 * the stack gives them to every function as SPINE_ODOO_URL, SPINE_ODOO_DATABASE and
 * SPINE_ODOO_PROTOCOL. They stay out of the credential secret: were they in it, the template
 * would write the secret, and a deploy that changed the URL would overwrite the stored (and
 * rotated) login with the template's empty one. A secret stored before they moved, which still
 * holds "url" and "database", keeps working: what the environment leaves unset is read from it.
 */
import { ConfigurationError } from '../errors/configuration-error.ts';

export type OdooProtocol = 'json2' | 'jsonrpc' | 'auto';

export interface OdooAddress {
  readonly url: string;
  readonly database: string;
  readonly protocol: OdooProtocol;
}

const PROTOCOLS: readonly string[] = ['json2', 'jsonrpc', 'auto'];

/** The address the environment variables give; a variable left unset is left out. */
export function readOdooAddress(env: NodeJS.ProcessEnv): Partial<OdooAddress> {
  const protocol = env.SPINE_ODOO_PROTOCOL;
  if (protocol && !PROTOCOLS.includes(protocol))
    throw new ConfigurationError(
      `SPINE_ODOO_PROTOCOL must be json2, jsonrpc or auto, got "${protocol}"`,
      'set odoo.protocol in cdk.json to one of them, or unset it for auto',
    );
  return {
    ...(env.SPINE_ODOO_URL ? { url: env.SPINE_ODOO_URL } : {}),
    ...(env.SPINE_ODOO_DATABASE ? { database: env.SPINE_ODOO_DATABASE } : {}),
    ...(protocol ? { protocol: protocol as OdooProtocol } : {}),
  };
}

/**
 * The configured address, completed from what a credential secret stored before holds; the
 * configuration wins, so that changing cdk.json moves Spine to another Odoo.
 */
export function odooAddress(
  configured: Partial<OdooAddress>,
  stored: { readonly url?: string; readonly database?: string; readonly protocol?: OdooProtocol },
): OdooAddress {
  const url = configured.url || stored.url;
  const database = configured.database || stored.database;
  if (!url || !database) {
    const [key, variable] = url ? ['database', 'SPINE_ODOO_DATABASE'] : ['url', 'SPINE_ODOO_URL'];
    throw new ConfigurationError(
      `no Odoo ${key}: ${variable} is unset and the credential secret has no "${key}"`,
      `set odoo.${key} in cdk.json and deploy`,
    );
  }
  return { url, database, protocol: configured.protocol ?? stored.protocol ?? 'auto' };
}
