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

/** A record under a Spine external id, as another event would have written it. */
function spineRecord(model: string, name: string, values: Record<string, unknown>): number {
  const [id] = emulator.orm.call(2, model, 'create', [[values]], {}) as [number];
  emulator.orm.call(
    2,
    'ir.model.data',
    'create',
    [[{ module: 'spine', name, model, res_id: id }]],
    {},
  );
  return id;
}

/** The partner of the sale.order under `spine.<order>`, as a refund names it. */
const partnerOf = (order: string) => ({
  '@model': 'res.partner',
  '@of': { '@model': 'sale.order', '@externalId': order, '@field': 'partner_id' },
});

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

  it("resolves @of to what the original's field holds, for each event of the batch", async () => {
    const buyer = spineRecord('res.partner', 'shopify_customer_1', { name: 'Gina Guest' });
    spineRecord('sale.order', 'shopify_order_1', { partner_id: buyer });
    const other = spineRecord('res.partner', 'shopify_customer_2', { name: 'Otto Other' });
    spineRecord('sale.order', 'shopify_order_2', { partner_id: other });

    const results = await resolveRelations(client, [
      { values: { partner_id: partnerOf('shopify_order_1') }, owner: 'shopify_refund_1' },
      { values: { partner_id: partnerOf('spine.shopify_order_2') }, owner: 'shopify_refund_2' },
    ]);

    expect(results).toEqual([
      {
        values: { partner_id: buyer },
        related: [{ model: 'res.partner', recordId: buyer, status: 'found', field: 'partner_id' }],
      },
      {
        values: { partner_id: other },
        related: [{ model: 'res.partner', recordId: other, status: 'found', field: 'partner_id' }],
      },
    ]);
  });

  it('fails retryably when the original is not in Odoo yet, naming it and the record that needs it', async () => {
    const [result] = await resolveRelations(client, [
      { values: { partner_id: partnerOf('shopify_order_9') }, owner: 'shopify_refund_9' },
    ]);

    const error = (result as { error: Error }).error;
    expect(error).toBeInstanceOf(RelationNotFound);
    expect(error).toMatchObject({ retryable: true, model: 'sale.order' });
    expect(error.message).toBe(
      'no sale.order record for external id spine.shopify_order_9 (the original whose partner_id spine.shopify_refund_9 takes)',
    );
  });

  it("gives no record when the original's field is empty, rather than failing", async () => {
    // A Stripe payment with no customer: its refund has no partner either.
    spineRecord('account.payment', 'stripe_payment_pi_3', { amount: 10, partner_id: false });
    const [result] = await resolveRelations(client, [
      {
        values: {
          partner_id: {
            '@model': 'res.partner',
            '@of': {
              '@model': 'account.payment',
              '@externalId': 'stripe_payment_pi_3',
              '@field': 'partner_id',
            },
          },
        },
        owner: 'stripe_charge_refund_ch_3',
      },
    ]);
    expect(result).toEqual({ values: { partner_id: false }, related: [] });
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
