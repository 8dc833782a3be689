import { rmSync } from 'node:fs';
import { GetSecretValueCommand, RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { afterEach, describe, expect, it } from 'vitest';
import { odooSecretName } from '../../functions/platform/names.ts';
import type { OdooCredential } from '../../functions/rotation/rotate.ts';
import type { LocalRuntime } from '../../local/runtime.ts';
import { reconcileOdooSecret } from '../../local/runtime.ts';
import { loadFixture } from '../support/fixtures.ts';
import {
  localSecretsClient,
  sendFixture,
  startTestRuntime,
  waitFor,
} from '../support/local-runtime.ts';

const SECRET = odooSecretName('local');
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function odooSecret(runtime: LocalRuntime): Promise<OdooCredential> {
  const client = localSecretsClient(runtime);
  return JSON.parse(
    (await client.send(new GetSecretValueCommand({ SecretId: SECRET }))).SecretString ?? '{}',
  ) as OdooCredential;
}

describe('the local Odoo secret across restarts', { timeout: 120_000 }, () => {
  it('follows the emulator to a new port, keeping a rotated password, and events reach Odoo', async () => {
    const first = await startTestRuntime();
    cleanups.push(async () => rmSync(first.dataDir, { recursive: true, force: true }));
    const secrets = localSecretsClient(first);
    await secrets.send(
      new RotateSecretCommand({
        SecretId: SECRET,
        RotationLambdaARN: 'spine-local-rotate-credentials',
      }),
    );
    await first.secretsManager.rotationsSettled();
    const rotated = await odooSecret(first);
    expect(rotated.password).not.toBe('spine-local-password');
    await first.stop();

    // Same state folder, another Odoo port (SPINE_ODOO_PORT changed).
    const second = await startTestRuntime({ dataDir: first.dataDir });
    cleanups.push(() => second.dispose());
    expect(second.odoo.url).not.toBe(first.odoo.url);
    const secret = await odooSecret(second);
    expect(secret).toMatchObject({ url: second.odoo.url, password: rotated.password });

    expect((await sendFixture(second, loadFixture('stripe/customer.created'))).status).toBe(202);
    const emulator = second.odooEmulator;
    await waitFor('the customer in Odoo', async () =>
      emulator?.orm.call(
        2,
        'res.partner',
        'search_count',
        [[['email', '=', 'Camille.Durand@example.com']]],
        {},
      ),
    );
  });
});

describe('reconcileOdooSecret with ODOO_URL (no emulator)', () => {
  const given: OdooCredential = {
    url: 'https://odoo.example.com',
    database: 'prod',
    login: 'spine@example.com',
    password: 'given',
  };

  it('keeps the stored secret, rotated password included, while the connection is the same', () => {
    const stored = { ...given, password: 'rotated', protocol: 'auto' as const };
    expect(reconcileOdooSecret(stored, given, undefined)).toBe(stored);
  });

  it('takes the given Odoo and its credential when ODOO_URL, ODOO_DB or ODOO_LOGIN changed', () => {
    const stored = { ...given, password: 'rotated', protocol: 'jsonrpc' as const };
    for (const change of [
      { url: 'https://erp.example.com' },
      { database: 'staging' },
      { login: 'other@example.com' },
    ])
      expect(reconcileOdooSecret(stored, { ...given, ...change }, undefined)).toEqual({
        ...given,
        ...change,
        protocol: 'jsonrpc',
      });
  });
});
