import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runChaos } from '../../local/chaos/chaos.ts';
import { ChaosFlagError, parseChaosOptions } from '../../local/chaos/options.ts';
import { formatChaosReport } from '../../local/chaos/report.ts';
import {
  eventKey,
  planTraffic,
  type SentEvent,
  type TrafficPlan,
} from '../../local/chaos/traffic.ts';
import { judge, type OdooTables, type VerdictInput } from '../../local/chaos/verdict.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

function chaos(args: readonly string[]) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'local/chaos/run.ts'), ...args],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.once('close', (code) => resolve({ code, stdout, stderr })),
  );
}

describe('npm run chaos refuses impossible flags', () => {
  for (const [flags, message] of [
    [{ events: '-10' }, '--events must be at least 1, got -10 (a count cannot be negative)'],
    [{ events: '1.5' }, '--events takes a whole number, got "1.5"'],
    [{ duplicates: '101' }, '--duplicates is a share of events: at most 100%, got 101%'],
    [{ outOfOrder: '250%' }, '--out-of-order is a share of events: at most 100%, got 250%'],
    [{ faultRate: '-3' }, '--fault-rate cannot be negative, got -3%'],
    [{ concurrency: '0' }, '--concurrency must be at least 1, got 0'],
    [{ faults: 'lock,earthquake' }, '--faults does not know "earthquake"'],
  ] as const) {
    it(`${JSON.stringify(flags)}: "${message}"`, () => {
      expect(() => parseChaosOptions(flags)).toThrow(ChaosFlagError);
      expect(() => parseChaosOptions(flags)).toThrow(message);
    });
  }

  it('takes percentages with or without %, and the fault list by name', () => {
    expect(
      parseChaosOptions({
        duplicates: '12.5%',
        outOfOrder: '0',
        faults: 'lock, stall',
        kill: false,
      }),
    ).toMatchObject({
      events: 10_000,
      duplicates: 0.125,
      outOfOrder: 0,
      faults: ['lock', 'stall'],
      kill: false,
    });
  });

  it('exits 2 with the reason, before starting anything', { timeout: 60_000 }, async () => {
    const run = await chaos(['--events', '-1']);
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe(
      'chaos: --events must be at least 1, got -1 (a count cannot be negative)',
    );
    expect(run.stderr).not.toContain('starting spine local');
  });

  it('teaches with --help', { timeout: 60_000 }, async () => {
    const run = await chaos(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('--out-of-order <pct>');
    expect(run.stdout).toContain('Exit status: 0 when exactly once held');
  });
});

/** A hand-made ledger: one customer in two versions, one order of two lines, one SKU. */
function tinyLedger(): TrafficPlan {
  const events: SentEvent[] = [
    {
      source: 'stripe',
      eventId: 'evt_1',
      contract: 'stripe.customer',
      externalId: 'stripe_customer_cus_1',
      occurredAt: 1000,
    },
    {
      source: 'stripe',
      eventId: 'evt_2',
      contract: 'stripe.customer',
      externalId: 'stripe_customer_cus_1',
      occurredAt: 2000,
    },
    {
      source: 'shopify',
      eventId: 'w1',
      contract: 'shopify.order',
      externalId: 'shopify_order_7',
      occurredAt: 3000,
    },
  ];
  return {
    stories: [],
    later: [],
    entities: [
      {
        externalId: 'stripe_customer_cus_1',
        model: 'res.partner',
        contract: 'stripe.customer',
        versions: [
          { source: 'stripe', eventId: 'evt_1', occurredAt: 1000, values: { city: 'Lyon' } },
          { source: 'stripe', eventId: 'evt_2', occurredAt: 2000, values: { city: 'Porto' } },
        ],
      },
    ],
    lines: [
      {
        externalId: 'shopify_order_7',
        model: 'sale.order',
        eventId: 'w1',
        source: 'shopify',
        lines: [
          { sku: 'SKU-1', quantity: 2, price: 9.99 },
          { sku: 'SKU-1', quantity: 1, price: 5 },
        ],
      },
    ],
    identities: [
      {
        externalId: 'shopify_order_7',
        model: 'sale.order',
        field: 'client_order_ref',
        value: '#7',
      },
    ],
    emails: ['ada@example.com'],
    skus: ['SKU-1'],
    events: new Map(events.map((e) => [eventKey(e.source, e.eventId), e])),
    days: ['2026-01-01'],
  };
}

/** What Odoo holds when everything in the tiny ledger was applied exactly once. */
function exactlyOnce(): Record<string, Record<string, unknown>[]> {
  return {
    'ir.model.data': [
      { id: 1, module: 'spine', name: 'stripe_customer_cus_1', model: 'res.partner', res_id: 10 },
      { id: 2, module: 'spine', name: 'shopify_order_7', model: 'sale.order', res_id: 20 },
    ],
    'res.partner': [{ id: 10, email: ' Ada@Example.com', city: 'Porto' }],
    'product.product': [{ id: 30, default_code: 'SKU-1' }],
    'sale.order': [{ id: 20, client_order_ref: '#7' }],
    'sale.order.line': [
      { id: 40, order_id: 20, product_id: 30, product_uom_qty: 2, price_unit: 9.99 },
      { id: 41, order_id: 20, product_id: [30, 'SKU-1'], product_uom_qty: 1, price_unit: 5 },
    ],
  };
}

function verdictOn(
  odoo: Record<string, Record<string, unknown>[]>,
  change?: Partial<VerdictInput>,
) {
  const plan = tinyLedger();
  return judge({
    plan,
    answered: new Map([...plan.events.keys()].map((k) => [k, 'accepted'])),
    trails: new Map([
      ['stripe/evt_1', { stages: ['received', 'queued', 'applied'], details: [] }],
      ['stripe/evt_2', { stages: ['received', 'queued', 'applied'], details: [] }],
      ['shopify/w1', { stages: ['received', 'queued', 'applied'], details: [] }],
    ]),
    deadLetters: new Set(),
    parked: new Set(),
    odoo: odoo as unknown as OdooTables,
    repeats: ['stripe/evt_2'],
    ...change,
  });
}

describe('the chaos judge reads Odoo, not lineage', () => {
  it('Compliance – every event applied once, newest values, lines as sent', () => {
    const verdict = verdictOn(exactlyOnce());
    expect(verdict).toMatchObject({
      lost: [],
      stuck: [],
      duplicated: [],
      staleOverwrites: [],
      wrongValues: [],
      linesNotAsSent: [],
      missingRecords: [],
      duplicatesSuppressed: 1,
    });
    expect(verdict.accounts.applied).toBe(3);
  });

  it('Noncompliance – an older version over the newest is a stale overwrite, though lineage says applied', () => {
    const odoo = exactlyOnce();
    (odoo['res.partner'] as Record<string, unknown>[])[0] = {
      id: 10,
      email: 'ada@example.com',
      city: 'Lyon',
    };
    expect(verdictOn(odoo).staleOverwrites.map((f) => f.detail)).toEqual([
      'res.partner 10 (spine.stripe_customer_cus_1) city is "Lyon", the value of older event evt_1; the newest event evt_2 (applied) sent "Porto"',
    ]);
  });

  it('Noncompliance – a second partner with the same e-mail, differently cased, is a duplicate', () => {
    const odoo = exactlyOnce();
    odoo['res.partner']?.push({ id: 11, email: 'ADA@example.com ' });
    expect(verdictOn(odoo).duplicated.map((f) => f.detail)).toEqual([
      '2 partners with e-mail ada@example.com: res.partner 10, 11',
    ]);
  });

  it('Noncompliance – a line written twice after a lost answer is a duplicate and lines not as sent', () => {
    const odoo = exactlyOnce();
    odoo['sale.order.line']?.push({
      id: 42,
      order_id: 20,
      product_id: 30,
      product_uom_qty: 2,
      price_unit: 9.99,
    });
    const verdict = verdictOn(odoo);
    expect(verdict.linesNotAsSent.map((f) => f.detail)).toEqual([
      'sale.order 20 (spine.shopify_order_7, event w1): 2 lines sent, 3 in Odoo; extra 1 × [SKU-1 × 2 at 9.99]',
    ]);
    expect(verdict.duplicated).toHaveLength(1);
    expect(verdict.duplicatesSuppressed).toBe(1);
  });

  it('Noncompliance – a copy of a record without its external id, and a second external id row', () => {
    const odoo = exactlyOnce();
    odoo['sale.order']?.push({ id: 21, client_order_ref: '#7' });
    odoo['ir.model.data']?.push({
      id: 3,
      module: 'spine',
      name: 'shopify_order_7',
      model: 'sale.order',
      res_id: 21,
    });
    expect(
      verdictOn(odoo)
        .duplicated.map((f) => f.kind)
        .sort(),
    ).toEqual(['external id', 'record']);
  });

  it('Noncompliance – an event taken with 2xx that left no trace and is in no DLQ is lost', () => {
    const verdict = verdictOn(exactlyOnce(), {
      trails: new Map([
        ['stripe/evt_1', { stages: ['received', 'queued', 'applied'], details: [] }],
        ['shopify/w1', { stages: ['received', 'queued', 'applied'], details: [] }],
      ]),
    });
    expect(verdict.lost.map((f) => f.detail)).toEqual([
      'stripe evt_2 (stripe.customer, stripe_customer_cus_1): answered 2xx, then no trace at all, and in no DLQ or parking queue',
    ]);
    // The same event in a DLQ is accounted for, but stuck: nothing should be left after replay.
    const dead = verdictOn(exactlyOnce(), {
      trails: new Map([['shopify/w1', { stages: ['applied'], details: [] }]]),
      deadLetters: new Set(['stripe/evt_1', 'stripe/evt_2']),
    });
    expect(dead.lost).toEqual([]);
    expect(dead.stuck).toHaveLength(2);
  });
});

describe('the traffic plan', () => {
  it('is the same for the same seed, and covers every source and flow', () => {
    const options = {
      events: 300,
      seed: 5,
      duplicates: 0.2,
      outOfOrder: 0.3,
      runTag: 123456,
      start: 0,
    };
    const a = planTraffic(options);
    const b = planTraffic(options);
    expect(a.stories.map((s) => s.steps.map((step) => step.map((d) => d.body)))).toEqual(
      b.stories.map((s) => s.steps.map((step) => step.map((d) => d.body))),
    );
    expect(a.events.size).toBeGreaterThanOrEqual(300);
    expect(new Set([...a.events.values()].map((e) => e.contract))).toEqual(
      new Set([
        'stripe.customer',
        'stripe.payment-intent',
        'stripe.charge-refund',
        'stripe.invoice-paid',
        'shopify.customer',
        'shopify.order',
        'shopify.refund',
        'clerk.user',
        'hubspot.contact-creation',
        'hubspot.contact-property-change',
      ]),
    );
    expect(a.later.length).toBeGreaterThan(0);
  });
});

describe('npm run chaos, small', () => {
  it('proves exactly once through faults, a rotation and a kill -9 (lost = duplicated = stale overwrites = 0, reconcile clean)', {
    timeout: 900_000,
  }, async () => {
    const progress: string[] = [];
    const report = await runChaos(
      parseChaosOptions({
        events: '150',
        seed: '11',
        duplicates: '15',
        outOfOrder: '30',
        faults: 'all',
        drainTimeout: '240',
      }),
      (line) => progress.push(line),
    );
    const text = `${formatChaosReport(report).join('\n')}\n\nprogress:\n${progress.join('\n')}`;
    expect(report.kills, text).toBe(1);
    expect(report.sent, text).toBe(report.planned.events);
    expect(
      {
        lost: report.lost,
        duplicated: report.duplicated,
        staleOverwrites: report.staleOverwrites,
        reconcileClean: report.reconcile.clean,
      },
      text,
    ).toEqual({ lost: 0, duplicated: 0, staleOverwrites: 0, reconcileClean: true });
    // And the rest of exactly once: nothing stuck, values and lines as sent, queues drained.
    expect(report.failed, text).toEqual([]);
  });
});
