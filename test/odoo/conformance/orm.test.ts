import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OdooClient } from '../../../functions/odoo/client.ts';
import { OdooValidationError } from '../../../functions/odoo/errors/index.ts';
import { type ConformanceTarget, conformanceTarget, uniqueTag } from './target.ts';

let target: ConformanceTarget;
let client: OdooClient;
let tag: string;
const ids: Record<string, number> = {};

beforeAll(async () => {
  target = await conformanceTarget();
  client = await OdooClient.connect({
    url: target.url,
    database: target.db,
    login: target.login,
    secret: target.apiKey ?? target.password,
    guard: { ratePerSecond: 500 },
  });
  tag = uniqueTag();
  // A company with two contacts, and one contact elsewhere: enough for every domain operator.
  [ids.company = 0] = await client.create('res.partner', [
    { name: `${tag} Acme`, is_company: true, city: 'Lyon', ref: tag },
  ]);
  [ids.alice = 0, ids.bob = 0, ids.carol = 0] = await client.create('res.partner', [
    {
      name: `${tag} Alice`,
      email: 'alice@acme.example',
      parent_id: ids.company,
      customer_rank: 3,
      ref: tag,
    },
    {
      name: `${tag} Bob`,
      email: 'BOB@acme.example',
      parent_id: ids.company,
      customer_rank: 0,
      ref: tag,
    },
    { name: `${tag} Carol`, ref: tag, customer_rank: 1 },
  ]);
});
afterAll(() => target.stop());

const names = async (domain: unknown[]) =>
  (
    await client.searchRead('res.partner', [['ref', '=', tag], ...domain], {
      fields: ['name'],
      order: 'id',
    })
  ).map((r) => String(r.name).replace(`${tag} `, ''));

