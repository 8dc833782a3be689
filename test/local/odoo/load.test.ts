/**
 * Odoo's load catches what each row raises and reports it as that row's message (type error)
 * instead of raising; these pin the shapes and texts the emulator answers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type OdooEmulator, startOdooEmulator } from '../../../local/odoo/server.ts';

const running: OdooEmulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((e) => e.stop()));
});

async function start(version: 17 | 18 = 18) {
  const emulator = await startOdooEmulator({ version });
  running.push(emulator);
  return emulator;
}

/** load over JSON-RPC as the integration user. */
async function load(emulator: OdooEmulator, model: string, fields: string[], data: string[][]) {
  const response = await fetch(`${emulator.url}/jsonrpc`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      method: 'call',
      id: 1,
      params: {
        service: 'object',
        method: 'execute_kw',
        args: [
          emulator.database,
          emulator.integration.uid,
          emulator.integration.password,
          model,
          'load',
          [fields, data],
          {},
        ],
      },
    }),
  });
  return (await response.json()) as {
    result?: { ids: number[] | false; messages: Record<string, unknown>[]; nextrow: number };
    error?: { data: { name: string; message: string } };
  };
}

const partners = (...names: string[]) => names.map((n) => [`spine.${n.toLowerCase()}`, n]);
const one = (record: number, message: unknown) => ({
  type: 'error',
  record,
  rows: { from: record, to: record },
  message,
});

describe('load reports row errors as messages', () => {
  it('an access denial: "Access Denied", on the row it struck', async () => {
    const emulator = await start();
    emulator.faults.set({ errorRate: { access: 1 } });
    const answer = await load(emulator, 'res.partner', ['id', 'name'], partners('Ada', 'Bo'));
    expect(answer.error).toBeUndefined();
    expect(answer.result).toEqual({
      ids: false,
      messages: [one(0, 'Access Denied')],
      nextrow: 0,
    });
  });

  it('missing access rights: per row, with Odoo’s AccessError text', async () => {
    const emulator = await start();
    emulator.orm.users.set(7, {
      id: 7,
      login: 'reader',
      password: 'reader',
      apiKeys: [],
      access: { 'res.partner': ['read'], 'ir.model.data': ['read', 'create'] },
    });
    const answer = emulator.orm.call(
      7,
      'res.partner',
      'load',
      [['id', 'name'], partners('Ada', 'Bo')],
      {},
    ) as { ids: unknown; messages: { message: string }[] };
    expect(answer.ids).toBe(false);
    expect(answer.messages).toHaveLength(2);
    expect(answer.messages[1]).toMatchObject({ type: 'error', record: 1 });
    expect(answer.messages[1]?.message).toMatch(
      /^You are not allowed to create 'Contact' \(res\.partner\) records\./,
    );
  });

  it('a lock: PostgreSQL’s serialization failure text, on the row or on every row', async () => {
    const emulator = await start();
    emulator.faults.set({ errorRate: { lock: 1 } });
    const answer = await load(emulator, 'res.partner', ['id', 'name'], partners('Ada', 'Bo'));
    expect(answer.result).toEqual({
      ids: false,
      messages: [one(0, 'could not serialize access due to concurrent update')],
      nextrow: 0,
    });
    emulator.faults.set({ failWrites: ['res.partner'] });
    const every = await load(emulator, 'res.partner', ['id', 'name'], partners('Ada', 'Bo'));
    expect(every.result?.messages).toEqual([
      one(0, 'could not serialize access due to concurrent update'),
      one(1, 'could not serialize access due to concurrent update'),
    ]);
    expect(
      emulator.orm.call(2, 'res.partner', 'search_count', [[['name', 'in', ['Ada', 'Bo']]]], {}),
    ).toBe(0);
  });

  it('a validation error: its text, on every row a failing model refuses', async () => {
    const emulator = await start();
    emulator.faults.set({ failWrites: ['res.partner'], failWritesAs: 'validation' });
    const answer = await load(emulator, 'res.partner', ['id', 'name'], partners('Ada', 'Bo'));
    expect(answer.result?.messages).toEqual([
      one(0, 'Injected validation failure'),
      one(1, 'Injected validation failure'),
    ]);
  });

  it('a constraint: the constraint’s own message; a bad cell: its field', async () => {
    const emulator = await start();
    const answer = await load(
      emulator,
      'res.partner',
      ['id', 'name', 'parent_id/id'],
      [
        ['spine.ada', 'Ada', ''],
        ['spine.nameless', '', ''],
        ['spine.orphan', 'Orphan', 'spine.nobody'],
      ],
    );
    expect(answer.result?.ids).toBe(false);
    expect(answer.result?.messages).toEqual([
      one(1, 'Contacts require a name'),
      {
        ...one(
          2,
          "No matching record found for external id 'spine.nobody' in field 'Related Company'",
        ),
        field: 'parent_id',
      },
    ]);
  });

  it('Odoo 18 repeats a later row’s UserError at the first row, as its batch attempt saw it', async () => {
    const emulator = await start(18);
    emulator.orm.users.set(7, {
      id: 7,
      login: 'creator',
      password: 'creator',
      apiKeys: [],
      access: { 'res.partner': ['read', 'create'], 'ir.model.data': ['read', 'create'] },
    });
    emulator.orm.call(2, 'res.partner', 'load', [['id', 'name'], partners('Existing')], {});
    const answer = emulator.orm.call(
      7,
      'res.partner',
      'load',
      [
        ['id', 'name'],
        [...partners('Newcomer'), ['spine.existing', 'Renamed']],
      ],
      {},
    ) as { ids: unknown; messages: { record: number; message: string }[] };
    expect(answer.ids).toBe(false);
    expect(answer.messages.map((m) => m.record)).toEqual([0, 1]);
    expect(answer.messages[0]?.message).toBe(answer.messages[1]?.message);
    expect(answer.messages[1]?.message).toMatch(/^You are not allowed to modify 'Contact'/);
  });

  it('Odoo 17 names only the row that failed', async () => {
    const emulator = await start(17);
    emulator.orm.users.set(7, {
      id: 7,
      login: 'creator',
      password: 'creator',
      apiKeys: [],
      access: { 'res.partner': ['read', 'create'], 'ir.model.data': ['read', 'create'] },
    });
    emulator.orm.call(2, 'res.partner', 'load', [['id', 'name'], partners('Existing')], {});
    const answer = emulator.orm.call(
      7,
      'res.partner',
      'load',
      [
        ['id', 'name'],
        [...partners('Newcomer'), ['spine.existing', 'Renamed']],
      ],
      {},
    ) as { messages: { record: number }[] };
    expect(answer.messages.map((m) => m.record)).toEqual([1]);
  });
});
