import { afterEach, describe, expect, it } from 'vitest';
import { OdooClient } from '../../functions/odoo/client.ts';
import {
  OdooAccessDenied,
  OdooAccessError,
  OdooCircuitOpen,
  OdooMissingError,
  OdooServerError,
  OdooTransportError,
  OdooValidationError,
} from '../../functions/odoo/errors/index.ts';
import type { GuardOptions } from '../../functions/odoo/guard.ts';
import { matchExisting } from '../../functions/odoo/match.ts';
import { upsertByExternalId } from '../../functions/odoo/upsert.ts';
import { type OdooEmulator, startOdooEmulator } from '../../local/odoo/server.ts';

const running: OdooEmulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((e) => e.stop()));
});

const noWait: GuardOptions = { ratePerSecond: 10_000, sleep: async () => {}, random: () => 0 };

async function setup(version: 16 | 17 | 18 | 19 = 18, guard: GuardOptions = noWait) {
  const emulator = await startOdooEmulator({ version });
  running.push(emulator);
  const client = await OdooClient.connect({
    url: emulator.url,
    database: emulator.database,
    login: emulator.integration.login,
    secret: version >= 19 ? emulator.integration.apiKey : emulator.integration.password,
    guard,
  });
  return { emulator, client };
}

const countOf = (emulator: OdooEmulator, model: string, domain: unknown[] = []) =>
  emulator.orm.call(emulator.admin.uid, model, 'search_count', [domain], {}) as number;

describe.each([
  [17, 'jsonrpc'],
  [19, 'json2'],
] as const)('OdooClient on Odoo %i (%s)', (version, protocol) => {
  it('detects the version and picks the protocol', async () => {
    const { client } = await setup(version);
    expect(client.version).toBe(version);
    expect(client.protocolName).toBe(protocol);
  });

  it('turns Odoo exceptions into the error family, with model, method and Odoo name', async () => {
    const { client } = await setup(version);
    const denied = await client.unlink('res.partner', [1]).catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(OdooAccessError);
    expect(denied).toMatchObject({
      retryable: false,
      model: 'res.partner',
      method: 'unlink',
      odooName: 'odoo.exceptions.AccessError',
    });
    const missing = await client.read('res.partner', [999_999], ['name']).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(OdooMissingError);
    const invalid = await client
      .create('res.partner', [{ name: 'x', no_such_field: 1 }])
      .catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(OdooValidationError);
    expect((invalid as OdooValidationError).odooMessage).toContain('no_such_field');
  });

  it('refuses bad credentials with a hint about the secret', async () => {
    const { emulator } = await setup(version);
    const client = await OdooClient.connect({
      url: emulator.url,
      database: emulator.database,
      login: emulator.integration.login,
      secret: 'f'.repeat(40),
      guard: noWait,
    });
    const error = await client.searchCount('res.partner', []).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OdooAccessDenied);
    expect((error as OdooAccessDenied).hint).toMatch(/secret|API key/);
  });

  it('retries lock errors until the call goes through', async () => {
    const { emulator, client } = await setup(version);
    emulator.faults.set({ errorRate: { lock: 0.5 }, seed: 7 });
    for (let i = 0; i < 10; i++)
      expect(await client.searchCount('res.country', [['code', '=', 'FR']])).toBe(1);
    expect(emulator.faults.injected.lock).toBeGreaterThan(0);
    expect(client.stats.retries).toBe(emulator.faults.injected.lock);
  });

  it('writes renamed fields under the name this version knows', async () => {
    const { emulator, client } = await setup(version);
    const [payment = 0] = await client.create('account.payment', [
      { payment_type: 'inbound', partner_type: 'customer', amount: 10, memo: 'renamed' },
    ]);
    const stored = emulator.orm.call(
      emulator.admin.uid,
      'account.payment',
      'read',
      [[payment], [version >= 18 ? 'memo' : 'ref']],
      {},
    ) as Record<string, unknown>[];
    expect(Object.values(stored[0] ?? {})).toContain('renamed');
    const [read] = await client.read('account.payment', [payment], ['memo']);
    expect(Object.values(read ?? {})).toContain('renamed');
  });
});

