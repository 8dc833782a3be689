import { fork } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type OdooEmulator, startOdooEmulator } from '../../../local/odoo/server.ts';

let dir: string;
let file: string;
const running: OdooEmulator[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'spine-odoo-journal-'));
  file = join(dir, 'odoo.json');
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((e) => e.stop()));
  rmSync(dir, { recursive: true, force: true });
});

async function start(options: Parameters<typeof startOdooEmulator>[0] = {}) {
  const emulator = await startOdooEmulator({ snapshotFile: file, ...options });
  running.push(emulator);
  return emulator;
}

async function stop(emulator: OdooEmulator) {
  running.splice(running.indexOf(emulator), 1);
  await emulator.stop();
}

/** execute_kw as the integration user, over JSON-RPC. */
async function asIntegration(
  target: { url: string; password: string },
  model: string,
  method: string,
  args: unknown[],
) {
  const response = await fetch(`${target.url}/jsonrpc`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      method: 'call',
      id: 1,
      params: {
        service: 'object',
        method: 'execute_kw',
        args: ['spine', 6, target.password, model, method, args, {}],
      },
    }),
  });
  return (await response.json()) as { result?: unknown; error?: { data: { message: string } } };
}

const endpoint = (e: OdooEmulator) => ({ url: e.url, password: e.integration.password });

function partnerNames(emulator: OdooEmulator, domain: unknown[] = []): string[] {
  const rows = emulator.orm.call(2, 'res.partner', 'search_read', [domain, ['name']], {}) as {
    name: string;
  }[];
  return rows.map((r) => r.name);
}

/** Bytes this process has handed to write(2) so far (files, sockets, pipes). */
function processBytesWritten(): number {
  const io = readFileSync('/proc/self/io', 'utf8');
  return Number(/^wchar: (\d+)$/m.exec(io)?.[1]);
}

describe('Odoo emulator persistence', () => {
  it('keeps every answered write and rotated credentials across a kill -9', async () => {
    const child = fork(new URL('./emulator-child.ts', import.meta.url).pathname, [file], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    const target = await new Promise<{ url: string; password: string }>((resolve) =>
      child.once('message', (m) => resolve(m as { url: string; password: string })),
    );
    const answered: number[] = [];
    for (let i = 0; i < 30; i++) {
      const created = await asIntegration(target, 'res.partner', 'create', [
        { name: `Killed ${i}` },
      ]);
      answered.push(created.result as number);
    }
    const rotated = await asIntegration(target, 'res.users', 'change_password', [
      target.password,
      'after-rotation',
    ]);
    expect(rotated.result).toBe(true);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;

    const restarted = await start();
    expect(restarted.integration.password).toBe('after-rotation');
    expect(partnerNames(restarted, [['name', '=like', 'Killed %']])).toHaveLength(30);
    const next = await asIntegration(endpoint(restarted), 'res.partner', 'create', [
      { name: 'After the kill' },
    ]);
    // Ids are never handed out twice, across the kill too.
    expect(next.result).toBeGreaterThan(Math.max(...answered));
  });

  it('ignores a torn last journal line and keeps journaling after it', async () => {
    const first = await start();
    for (const name of ['Ann', 'Bob', 'Cy'])
      await asIntegration(endpoint(first), 'res.partner', 'create', [{ name }]);
    await stop(first);
    // A kill in the middle of an append leaves half a line.
    appendFileSync(`${file}.journal`, '{"r":[["res.partner",999,{"id":999,"name":"Tor');

    const second = await start();
    expect(partnerNames(second, [['name', 'in', ['Ann', 'Bob', 'Cy', 'Torn']]])).toEqual([
      'Ann',
      'Bob',
      'Cy',
    ]);
    expect(second.orm.call(2, 'res.partner', 'exists', [[999]], {})).toEqual([]);
    await asIntegration(endpoint(second), 'res.partner', 'create', [{ name: 'Dee' }]);
    await stop(second);

    const third = await start();
    expect(partnerNames(third, [['name', 'in', ['Ann', 'Bob', 'Cy', 'Dee']]])).toHaveLength(4);
  });

  it('writes nothing for a transaction that rolls back', async () => {
    const emulator = await start();
    const journal = `${file}.journal`;
    const before = statSync(journal).size;
    // The first row is written, the second fails: load rolls both back.
    const load = await asIntegration(endpoint(emulator), 'res.partner', 'load', [
      ['id', 'name', 'parent_id/id'],
      [
        ['spine.rolled_back_1', 'Rolled Back One', ''],
        ['spine.rolled_back_2', 'Rolled Back Two', 'spine.no_such_partner'],
      ],
    ]);
    expect(load.result).toMatchObject({ ids: false });
    const create = await asIntegration(endpoint(emulator), 'res.partner', 'create', [
      { name: 'Never', no_such_field: 1 },
    ]);
    expect(create.error).toBeDefined();
    expect(statSync(journal).size).toBe(before);
    await stop(emulator);

    const restarted = await start();
    expect(partnerNames(restarted, [['name', 'in', ['Rolled Back One', 'Never']]])).toEqual([]);
  });

  it('writes about as many bytes per write whatever the size of the database', async () => {
    const emulator = await start();
    const bytesPerWrite = async (tag: string) => {
      const before = processBytesWritten();
      for (let i = 0; i < 20; i++)
        await asIntegration(endpoint(emulator), 'res.partner', 'create', [
          { name: `${tag} ${i}`, email: `${tag}.${i}@example.com` },
        ]);
      return (processBytesWritten() - before) / 20;
    };
    const small = await bytesPerWrite('small');
    emulator.orm.call(
      2,
      'res.partner',
      'create',
      [
        Array.from({ length: 5_000 }, (_, i) => ({
          name: `Existing customer ${i}`,
          email: `existing.${i}@example.com`,
          street: `${i} Long Street Name`,
        })),
      ],
      {},
    );
    const large = await bytesPerWrite('large');
    // A whole-snapshot rewrite would cost the 5,000 partners (over a megabyte) on every write.
    expect(large).toBeLessThan(small * 1.5);
  });

  it('folds the journal into the snapshot once the journal outgrows it, losing nothing', async () => {
    const emulator = await start({ journal: { compactAfterBytes: 1 } });
    const snapshotBefore = statSync(file).size;
    let journalled = 0;
    for (let i = 0; i < 40; i++) {
      const before = statSync(`${file}.journal`).size;
      await asIntegration(endpoint(emulator), 'res.partner', 'create', [
        { name: `Folded ${i}`, comment: 'x'.repeat(2_000) },
      ]);
      journalled += Math.max(0, statSync(`${file}.journal`).size - before);
    }
    // The journal was emptied into a larger snapshot at least once.
    expect(statSync(`${file}.journal`).size).toBeLessThan(journalled);
    expect(statSync(file).size).toBeGreaterThan(snapshotBefore);
    await stop(emulator);
    const restarted = await start();
    expect(partnerNames(restarted, [['name', '=like', 'Folded %']])).toHaveLength(40);
  });

  it('starts from a snapshot written before journals existed', async () => {
    const inMemory = await startOdooEmulator();
    running.push(inMemory);
    await asIntegration(endpoint(inMemory), 'res.partner', 'create', [{ name: 'Old Timer' }]);
    // What the emulator wrote after every write before it had a journal.
    inMemory.orm.db.saveTo(file, [...inMemory.orm.users.values()]);
    expect(existsSync(`${file}.journal`)).toBe(false);
    const restarted = await start();
    expect(partnerNames(restarted, [['name', '=', 'Old Timer']])).toEqual(['Old Timer']);
  });
});
