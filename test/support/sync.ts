/** What the sync step needs in a test: the registry, one Odoo client, lineage, and quiet ports. */
import { loadContractRegistry } from '../../functions/contracts/index.ts';
import type { OdooClient } from '../../functions/odoo/client.ts';
import type { SyncDependencies } from '../../functions/sync/apply.ts';
import type { MemoryLineageStore } from './memory-lineage.ts';

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
    ...overrides,
  };
}