describe('protecting Odoo', () => {
  it('honours Retry-After on 429 and gives up with a retryable transport error', async () => {
    const waits: number[] = [];
    const { emulator, client } = await setup(18, {
      ...noWait,
      retries: 2,
      sleep: async (ms) => void waits.push(ms),
    });
    emulator.faults.set({ transport: { rate: 1, kind: 429, retryAfterSeconds: 3 } });
    const error = await client.searchCount('res.partner', []).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OdooTransportError);
    expect(error).toMatchObject({ retryable: true, status: 429, retryAfterMs: 3000 });
    expect(waits.filter((ms) => ms >= 3000)).toHaveLength(2);
  });

  it('opens the circuit after sustained failures, says so, and closes after a good trial call', async () => {
    let now = 1_000_000;
    const { emulator, client } = await setup(18, {
      ...noWait,
      retries: 0,
      breakerThreshold: 2,
      breakerOpenMs: 10_000,
      now: () => now,
    });
    emulator.faults.set({ transport: { rate: 1, kind: 503 } });
    await expect(client.searchCount('res.partner', [])).rejects.toBeInstanceOf(OdooTransportError);
    await expect(client.searchCount('res.partner', [])).rejects.toBeInstanceOf(OdooTransportError);
    const refused = await client.searchCount('res.partner', []).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OdooCircuitOpen);
    expect((refused as Error).message).toMatch(
      /circuit open .* 2 consecutive failures; no calls for 10 s/,
    );
    expect(emulator.faults.injected['transport-503']).toBe(2);
    emulator.faults.clear();
    now += 10_001;
    expect(await client.searchCount('res.country', [['code', '=', 'FR']])).toBe(1);
    expect(await client.searchCount('res.country', [['code', '=', 'FR']])).toBe(1);
  });

  it('does not retry an unexpected server error: the same call would fail the same way', async () => {
    const { emulator, client } = await setup(18);
    emulator.faults.set({ errorRate: { server: 1 } });
    const error = await client.searchCount('res.partner', []).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OdooServerError);
    expect(error).toMatchObject({ retryable: false, odooName: 'builtins.RuntimeError' });
    expect(client.stats.retries).toBe(0);
  });

  it('does not retry a plain create whose answer was lost, so it cannot create twice', async () => {
    const { emulator, client } = await setup(18);
    emulator.faults.set({ commitThenFail: 1 });
    const error = await client
      .create('res.partner', [{ name: 'Once Only' }])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OdooTransportError);
    expect(countOf(emulator, 'res.partner', [['name', '=', 'Once Only']])).toBe(1);
  });
});

