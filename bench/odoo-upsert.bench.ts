/**
 * Odoo round trips per upserted record, batched (upsertByExternalId over the batch) against
 * one record at a time, for batches of 1, 10 and 100, on the emulator. Target: at most 0.3
 * round trips per record at batch 10.
 */

import type { OdooClient } from '../functions/odoo/client.ts';
import { type UpsertRow, upsertByExternalId } from '../functions/odoo/upsert.ts';
import { startOdooEmulator } from '../local/odoo/server.ts';
import { integrationClient } from '../test/support/odoo.ts';
import type { Benchmark, Measurement } from './harness.ts';

const RECORDS = 200;

function rows(prefix: string, count: number, withMatch: boolean): UpsertRow[] {
  return Array.from({ length: count }, (_, i) => ({
    externalId: `${prefix}_${i}`,
    values: {
      name: `Bench ${prefix} ${i}`,
      email: `${prefix}${i}@bench.example`,
      customer_rank: 1,
    },
    createOnly: ['name'],
    ...(withMatch
      ? {
          match: [
            { field: 'email', value: `${prefix}${i}@bench.example`, normalise: 'email' as const },
          ],
        }
      : {}),
  }));
}

async function roundTrips(
  client: OdooClient,
  all: UpsertRow[],
  batch: number,
): Promise<{ perRecord: number; ms: number }> {
  const before = client.stats.calls;
  const started = performance.now();
  for (let i = 0; i < all.length; i += batch) {
    const results = await upsertByExternalId(client, 'res.partner', all.slice(i, i + batch));
    if (results.some((r) => r.status === 'failed'))
      throw new Error(`bench rows failed: ${results.find((r) => r.error)?.error?.message}`);
  }
  return { perRecord: (client.stats.calls - before) / all.length, ms: performance.now() - started };
}

export const odooUpsertBenchmark: Benchmark = {
  name: 'Odoo upsert: round trips per record (emulator, Odoo 18, JSON-RPC)',
  async run() {
    const emulator = await startOdooEmulator({ version: 18 });
    try {
      const client = await integrationClient(emulator, {
        ratePerSecond: 100_000,
        maxConcurrency: 8,
      });
      await client.fieldsGet('res.partner');
      const results: Measurement[] = [];
      for (const batch of [1, 10, 100]) {
        for (const [phase, match] of [
          ['new records, matched by e-mail first', true],
          ['changed records', false],
        ] as const) {
          const tag = `b${batch}${match ? 'n' : 'c'}`;
          const batched = rows(`${tag}x`, RECORDS, match);
          const single = rows(`${tag}y`, RECORDS, match);
          if (!match) {
            // Changed records exist already: create them, then change every e-mail.
            await roundTrips(client, batched, 100);
            await roundTrips(client, single, 100);
            for (const r of [...batched, ...single])
              (r.values as Record<string, unknown>).email =
                `changed.${String((r.values as Record<string, unknown>).email)}`;
          }
          const b = await roundTrips(client, batched, batch);
          const s = await roundTrips(client, single, 1);
          results.push({
            metric: `round trips per record (${phase})`,
            case: `batch ${batch}`,
            value: b.perRecord,
            baseline: s.perRecord,
            baselineLabel: 'one at a time',
            unit: 'trips',
            ...(batch === 10 ? { target: '≤ 0.3', met: b.perRecord <= 0.3 } : {}),
          });
          results.push({
            metric: `records per second (${phase})`,
            case: `batch ${batch}`,
            value: (RECORDS / b.ms) * 1000,
            baseline: (RECORDS / s.ms) * 1000,
            baselineLabel: 'one at a time',
            unit: 'rec/s',
          });
        }
      }
      return results;
    } finally {
      await emulator.stop();
    }
  },
};
