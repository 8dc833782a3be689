import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RelationNotFound } from '../../functions/errors/index.ts';
import type { OdooClient } from '../../functions/odoo/client.ts';
import { resolveRelations } from '../../functions/sync/relations.ts';
import { type OdooEmulator, startOdooEmulator } from '../../local/odoo/server.ts';
import { integrationClient } from '../support/odoo.ts';

let emulator: OdooEmulator;
let client: OdooClient;

beforeEach(async () => {
  emulator = await startOdooEmulator();
  client = await integrationClient(emulator);
});
afterEach(() => emulator.stop());

const guest = (email: string, create?: Record<string, unknown>) => ({
  '@model': 'res.partner',
  '@match': { email },
  ...(create ? { '@create': create } : {}),
});

describe('resolveRelations', () => {
  it('names the model and the key of a missing record, never the personal value', async () => {
    const [result] = await resolveRelations(client, [
      { values: { partner_id: guest('gina.guest@example.com') }, owner: 'shopify_order_1' },
    ]);
    const error = (result as { error: Error }).error;
    expect(error).toBeInstanceOf(RelationNotFound);
    expect(error.message).toBe('no res.partner record for the given email');
    expect(JSON.stringify({ ...error, message: error.message })).not.toContain('gina');
  });

  it('creates a record matched by natural keys once, for every event of the batch that needs it', async () => {
    const create = { name: 'Gina Guest', email: 'gina.guest@example.com' };
    const results = await resolveRelations(client, [
      { values: { partner_id: guest('gina.guest@example.com', create) }, owner: 'order_1' },
      { values: { partner_id: guest('Gina.Guest@Example.com ', create) }, owner: 'order_2' },
    ]);
    const ids = results.map((r) => ('values' in r ? r.values.partner_id : r.error));
    expect(ids[0]).toEqual(expect.any(Number));
    expect(ids[1]).toBe(ids[0]);
    expect(results.map((r) => r.related.map((x) => x.status))).toEqual([['created'], ['found']]);
    // A retry of the first event finds what it created.
    const [again] = await resolveRelations(client, [
      { values: { partner_id: guest('gina.guest@example.com', create) }, owner: 'order_1' },
    ]);
    expect(again).toMatchObject({ values: { partner_id: ids[0] }, related: [{ status: 'found' }] });
    expect(
      emulator.orm.call(2, 'res.partner', 'search_count', [[['email', '=', create.email]]], {}),
    ).toBe(1);
  });
});