describe('upsertByExternalId', () => {
  it('creates, then reports unchanged, then updates only what changed and never create-only fields', async () => {
    const { emulator, client } = await setup(18);
    const row = {
      externalId: 'stripe_customer_cus_1',
      values: { name: 'Ann', email: 'ann@example.com', country_id: 2 },
      createOnly: ['name'],
    };
    expect(await upsertByExternalId(client, 'res.partner', [row])).toEqual([
      { externalId: row.externalId, id: expect.any(Number), status: 'created' },
    ]);
    expect((await upsertByExternalId(client, 'res.partner', [row]))[0]?.status).toBe('unchanged');
    const [updated] = await upsertByExternalId(client, 'res.partner', [
      { ...row, values: { name: 'Ann Other', email: 'ann@new.example', country_id: 2 } },
    ]);
    expect(updated?.status).toBe('updated');
    const [stored] = await client.read('res.partner', [updated?.id as number], ['name', 'email']);
    expect(stored).toMatchObject({ name: 'Ann', email: 'ann@new.example' });
    expect(
      countOf(emulator, 'ir.model.data', [
        ['module', '=', 'spine'],
        ['name', '=', row.externalId],
      ]),
    ).toBe(1);
  });

  it('needs at most 3 round trips for a batch of 10 (0.3 per record)', async () => {
    const { client } = await setup(18);
    await client.fieldsGet('res.partner');
    const rows = Array.from({ length: 10 }, (_, i) => ({
      externalId: `c_${i}`,
      values: { name: `C ${i}`, email: `c${i}@example.com` },
      match: [{ field: 'email', value: `c${i}@example.com`, normalise: 'email' as const }],
    }));
    const before = client.stats.calls;
    const results = await upsertByExternalId(client, 'res.partner', rows);
    expect(results.every((r) => r.status === 'created')).toBe(true);
    expect(client.stats.calls - before).toBeLessThanOrEqual(3);
  });

  it('isolates bad rows with a non-retryable error naming the model, field and row; the rest are written', async () => {
    const { emulator, client } = await setup(18);
    const rows = [
      { externalId: 'ok_1', values: { name: 'Good One', customer_rank: 1 } },
      { externalId: 'bad_type', values: { name: 'Bad Type', customer_rank: 'many' } },
      { externalId: 'ok_2', values: { name: 'Good Two', customer_rank: 2 } },
      {
        externalId: 'bad_m2o',
        values: { name: 'Bad Country', customer_rank: 1, country_id: 99_999 },
      },
      { externalId: 'bad_required', values: { name: '', customer_rank: 1 } },
      { externalId: 'ok_3', values: { name: 'Good Three', customer_rank: 3 } },
    ];
    const results = await upsertByExternalId(client, 'res.partner', rows);
    expect(results.map((r) => r.status)).toEqual([
      'created',
      'failed',
      'created',
      'failed',
      'failed',
      'created',
    ]);
    for (const failed of results.filter((r) => r.status === 'failed')) {
      expect(failed.error).toBeInstanceOf(OdooValidationError);
      expect(failed.error).toMatchObject({ retryable: false, model: 'res.partner' });
      expect(failed.error?.message).toContain(`row ${failed.externalId}`);
    }
    expect(results[1]?.error?.message).toContain('Customer Rank');
    expect(results[3]?.error?.message).toContain('Country');
    expect(countOf(emulator, 'res.partner', [['name', 'like', 'Good']])).toBe(3);

    const unknownField = await upsertByExternalId(client, 'res.partner', [
      { externalId: 'bad_field', values: { name: 'X', shoe_size: 42 } },
      { externalId: 'ok_4', values: { name: 'Good Four' } },
    ]);
    expect(unknownField.map((r) => r.status)).toEqual(['failed', 'created']);
    expect(unknownField[0]?.error?.message).toContain('shoe_size');
  });

  it('links a new external id to the partner found by a normalised e-mail or VAT instead of creating one', async () => {
    const { emulator, client } = await setup(18);
    const [byEmail = 0, byVat = 0] = await client.create('res.partner', [
      { name: 'Bob', email: ' Bob@Example.com ' },
      { name: 'Vat Co', vat: 'fr 12 345 678 901' },
    ]);
    const results = await upsertByExternalId(client, 'res.partner', [
      {
        externalId: 'shopify_customer_1',
        values: { name: 'Robert', email: 'bob@example.com' },
        createOnly: ['name'],
        match: [{ field: 'email', value: 'BOB@example.com', normalise: 'email' }],
      },
      {
        externalId: 'stripe_customer_9',
        values: { name: 'Vat Company' },
        createOnly: ['name'],
        match: [{ field: 'vat', value: 'FR12345678901', normalise: 'vat' }],
      },
    ]);
    expect(results).toMatchObject([
      { id: byEmail, status: 'updated', linkedBy: 'email' },
      { id: byVat, status: 'unchanged', linkedBy: 'vat' },
    ]);
    expect(countOf(emulator, 'res.partner', [['name', 'in', ['Robert', 'Vat Company']]])).toBe(0);
    expect(
      await matchExisting(client, 'res.partner', [
        { field: 'email', value: 'bob@EXAMPLE.com', normalise: 'email' },
      ]),
    ).toBe(byEmail);
  });

  it('writes orders with their lines in one load, and skips update-only rows with no record', async () => {
    const { emulator, client } = await setup(19);
    const [partner = 0] = await client.create('res.partner', [{ name: 'Buyer' }]);
    const results = await upsertByExternalId(client, 'sale.order', [
      {
        externalId: 'shopify_order_1',
        values: {
          partner_id: partner,
          client_order_ref: '#1001',
          order_line: [
            { name: 'A', product_uom_qty: 2, price_unit: 10 },
            { name: 'B', product_uom_qty: 1, price_unit: 2.5 },
          ],
        },
      },
      {
        externalId: 'shopify_order_2',
        values: {
          partner_id: partner,
          client_order_ref: '#1002',
          order_line: [{ name: 'C', product_uom_qty: 1, price_unit: 1 }],
        },
      },
    ]);
    expect(results.map((r) => r.status)).toEqual(['created', 'created']);
    const orders = await client.read(
      'sale.order',
      results.map((r) => r.id as number),
      ['amount_untaxed', 'order_line'],
    );
    expect(orders.map((o) => [o.amount_untaxed, (o.order_line as number[]).length])).toEqual([
      [22.5, 2],
      [1, 1],
    ]);
    const skipped = await upsertByExternalId(client, 'res.partner', [
      { externalId: 'hubspot_contact_51', values: { email: 'x@y.z' }, updateOnly: true },
    ]);
    expect(skipped[0]?.status).toBe('skipped');
    expect(countOf(emulator, 'res.partner', [['email', '=', 'x@y.z']])).toBe(0);
  });

  it('never duplicates when Odoo commits but the answer is lost, however often that happens', async () => {
    const { emulator, client } = await setup(18);
    const rows = Array.from({ length: 20 }, (_, i) => ({
      externalId: `evt_${i}`,
      values: { name: `Lossy ${i}`, email: `lossy${i}@example.com` },
    }));
    // Every answer to a write is lost: a load that creates is not sent again in the call (sent
    // again, the creations would become updates), so the event is left to its queue's retry.
    emulator.faults.set({ commitThenFail: 1 });
    await expect(upsertByExternalId(client, 'res.partner', rows)).rejects.toBeInstanceOf(
      OdooTransportError,
    );
    expect(emulator.faults.injected['commit-then-fail']).toBe(1);
    // The next delivery finds every record already written under its external id.
    emulator.faults.clear();
    const results = await upsertByExternalId(client, 'res.partner', rows);
    expect(new Set(results.map((r) => r.status))).toEqual(new Set(['unchanged']));
    expect(countOf(emulator, 'res.partner', [['name', 'like', 'Lossy']])).toBe(20);
    expect(countOf(emulator, 'ir.model.data', [['module', '=', 'spine']])).toBe(20);
  });
});
