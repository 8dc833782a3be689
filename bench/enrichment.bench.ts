/**
 * Vendor calls per enriched event: a burst of HubSpot property changes (50 events over 5
 * contacts, as a CRM import or a workflow sends them) enriched by the worker's step, a batch of
 * ten at a time, through the real HubSpot client against the HubSpot emulator, beside the same
 * events fetched one at a time (a fetch per event, as a naive enricher does). HubSpot's burst
 * limit (100 calls per 10 s per app) is what this spends.
 */
import { performance } from 'node:perf_hooks';
import { loadContractRegistry } from '../functions/contracts/index.ts';
import { HubSpotContacts } from '../functions/enrich/hubspot.ts';
import type { Envelope } from '../functions/ingest/envelope.ts';
import { enrichBatch, type ToEnrich } from '../functions/sync/enrichment.ts';
import { startHubSpotEmulator } from '../local/vendors/hubspot.ts';
import type { Benchmark, Measurement } from './harness.ts';

const EVENTS = 50;
const CONTACTS = 5;
const BATCH = 10;
/** What one event per call must stay under, per event, for a burst to fit HubSpot's limit. */
const TARGET_CALLS_PER_EVENT = 0.2;

export const enrichmentBenchmark: Benchmark = {
  name: 'Enrichment: vendor calls per event (HubSpot emulator, the real client)',
  async run(): Promise<Measurement[]> {
    const token = 'pat-bench';
    const emulator = await startHubSpotEmulator({
      token,
      // The bench counts calls; the burst limit would only slow the one-at-a-time baseline.
      rateLimit: { max: 100_000, intervalMs: 10_000 },
      seed: Array.from({ length: CONTACTS }, (_, i) => ({
        id: String(900 + i),
        properties: { email: `c${i}@example.com`, firstname: 'Bench', lastname: `Contact ${i}` },
      })),
    });
    try {
      const registry = loadContractRegistry();
      const contract = registry.route('hubspot', 'contact.propertyChange') as ToEnrich['contract'];
      const items: ToEnrich[] = Array.from({ length: EVENTS }, (_, i) => ({
        index: i,
        contract,
        envelope: {
          id: `bench-${i}`,
          time: '2025-01-01T00:00:00.000Z',
          subject: String(900 + (i % CONTACTS)),
          data: {
            eventId: i,
            subscriptionId: 1,
            portalId: 1,
            occurredAt: Date.parse('2025-01-01T00:00:00.000Z'),
            subscriptionType: 'contact.propertyChange',
            objectId: 900 + (i % CONTACTS),
            propertyName: 'jobtitle',
            propertyValue: 'x',
          },
        } as unknown as Envelope,
      }));
      const run = async (groups: ToEnrich[][]) => {
        const reader = new HubSpotContacts({ token, baseUrl: emulator.url });
        const started = performance.now();
        let enriched = 0;
        for (const group of groups) {
          const answers = await enrichBatch(group, { registry, vendors: async () => reader });
          enriched += [...answers.values()].filter((a) => 'enriched' in a).length;
        }
        if (enriched !== EVENTS) throw new Error(`enriched ${enriched} of ${EVENTS} events`);
        return { calls: reader.stats.calls, ms: performance.now() - started };
      };
      const batched = await run(
        Array.from({ length: EVENTS / BATCH }, (_, b) => items.slice(b * BATCH, (b + 1) * BATCH)),
      );
      const single = await run(items.map((item) => [item]));
      return [
        {
          metric: 'HubSpot calls per event',
          case: `${EVENTS} changes to ${CONTACTS} contacts, batches of ${BATCH}`,
          value: batched.calls / EVENTS,
          baseline: single.calls / EVENTS,
          baselineLabel: 'one event at a time',
          unit: 'calls',
          target: `≤ ${TARGET_CALLS_PER_EVENT}`,
          met: batched.calls / EVENTS <= TARGET_CALLS_PER_EVENT,
        },
        {
          metric: 'enrichment time per event',
          case: `${EVENTS} changes to ${CONTACTS} contacts, batches of ${BATCH}`,
          value: batched.ms / EVENTS,
          baseline: single.ms / EVENTS,
          baselineLabel: 'one event at a time',
          unit: 'ms',
        },
      ];
    } finally {
      await emulator.stop();
    }
  },
};