describe('Odoo external API conformance: ORM semantics', () => {
  it.each([
    ['=', [['email', '=', 'alice@acme.example']], ['Alice']],
    [
      '!= (includes empty values)',
      [['email', '!=', 'alice@acme.example']],
      ['Acme', 'Bob', 'Carol'],
    ],
    ['=ilike', [['email', '=ilike', 'bob@acme.example']], ['Bob']],
    ['ilike wraps in %', [['name', 'ilike', 'ARO']], ['Carol']],
    ['like is case-sensitive', [['name', 'like', 'aro']], ['Carol']],
    [
      'not ilike (includes empty values)',
      [['email', 'not ilike', 'ALICE']],
      ['Acme', 'Bob', 'Carol'],
    ],
    ['in', [['customer_rank', 'in', [0, 1]]], ['Acme', 'Bob', 'Carol']],
    ['not in', [['customer_rank', 'not in', [0, 1]]], ['Alice']],
    ['>', [['customer_rank', '>', 0]], ['Alice', 'Carol']],
    ['<=', [['customer_rank', '<=', 1]], ['Acme', 'Bob', 'Carol']],
    ['= False', [['email', '=', false]], ['Acme', 'Carol']],
    ['=? with False is true', [['email', '=?', false]], ['Acme', 'Alice', 'Bob', 'Carol']],
    [
      '| prefix',
      ['|', ['email', '=', 'alice@acme.example'], ['name', 'ilike', 'carol']],
      ['Alice', 'Carol'],
    ],
    ['! prefix', ['!', ['is_company', '=', true]], ['Alice', 'Bob', 'Carol']],
    [
      '& with nested |',
      ['&', ['is_company', '=', false], '|', ['customer_rank', '>', 2], ['email', '=', false]],
      ['Alice', 'Carol'],
    ],
    ['dotted path through many2one', [['parent_id.city', '=', 'Lyon']], ['Alice', 'Bob']],
  ])('%s', async (_, domain, expected) => {
    expect(await names(domain as unknown[])).toEqual(expected);
  });

  it('child_of and parent_of follow parent_id', async () => {
    expect(await names([['id', 'child_of', ids.company]])).toEqual(['Acme', 'Alice', 'Bob']);
    expect(await names([['id', 'parent_of', ids.alice]])).toEqual(['Acme', 'Alice']);
  });

  it('any looks into related records (Odoo 17+)', async () => {
    if (target.version < 17) return;
    expect(await names([['child_ids', 'any', [['email', '=', 'alice@acme.example']]]])).toEqual([
      'Acme',
    ]);
    expect(
      await names([
        ['is_company', '=', true],
        ['child_ids', 'not any', [['email', '=', 'x@y.z']]],
      ]),
    ).toEqual(['Acme']);
  });

  it('reads many2one as [id, display name] and one2many as ids', async () => {
    const [alice] = await client.read(
      'res.partner',
      [ids.alice as number],
      ['parent_id', 'display_name'],
    );
    expect(alice?.parent_id).toEqual([ids.company, `${tag} Acme`]);
    expect(alice?.display_name).toBe(`${tag} Acme, ${tag} Alice`);
    const [company] = await client.read('res.partner', [ids.company as number], ['child_ids']);
    expect(company?.child_ids).toEqual([ids.alice, ids.bob]);
  });

  it('applies x2many commands: create, update, delete lines', async () => {
    const [order = 0] = await client.create('sale.order', [
      {
        partner_id: ids.carol,
        client_order_ref: tag,
        order_line: [
          [0, 0, { name: 'Widget', product_uom_qty: 2, price_unit: 10 }],
          [0, 0, { name: 'Gadget', product_uom_qty: 1, price_unit: 5 }],
        ],
      },
    ]);
    let [read] = await client.read(
      'sale.order',
      [order],
      ['order_line', 'amount_untaxed', 'state'],
    );
    expect(read?.state).toBe('draft');
    expect(read?.amount_untaxed).toBe(25);
    const [first = 0, second = 0] = (read?.order_line ?? []) as number[];
    await client.write('sale.order', [order], {
      order_line: [
        [1, first, { product_uom_qty: 3 }],
        [2, second, 0],
      ],
    });
    [read] = await client.read('sale.order', [order], ['order_line', 'amount_untaxed']);
    expect(read?.order_line).toEqual([first]);
    expect(read?.amount_untaxed).toBe(30);
  });

  it('refuses a many2one that points at no record, without writing', async () => {
    const error = await client
      .create('res.partner', [{ name: `${tag} Dan`, parent_id: 2_000_000_000, ref: tag }])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OdooValidationError);
    expect(await names([['name', 'ilike', 'Dan']])).toEqual([]);
  });

  it('refuses a contact without a name', async () => {
    const error = await client
      .create('res.partner', [{ email: 'nameless@example.com', ref: tag }])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OdooValidationError);
    expect((error as OdooValidationError).odooMessage).toMatch(/name/i);
  });

  it('refuses a wrong value for a selection field, naming it', async () => {
    const error = await client
      .write('res.partner', [ids.carol as number], { type: 'nonsense' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OdooValidationError);
    expect((error as OdooValidationError).odooMessage).toContain('type');
  });

  it('load creates records with their external ids, updates them on a second load, and rolls back a failing batch', async () => {
    const xid = (n: string) => `spine.${tag.replace(/-/g, '_')}_${n}`;
    const first = await client.load(
      'res.partner',
      ['id', 'name', 'ref', 'email'],
      [[xid('e'), `${tag} Erin`, tag, 'erin@example.com']],
    );
    expect(first.ids).toHaveLength(1);
    const again = await client.load(
      'res.partner',
      ['id', 'name', 'ref', 'email'],
      [[xid('e'), `${tag} Erin`, tag, 'erin@new.example']],
    );
    expect(again.ids).toEqual(first.ids);
    const [erin] = await client.read('res.partner', first.ids as number[], ['email']);
    expect(erin?.email).toBe('erin@new.example');
    const [reference] = await client.searchRead(
      'ir.model.data',
      [
        ['module', '=', 'spine'],
        ['name', '=', xid('e').slice(6)],
      ],
      { fields: ['model', 'res_id'] },
    );
    expect(reference).toMatchObject({ model: 'res.partner', res_id: (first.ids as number[])[0] });

    const failing = await client.load(
      'res.partner',
      ['id', 'name', 'ref', 'parent_id/id'],
      [
        [xid('f'), `${tag} Fay`, tag, ''],
        [xid('g'), `${tag} Gus`, tag, 'spine.no_such_partner_anywhere'],
      ],
    );
    expect(failing.ids).toBe(false);
    expect(failing.messages.some((m) => m.type === 'error')).toBe(true);
    expect(await names([['name', 'ilike', 'Fay']])).toEqual([]);
  });

  it('unlink deletes the external ids of the records it deletes', async () => {
    const [order = 0] = await client.create('sale.order', [
      {
        partner_id: ids.carol,
        client_order_ref: tag,
        order_line: [[0, 0, { name: 'Widget', product_uom_qty: 1, price_unit: 10 }]],
      },
    ]);
    const [read] = await client.read('sale.order', [order], ['order_line']);
    const [line = 0] = (read?.order_line ?? []) as number[];
    const name = `${tag.replace(/-/g, '_')}_line`;
    await client.create('ir.model.data', [
      { module: 'spine', name, model: 'sale.order.line', res_id: line },
    ]);
    const references = () =>
      client.searchRead(
        'ir.model.data',
        [
          ['module', '=', 'spine'],
          ['name', '=', name],
        ],
        { fields: ['res_id'] },
      );
    expect(await references()).toHaveLength(1);
    await client.unlink('sale.order.line', [line]);
    expect(await references()).toEqual([]);
  });
});
