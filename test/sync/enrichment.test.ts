/**
 * Thin events enriched from the vendor's API before mapping (functions/sync/enrichment.ts): a
 * HubSpot contact is fetched once per batch however many events name it, written as fetched,
 * ordered by its own version, and every way the fetch can fail ends as the issue says: deleted
 * skipped, throttled or missing credential retried, a broken answer kept with its report.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VendorThrottled } from '../../functions/enrich/errors.ts';
import { SourceCredentialMissing } from '../../functions/errors/index.ts';
import type { Envelope } from '../../functions/ingest/envelope.ts';
import type { OdooClient } from '../../functions/odoo/client.ts';
import { applyEnvelopes, type SyncDependencies } from '../../functions/sync/apply.ts';
import { type OdooEmulator, startOdooEmulator } from '../../local/odoo/server.ts';
import { MemoryLineageStore } from '../support/memory-lineage.ts';
import { integrationClient } from '../support/odoo.ts';
import { contractNamed, queuedEnvelope } from '../support/queued-events.ts';
import { syncDependencies } from '../support/sync.ts';
import { FIXTURE_CONTACT_VERSION, FixtureVendors } from '../support/vendor-fixtures.ts';

let emulator: OdooEmulator;
let client: OdooClient;
let lineage: MemoryLineageStore;
let vendors: FixtureVendors;
let deps: SyncDependencies;

beforeEach(async () => {
  emulator = await startOdooEmulator({ port: 0 });
  client = await integrationClient(emulator);
  lineage = new MemoryLineageStore();
  vendors = new FixtureVendors();
  deps = syncDependencies(client, lineage, { vendors: vendors.reader });
});
afterEach(async () => {
  await emulator.stop();
});

const creation = contractNamed('hubspot.contact-creation');
const propertyChange = contractNamed('hubspot.contact-property-change');

/** A HubSpot event for contact `objectId`, as the receiver queues it. */
function hubspotEvent(
  eventId: number,
  options: { objectId?: number; at?: string; property?: string } = {},
): Envelope {
  const objectId = options.objectId ?? 51;
  const at = options.at ?? '2025-01-28T16:45:00.456Z';
  const contract = options.property ? propertyChange : creation;
  return queuedEnvelope(
    contract,
    {
      eventId,
      subscriptionId: options.property ? 2871246 : 2871245,
      portalId: 62515,
      occurredAt: Date.parse(at),
      subscriptionType: options.property ? 'contact.propertyChange' : 'contact.creation',
      attemptNumber: 0,
      objectId,
      ...(options.property ? { propertyName: options.property, propertyValue: 'x' } : {}),
    },
    {
      id: String(eventId),
      subject: String(objectId),
      type: options.property ? 'contact.propertyChange' : 'contact.creation',
      time: at,
    },
  );
}

const partners = (email: string) =>
  client.searchRead('res.partner', [['email', '=ilike', email]], {
    fields: ['name', 'email', 'phone', 'function', 'website'],
  });

