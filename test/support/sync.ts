/** What the sync step needs in a test: the registry, one Odoo client, lineage, and quiet ports. */
import { loadContractRegistry } from '../../functions/contracts/index.ts';
import type { OdooClient } from '../../functions/odoo/client.ts';
import type { SyncDependencies } from '../../functions/sync/apply.ts';
import type { MemoryLineageStore } from './memory-lineage.ts';
import { FixtureVendors } from './vendor-fixtures.ts';

const registry = loadContractRegistry();

export function syncDependencies(
  client: OdooClient,
  lineage: MemoryLineageStore,
  overrides: Partial<SyncDependencies> = {},
): SyncDependencies {
  return {
    registry,
    odoo: async () => client,
    lineage,
    telemetry: { count: () => {}, odooLatency: () => {} },
    logger: { info: () => {}, warn: () => {}, error: () => {} },
    // The vendor objects the fixtures' thin events name (test/fixtures/<vendor>/api/).
    vendors: new FixtureVendors().reader,
    ...overrides,
  };
}
