/**
 * The vendor objects of test/fixtures/<vendor>/api/, served as enrichment reads them (the port of
 * functions/enrich/model.ts), for tests of the sync step that need no emulator: each read is
 * counted, and an object can be changed, removed or made to fail.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FetchResult, VendorObjectKind, VendorReader } from '../../functions/enrich/model.ts';
import { FIXTURES_DIR } from './fixtures.ts';

interface ContactSeed {
  readonly id: string;
  readonly properties: Readonly<Record<string, string | null>>;
}

/** When the fixture contacts last changed: after every fixture event, as HubSpot would answer. */
export const FIXTURE_CONTACT_VERSION = '2025-02-01T00:00:00.000Z';

export class FixtureVendors {
  /** The contacts as HubSpot answers them, by id; edit them to vary an answer. */
  readonly contacts = new Map<string, Record<string, unknown>>();
  /** Each read: the ids asked, and the options. */
  readonly reads: {
    kind: VendorObjectKind;
    ids: readonly string[];
    properties?: readonly string[];
  }[] = [];
  /** Thrown by the next reads instead of answering. */
  failWith?: Error;

  constructor() {
    const seeds = JSON.parse(
      readFileSync(join(FIXTURES_DIR, 'hubspot', 'api', 'contacts.json'), 'utf8'),
    ) as ContactSeed[];
    for (const seed of seeds)
      this.contacts.set(seed.id, {
        id: seed.id,
        properties: { ...seed.properties, hs_object_id: seed.id },
        createdAt: '2025-01-28T16:40:00.123Z',
        updatedAt: FIXTURE_CONTACT_VERSION,
        archived: false,
      });
  }

  /** `SyncDependencies.vendors`. */
  readonly reader = async (kind: VendorObjectKind): Promise<VendorReader> => {
    const stats = { calls: 0, throttled: 0, retries: 0 };
    return {
      kind,
      batchSize: 100,
      stats,
      read: async (ids, options) => {
        stats.calls++;
        this.reads.push({
          kind,
          ids,
          ...(options?.properties ? { properties: options.properties } : {}),
        });
        if (this.failWith) throw this.failWith;
        const answers = new Map<string, FetchResult>();
        for (const id of ids) {
          const contact = kind === 'hubspot.contact' ? this.contacts.get(id) : undefined;
          answers.set(
            id,
            contact
              ? {
                  found: {
                    id: String(contact.id),
                    version: String(contact.updatedAt),
                    object: contact,
                  },
                }
              : { missing: true, reason: 'OBJECT_NOT_FOUND (deleted, archived or never there)' },
          );
        }
        return answers;
      },
    };
  };
}
