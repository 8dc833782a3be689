/**
 * Where the workers find Odoo: cdk.json's address from the environment, the credential from the
 * secret; a secret stored before the address moved out of it keeps working.
 */
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../functions/errors/index.ts';
import { readOdooAddress } from '../../functions/platform/odoo-address.ts';
import { type CachedSecrets, OdooConnection } from '../../functions/platform/secrets.ts';

/** A Secrets Manager that holds one value for the Odoo secret. */
function holding(value: Record<string, unknown> | undefined): CachedSecrets {
  return {
    json: async () => value,
    jsonAtStage: async () => undefined,
  } as unknown as CachedSecrets;
}

const SECRET = 'spine/test/odoo';
const CREDENTIAL = { login: 'spine@example.com', password: 'secret' };

describe('the Odoo connection', () => {
  it('connects to the configured Odoo with a secret that holds only the credential', async () => {
    const address = readOdooAddress({
      SPINE_ODOO_URL: 'https://erp.example.com',
      SPINE_ODOO_DATABASE: 'production',
      SPINE_ODOO_PROTOCOL: 'jsonrpc',
    });
    const odoo = await new OdooConnection(holding(CREDENTIAL), SECRET, {}, address).client();
    expect(odoo.config).toMatchObject({
      url: 'https://erp.example.com',
      database: 'production',
      login: 'spine@example.com',
      protocol: 'jsonrpc',
    });
  });

  it('prefers the configured address to the one a secret stored before still holds', async () => {
    const old = { ...CREDENTIAL, url: 'https://old.example.com', database: 'old' };
    const odoo = await new OdooConnection(
      holding(old),
      SECRET,
      {},
      {
        url: 'https://erp.example.com',
        database: 'production',
        protocol: 'jsonrpc',
      },
    ).client();
    expect(odoo.config).toMatchObject({ url: 'https://erp.example.com', database: 'production' });
  });

  it('keeps working with a secret stored before, when nothing is configured', async () => {
    const old = {
      ...CREDENTIAL,
      url: 'https://old.example.com',
      database: 'old',
      protocol: 'jsonrpc',
    };
    const odoo = await new OdooConnection(holding(old), SECRET).client();
    expect(odoo.config).toMatchObject({ url: 'https://old.example.com', database: 'old' });
  });

  it('says the credential was never stored when the secret is as the stack created it', async () => {
    const error = await new OdooConnection(
      holding({}),
      SECRET,
      {},
      { url: 'https://erp.example.com' },
    )
      .client()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toContain(`${SECRET} holds no login yet`);
  });

  it('names the setting when neither the environment nor the secret says where Odoo is', async () => {
    const error = await new OdooConnection(holding(CREDENTIAL), SECRET)
      .client()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toBe(
      'no Odoo url: SPINE_ODOO_URL is unset and the credential secret has no "url"',
    );
  });

  it('refuses a protocol Odoo does not speak', () => {
    expect(() => readOdooAddress({ SPINE_ODOO_PROTOCOL: 'xmlrpc' })).toThrow(ConfigurationError);
  });
});