describe('enrichment of thin HubSpot events', () => {
  it('creates the partner from the fetched contact, and says what was fetched in lineage', async () => {
    const [outcome] = await applyEnvelopes([hubspotEvent(1)], deps);
    expect(outcome).toMatchObject({ kind: 'applied', model: 'res.partner', status: 'created' });
    expect(await partners('bob.norman@example.com')).toEqual([
      expect.objectContaining({
        name: 'Bob Norman',
        phone: '+1 613 555 0177',
        function: 'Head of Purchasing',
        website: 'https://norman-supplies.example.com',
      }),
    ]);
    const enriched = lineage.entries.find((e) => e.stage === 'enriched');
    expect(enriched?.detail).toMatch(
      new RegExp(
        `^hubspot\\.contact 51 at version ${FIXTURE_CONTACT_VERSION}, fetched in \\d+ ms$`,
      ),
    );
    // What was fetched, never its values.
    expect(JSON.stringify(lineage.entries)).not.toContain('Norman');
  });

  it('fetches a contact once for a burst of 50 changes in one batch, and applies the newest', async () => {
    const burst = Array.from({ length: 50 }, (_, i) =>
      hubspotEvent(1000 + i, { property: i % 2 ? 'phone' : 'jobtitle' }),
    );
    const outcomes = await applyEnvelopes(burst, deps);
    expect(vendors.reads).toHaveLength(1);
    expect(vendors.reads[0]?.ids).toEqual(['51']);
    expect(outcomes.filter((o) => o.kind === 'applied')).toHaveLength(1);
    expect(outcomes.filter((o) => o.kind === 'skipped-stale')).toHaveLength(49);
    // All 50 wrote the same fetched state: the one applied is the last by event id.
    expect(outcomes[49]).toMatchObject({ kind: 'applied' });
    expect(await partners('bob.norman@example.com')).toHaveLength(1);
  });

  it('orders writes by the fetched version: an older fetch never overwrites a newer one', async () => {
    const contact = vendors.contacts.get('51') as Record<string, unknown>;
    // The newer state is written first (a later event, a later fetch)...
    vendors.contacts.set('51', {
      ...contact,
      properties: { ...(contact.properties as object), jobtitle: 'Director' },
      updatedAt: '2025-03-01T00:00:00.000Z',
    });
    expect((await applyEnvelopes([hubspotEvent(2)], deps))[0]).toMatchObject({ kind: 'applied' });
    // ...then an attempt that fetched the older state comes in: stale, whatever its event id.
    vendors.contacts.set('51', contact);
    expect((await applyEnvelopes([hubspotEvent(3)], deps))[0]).toMatchObject({
      kind: 'skipped-stale',
    });
    expect((await partners('bob.norman@example.com'))[0]).toMatchObject({ function: 'Director' });
  });

  it('retries while the vendor answers a state older than the event announced', async () => {
    const [outcome] = await applyEnvelopes(
      [hubspotEvent(4, { at: '2025-06-01T00:00:00.000Z' })],
      deps,
    );
    expect(outcome).toMatchObject({ kind: 'failed', retryable: true });
    expect(outcome?.kind === 'failed' && outcome.error.message).toMatch(
      /older than the event \(2025-06-01/,
    );
    expect(await partners('bob.norman@example.com')).toEqual([]);
  });

  it('skips an event whose contact is gone at HubSpot, saying why', async () => {
    const [outcome] = await applyEnvelopes([hubspotEvent(5, { objectId: 99 })], deps);
    expect(outcome).toMatchObject({ kind: 'skipped' });
    expect(outcome?.kind === 'skipped' && outcome.reason).toMatch(
      /^hubspot\.contact 99 is gone at hubspot: OBJECT_NOT_FOUND/,
    );
  });

  it('names a contact whose properties are all empty, and never invents the rest', async () => {
    const contact = vendors.contacts.get('51') as Record<string, unknown>;
    vendors.contacts.set('51', {
      ...contact,
      properties: {
        email: null,
        firstname: '',
        lastname: null,
        phone: null,
        mobilephone: null,
        jobtitle: null,
        website: null,
      },
    });
    const [outcome] = await applyEnvelopes([hubspotEvent(6)], deps);
    expect(outcome).toMatchObject({ kind: 'applied', status: 'created' });
    const [partner] = await client.searchRead(
      'res.partner',
      [['name', '=', 'HubSpot contact 51']],
      { fields: ['email', 'phone'] },
    );
    expect(partner).toMatchObject({ email: false, phone: false });
  });

  it('retries (never drops) events while HubSpot throttles or its credential is missing', async () => {
    vendors.failWith = new VendorThrottled('HubSpot', 'HubSpot throttled: TEN_SECONDLY_ROLLING', {
      retryAfterSeconds: 10,
    });
    const [throttled] = await applyEnvelopes([hubspotEvent(7)], deps);
    expect(throttled).toMatchObject({ kind: 'failed', retryable: true });
    vendors.failWith = new SourceCredentialMissing('spine/prod/sources/hubspot', 'no such secret');
    const [missing] = await applyEnvelopes([hubspotEvent(8)], deps);
    expect(missing).toMatchObject({ kind: 'failed', retryable: true });
    expect(missing?.kind === 'failed' && missing.error.message).toContain(
      'spine/prod/sources/hubspot',
    );
    expect(lineage.entries.filter((e) => e.stage === 'failed').map((e) => e.error?.code)).toEqual([
      'vendor-throttled',
      'source-credential-missing',
    ]);
  });

  it('keeps an answer that breaks the enrich schema with its report, never writing it', async () => {
    const contact = vendors.contacts.get('51') as Record<string, unknown>;
    vendors.contacts.set('51', {
      ...contact,
      properties: { ...(contact.properties as object), email: 42 },
    });
    const [outcome] = await applyEnvelopes([hubspotEvent(9)], deps);
    expect(outcome).toMatchObject({ kind: 'failed', retryable: false });
    expect(outcome?.kind === 'failed' && outcome.error.message).toMatch(
      /hubspot\.contact fetched for contract hubspot\.contact-creation@2\.0\.0 does not satisfy its enrich schema: \$contact\.properties\.email/,
    );
    expect(await partners('bob.norman@example.com')).toEqual([]);
  });
});
