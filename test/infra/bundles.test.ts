/**
 * The Lambda bundles, built with the stack's own esbuild settings, run the whole path on the
 * local runtime: what is deployed works, not only the TypeScript the other tests import.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleHandler } from '../../infra/bundle-handler.ts';
import type { OdooEmulator } from '../../local/odoo/server.ts';
import { loadFixture } from '../support/fixtures.ts';
import { sendFixture, startTestRuntime, waitFor } from '../support/local-runtime.ts';

const dir = mkdtempSync(join(tmpdir(), 'spine-bundles-'));
type Runtime = Awaited<ReturnType<typeof startTestRuntime>>;
let runtime: Runtime;

async function loadBundle(handlerFile: string) {
  const file = await bundleHandler({ handlerFile }, dir, handlerFile.replace('.ts', ''));
  return (await import(pathToFileURL(file).href)).handler;
}

beforeAll(async () => {
  const [receiver, worker, rotation] = await Promise.all(
    ['receiver.ts', 'worker.ts', 'rotate-credentials.ts'].map(loadBundle),
  );
  runtime = await startTestRuntime({ handlers: async () => ({ receiver, worker, rotation }) });
}, 120_000);
afterAll(async () => {
  await runtime.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('the deployed bundles', { timeout: 60_000 }, () => {
  it('verify, queue and apply a Stripe customer into Odoo, and refuse a bad signature', async () => {
    const emulator = runtime.odooEmulator as OdooEmulator;
    const fixture = loadFixture('stripe/customer.created');
    expect((await sendFixture(runtime, fixture, { secret: 'whsec_wrong' })).status).toBe(401);
    expect((await sendFixture(runtime, fixture)).status).toBe(202);
    const partner = await waitFor('the partner in Odoo', async () => {
      const [found] = emulator.orm.call(
        2,
        'ir.model.data',
        'search_read',
        [
          [
            ['module', '=', 'spine'],
            ['model', '=', 'res.partner'],
          ],
        ],
        { fields: ['res_id', 'name'] },
      ) as { res_id: number; name: string }[];
      return found;
    });
    expect(partner.name).toMatch(/^stripe_customer_cus_/);
  });
});
