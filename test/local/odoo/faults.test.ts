import { afterEach, describe, expect, it } from 'vitest';
import { Faults } from '../../../local/odoo/faults.ts';
import {
  type OdooEmulator,
  type OdooEmulatorOptions,
  startOdooEmulator,
} from '../../../local/odoo/server.ts';

const running: OdooEmulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((e) => e.stop()));
});

async function start(options: OdooEmulatorOptions = {}) {
  const emulator = await startOdooEmulator(options);
  running.push(emulator);
  return emulator;
}

function createPartner(emulator: OdooEmulator, name: string, signal?: AbortSignal) {
  return fetch(`${emulator.url}/jsonrpc`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    signal,
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
          'res.partner',
          'create',
          [{ name }],
          {},
        ],
      },
    }),
  });
}

const count = (emulator: OdooEmulator, name: string) =>
  emulator.orm.call(2, 'res.partner', 'search_count', [[['name', '=', name]]], {});

async function eventually(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 25));
}

describe('stalls and the request time limit', () => {
  it('runs and commits a stalled call even though its client gave up waiting', async () => {
    const emulator = await start();
    emulator.faults.set({ stall: { rate: 1, ms: 400 } });
    const gaveUp = new AbortController();
    const answer = createPartner(emulator, 'Patient Pat', gaveUp.signal);
    await eventually(() => emulator.faults.injected.stall === 1);
    gaveUp.abort();
    await expect(answer).rejects.toThrow();
    await eventually(() => count(emulator, 'Patient Pat') === 1);
    expect(count(emulator, 'Patient Pat')).toBe(1);
  });

  it('kills a call that would outlive the request limit: nothing commits, the connection drops', async () => {
    const emulator = await start({ requestLimitMs: 50 });
    emulator.faults.set({ stall: { rate: 1, ms: 60 } });
    await expect(createPartner(emulator, 'Killed Kim')).rejects.toThrow();
    expect(emulator.faults.injected.killed).toBe(1);
    expect(count(emulator, 'Killed Kim')).toBe(0);
    // The limit lives in the plan too, where it overrides the emulator's.
    emulator.faults.set({ stall: { rate: 1, ms: 60 }, requestLimitMs: 1_000 });
    const survived = await createPartner(emulator, 'Slow Sam');
    expect(((await survived.json()) as { result: number }).result).toBeGreaterThan(0);
    expect(count(emulator, 'Slow Sam')).toBe(1);
  });

  it('draws the same stalls from the same seed', () => {
    const plan = { stall: { rate: 0.5, ms: 10 }, errorRate: { lock: 0.3 }, seed: 42 };
    const draws = (faults: Faults) =>
      Array.from({ length: 40 }, () => [
        faults.stall(),
        faults.before('res.partner', 'create', true)?.kind,
      ]);
    const first = draws(new Faults(plan));
    expect(draws(new Faults(plan))).toEqual(first);
    expect(first.filter(([ms]) => ms === 10).length).toBeGreaterThan(0);
    expect(first.filter(([ms]) => ms === 0).length).toBeGreaterThan(0);
  });
});

describe('the faults endpoint', () => {
  it('refuses an impossible plan with a 400 naming each mistake, and keeps the plan in force', async () => {
    const emulator = await start();
    emulator.faults.set({ latencyMs: 5 });
    const response = await fetch(`${emulator.url}/_emulator/faults`, {
      method: 'POST',
      body: JSON.stringify({
        stall: { rate: 2, ms: -1 },
        errorRate: { lock: -0.1 },
        transport: { rate: 0.1, kind: 418 },
        requestLimitMs: -5,
        latencyMS: 30,
      }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: string; detail: string };
    expect(body.error).toBe('invalid-fault-plan');
    for (const mistake of [
      'stall.rate: expected a rate between 0 and 1, got 2',
      'stall.ms: expected milliseconds ≥ 0, got -1',
      'errorRate.lock: expected a rate between 0 and 1, got -0.1',
      'transport.kind: expected one of "drop", 429, 500, 502, 503, 504, got 418',
      'requestLimitMs: expected milliseconds ≥ 0, got -5',
      'latencyMS: unknown key',
    ])
      expect(body.detail).toContain(mistake);
    expect(emulator.faults.plan).toEqual({ latencyMs: 5 });

    const notJson = await fetch(`${emulator.url}/_emulator/faults`, {
      method: 'POST',
      body: '{stall',
    });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { detail: string }).detail).toMatch(/not JSON/);
  });

  it('accepts a stall and a request limit', async () => {
    const emulator = await start();
    const plan = { stall: { rate: 0.01, ms: 32_000 }, requestLimitMs: 120_000, seed: 3 };
    const response = await fetch(`${emulator.url}/_emulator/faults`, {
      method: 'POST',
      body: JSON.stringify(plan),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(plan);
    expect(emulator.faults.requestLimitMs).toBe(120_000);
  });
});
