import { spawn } from 'node:child_process';
import { PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbLineageStore } from '../../functions/lineage/dynamodb-store.ts';
import type { HeldClaim, LineageEntry } from '../../functions/lineage/model.ts';
import { LINEAGE_TABLE } from '../../functions/platform/tables.ts';
import {
  ensureTable,
  type LocalDynamoDb,
  localDynamoDbClient,
  startLocalDynamoDb,
} from '../../local/dynamodb.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const TABLE = 'spine-test-lineage';
let dynamo: LocalDynamoDb;
let store: DynamoDbLineageStore;

beforeAll(async () => {
  dynamo = await startLocalDynamoDb();
  const client = localDynamoDbClient(dynamo.url);
  await ensureTable(client, TABLE, LINEAGE_TABLE);
  store = new DynamoDbLineageStore(client, TABLE);
});
afterAll(() => dynamo?.stop());

const T1 = '2025-01-28T10:00:00.000Z';
const T2 = '2025-01-28T10:05:00.000Z';
const NOW = '2025-01-28T11:00:00.000Z';
const LATER = '2025-01-28T11:30:00.000Z';
const UNTIL = '2025-01-28T11:15:00.000Z';

/** A claim of one attempt: its token names the attempt. */
const claimOf = (occurredAt: string, eventId: string, claimedUntil: string, attempt = 1) => ({
  occurredAt,
  eventId,
  claimedUntil,
  claimToken: `${eventId}-attempt-${attempt}`,
});

describe('the stale guard in DynamoDB', () => {
  it('refuses an older change once a newer one claimed the entity, naming the newer one', async () => {
    const newer = claimOf(T2, 'evt_b', UNTIL);
    expect(await store.claimEntity('c', 'e1', newer, NOW)).toEqual({ claimed: true });
    expect(await store.claimEntity('c', 'e1', claimOf(T1, 'evt_a', UNTIL), NOW)).toEqual({
      claimed: false,
      holder: newer,
    });
  });

  it('makes a newer change wait while an older one is written, and lets it in after', async () => {
    const older = claimOf(T1, 'evt_a', UNTIL);
    const newer = claimOf(T2, 'evt_b', UNTIL);
    expect(await store.claimEntity('c', 'e2', older, NOW)).toEqual({ claimed: true });
    expect(await store.claimEntity('c', 'e2', newer, NOW)).toMatchObject({
      claimed: false,
      holder: { eventId: 'evt_a' },
    });
    await store.releaseEntity('c', 'e2', older.claimToken);
    expect(await store.claimEntity('c', 'e2', newer, NOW)).toEqual({ claimed: true });
  });

  it('makes a retry of the same event wait while its earlier attempt may still be writing', async () => {
    // The first attempt passed its deadline during an Odoo stall: its write may still commit.
    const first = claimOf(T1, 'evt_a', UNTIL, 1);
    expect(await store.claimEntity('c', 'e3', first, NOW)).toEqual({ claimed: true });
    expect(await store.claimEntity('c', 'e3', claimOf(T1, 'evt_a', LATER, 2), NOW)).toMatchObject({
      claimed: false,
      holder: { eventId: 'evt_a' },
    });
    // Once the claim has lapsed, the retry claims the entity, and then a newer event after it.
    const retry = claimOf(T1, 'evt_a', '2025-01-28T11:45:00.000Z', 2);
    expect(await store.claimEntity('c', 'e3', retry, LATER)).toEqual({ claimed: true });
    await store.releaseEntity('c', 'e3', retry.claimToken);
    const newer = claimOf(T2, 'evt_b', '2025-01-28T12:00:00.000Z');
    expect(await store.claimEntity('c', 'e3', newer, LATER)).toEqual({ claimed: true });
    // The first attempt's late release (a zombie) does not end the claim it no longer holds.
    await store.releaseEntity('c', 'e3', first.claimToken);
    expect(await store.entityState('c', 'e3')).toMatchObject({
      eventId: 'evt_b',
      claimedUntil: '2025-01-28T12:00:00.000Z',
    });
  });

  it('orders two changes made at the same time by event id, so exactly one of them wins', async () => {
    const a = claimOf(T1, 'evt_a', UNTIL);
    const b = claimOf(T1, 'evt_b', UNTIL);
    expect(await store.claimEntity('c', 'e4', b, NOW)).toEqual({ claimed: true });
    await store.releaseEntity('c', 'e4', b.claimToken);
    expect(await store.claimEntity('c', 'e4', a, NOW)).toMatchObject({ claimed: false });
  });
});

describe('natural-key locks in DynamoDB', () => {
  it('holds a key for one writer until it ends the lock or the lock lapses', async () => {
    expect(await store.lockNaturalKey('k1', 'writer-1', UNTIL, NOW)).toBe(true);
    expect(await store.lockNaturalKey('k1', 'writer-2', UNTIL, NOW)).toBe(false);
    // The same writer (another row of its batch) may take it again.
    expect(await store.lockNaturalKey('k1', 'writer-1', UNTIL, NOW)).toBe(true);
    // Another writer's unlock does not end it.
    await store.unlockNaturalKey('k1', 'writer-2');
    expect(await store.lockNaturalKey('k1', 'writer-2', UNTIL, NOW)).toBe(false);
    await store.unlockNaturalKey('k1', 'writer-1');
    expect(await store.lockNaturalKey('k1', 'writer-2', UNTIL, NOW)).toBe(true);
    // Lapsed: a writer that never ended it (a crash) keeps nobody out after `until`.
    expect(await store.lockNaturalKey('k1', 'writer-3', LATER, LATER)).toBe(true);
  });
});

describe('ending claims with the trail', () => {
  const inMinutes = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();
  const entry = (eventId: string): LineageEntry => ({
    stage: 'applied',
    at: new Date().toISOString(),
    source: 'stripe',
    eventId,
  });

  it('ends a live claim in the same batch write as the entries', async () => {
    const claim = claimOf(T1, 'evt_live', inMinutes(15));
    expect(await store.claimEntity('c', 'e5', claim, new Date().toISOString())).toEqual({
      claimed: true,
    });
    const calls: string[] = [];
    const client = localDynamoDbClient(dynamo.url);
    client.middlewareStack.add(
      (next, context) => (args) => {
        calls.push(context.commandName as string);
        return next(args);
      },
      { step: 'initialize', name: 'countCalls' },
    );
    await new DynamoDbLineageStore(client, TABLE).record(
      [entry('evt_live')],
      [{ contractId: 'c', entityKey: 'e5', claim }],
    );
    expect(calls).toEqual(['BatchWriteItemCommand']);
    expect(await store.entityState('c', 'e5')).toEqual({ occurredAt: T1, eventId: 'evt_live' });
    expect(await store.byEvent('stripe', 'evt_live')).toHaveLength(1);
    const newer = claimOf(T2, 'evt_next', inMinutes(15));
    expect(await store.claimEntity('c', 'e5', newer, new Date().toISOString())).toEqual({
      claimed: true,
    });
  });

  it('never overwrites a newer claim when ending one that has lapsed', async () => {
    const lapsed = claimOf(T1, 'evt_slow', inMinutes(-1));
    await store.claimEntity('c', 'e6', lapsed, inMinutes(-16));
    const newer = claimOf(T2, 'evt_fast', inMinutes(15));
    expect(await store.claimEntity('c', 'e6', newer, new Date().toISOString())).toEqual({
      claimed: true,
    });
    await store.record([entry('evt_slow')], [{ contractId: 'c', entityKey: 'e6', claim: lapsed }]);
    expect(await store.entityState('c', 'e6')).toEqual(newer);
  });
});

describe('ending a claim with its outcome', () => {
  const inMinutes = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();
  const applied = (eventId: string): LineageEntry => ({
    stage: 'applied',
    at: new Date().toISOString(),
    source: 'stripe',
    eventId,
  });
  const sourced = (claim: HeldClaim): HeldClaim => ({ ...claim, source: 'stripe' });

  it('writes the entity state once: the next claimant finds the claim ended on the outcome', async () => {
    const claim = sourced(claimOf(T1, 'evt_ended', inMinutes(15)));
    expect(await store.claimEntity('c', 'e7', claim, new Date().toISOString())).toEqual({
      claimed: true,
    });
    const calls: string[] = [];
    const client = localDynamoDbClient(dynamo.url);
    client.middlewareStack.add(
      (next, context) => (args) => {
        calls.push(context.commandName as string);
        return next(args);
      },
      { step: 'initialize', name: 'countCalls' },
    );
    await new DynamoDbLineageStore(client, TABLE).record(
      [applied('evt_ended')],
      [{ contractId: 'c', entityKey: 'e7', claim }],
    );
    // One write: the outcome, naming the claim it ends; the entity's state is not written again.
    expect(calls).toEqual(['BatchWriteItemCommand']);
    expect(await store.entityState('c', 'e7')).toMatchObject({ claimToken: claim.claimToken });
    const newer = sourced(claimOf(T2, 'evt_after', inMinutes(15)));
    expect(await store.claimEntity('c', 'e7', newer, new Date().toISOString())).toEqual({
      claimed: true,
    });
    // The older event, late, is stale against the newer one.
    expect(
      await store.claimEntity('c', 'e7', sourced(claimOf(T1, 'evt_old', UNTIL)), NOW),
    ).toMatchObject({ claimed: false, holder: { eventId: 'evt_after' } });
  });

  it('keeps a claim whose write may still land: an outcome without the release ends nothing', async () => {
    const claim = sourced(claimOf(T1, 'evt_unsettled', inMinutes(15)));
    await store.claimEntity('c', 'e8', claim, new Date().toISOString());
    // Recorded without releasing: a write whose answer was lost may still commit in Odoo.
    await store.record([applied('evt_unsettled')]);
    expect(
      await store.claimEntity(
        'c',
        'e8',
        sourced(claimOf(T2, 'evt_waits', inMinutes(15))),
        new Date().toISOString(),
      ),
    ).toMatchObject({ claimed: false, holder: { eventId: 'evt_unsettled' } });
  });

  it("does not let an earlier attempt's ended claim end a later attempt's", async () => {
    const first = sourced(claimOf(T1, 'evt_retried', inMinutes(-1), 1));
    await store.claimEntity('c', 'e9', first, inMinutes(-16));
    // The first attempt lapsed; the retry holds the entity now, and is still writing.
    const retry = sourced(claimOf(T1, 'evt_retried', inMinutes(15), 2));
    expect(await store.claimEntity('c', 'e9', retry, new Date().toISOString())).toEqual({
      claimed: true,
    });
    // The first attempt's outcome, late, names its own claim only.
    await store.record(
      [applied('evt_retried')],
      [{ contractId: 'c', entityKey: 'e9', claim: first }],
    );
    expect(
      await store.claimEntity(
        'c',
        'e9',
        sourced(claimOf(T2, 'evt_newer', inMinutes(15))),
        new Date().toISOString(),
      ),
    ).toMatchObject({ claimed: false, holder: { claimToken: retry.claimToken } });
  });
});

describe('an event in as few items as its lookups allow', () => {
  const at = '2025-02-03T10:00:01.000Z';
  const base = {
    source: 'stripe',
    eventId: 'evt_merged',
    eventType: 'payment_intent.succeeded',
    contract: 'stripe.payment-intent@1.2.0',
    flow: 'payments',
    correlationId: 'corr-merged',
    entityKey: 'pi_1',
    occurredAt: '2025-02-03T09:59:00.000Z',
  };
  const trail: LineageEntry[] = [
    { ...base, stage: 'received', at: '2025-02-03T10:00:00.000Z', redacted: { id: 'evt_merged' } },
    { ...base, stage: 'queued', at: '2025-02-03T10:00:00.500Z' },
    {
      ...base,
      stage: 'applied',
      at,
      model: 'account.payment',
      recordId: 31,
      externalId: 'spine.stripe_payment_pi_1',
      outcome: 'created',
      measure: 149,
    },
    { ...base, stage: 'posted', at, model: 'account.payment', recordId: 31, detail: 'posted' },
    {
      ...base,
      stage: 'related',
      at,
      model: 'res.partner',
      recordId: 4,
      outcome: 'found',
      detail: 'partner_id of account.payment 31',
    },
  ];
  const items = async (pk: string) =>
    (
      await localDynamoDbClient(dynamo.url).send(
        new QueryCommand({
          TableName: TABLE,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: pk } },
        }),
      )
    ).Items ?? [];

  it('keeps the arrival, the steps on the same record and the records it only found in the outcome item', async () => {
    await store.record(trail);
    const stored = await items('EVENT#stripe#evt_merged');
    // One item: the outcome, with the arrival, the posting and the partner it found.
    expect(stored.map((i) => i.stage?.S)).toEqual(['applied']);
    // An applied event keeps its arrival's times, not its redacted view (every other outcome does).
    const { redacted: _view, ...received } = trail[0] as LineageEntry;
    const kept = [received, ...trail.slice(1)];
    expect(await store.byEvent('stripe', 'evt_merged')).toEqual(kept);
    expect(await store.byCorrelation('corr-merged')).toEqual(kept);
    expect((await store.byRecord('account.payment', 31)).map((e) => e.stage)).toEqual([
      'applied',
      'posted',
    ]);
    // Nothing changed the partner: its timeline does not list every payment that names it.
    expect(await store.byRecord('res.partner', 4)).toEqual([]);
    expect(await store.appliedOn('stripe.payment-intent', '2025-02-03')).toEqual([trail[2]]);
  });

  it('gives a record the event created or linked an item of its own, in that record timeline', async () => {
    const created = trail.map((e) =>
      e.stage === 'related'
        ? { ...e, eventId: 'evt_linked', outcome: 'linked' }
        : { ...e, eventId: 'evt_linked' },
    );
    await store.record(created);
    const stored = await items('EVENT#stripe#evt_linked');
    expect(stored.map((i) => i.stage?.S)).toEqual(['applied', 'related']);
    expect(await store.byRecord('res.partner', 4)).toEqual([created[4]]);
    expect(await store.byEvent('stripe', 'evt_linked')).toHaveLength(5);
  });

  it('keeps the redacted view with an outcome a person has to look into', async () => {
    const failed: LineageEntry[] = [
      {
        ...base,
        eventId: 'evt_failed',
        stage: 'received',
        at: '2025-02-03T10:00:00.000Z',
        redacted: { id: 'evt_failed' },
      },
      { ...base, eventId: 'evt_failed', stage: 'queued', at: '2025-02-03T10:00:00.500Z' },
      {
        ...base,
        eventId: 'evt_failed',
        stage: 'failed',
        at,
        error: { code: 'odoo-validation', message: 'journal missing', retryable: false },
      },
    ];
    await store.record(failed);
    expect(await store.byEvent('stripe', 'evt_failed')).toEqual(failed);
  });

  it('keeps only outcomes in the correlation index, and sets every item to expire', async () => {
    await store.record(trail.map((e) => ({ ...e, eventId: 'evt_sparse' })));
    const stored = await items('EVENT#stripe#evt_sparse');
    expect(stored.filter((i) => i.correlationId).map((i) => i.stage?.S)).toEqual(['applied']);
    const now = Date.now() / 1000;
    for (const item of stored)
      expect(Number(item.expiresAt?.N)).toBeCloseTo(now + 400 * 86_400, -2);
    const shortLived = new DynamoDbLineageStore(localDynamoDbClient(dynamo.url), TABLE, {
      retentionDays: 30,
    });
    await shortLived.record([{ ...trail[2], eventId: 'evt_short' } as LineageEntry]);
    const [short] = await items('EVENT#stripe#evt_short');
    expect(Number(short?.expiresAt?.N)).toBeCloseTo(now + 30 * 86_400, -2);
  });

  it('reads items written one per stage, before this layout', async () => {
    const client = localDynamoDbClient(dynamo.url);
    const old = (entry: LineageEntry, seq: string, keys: Record<string, string> = {}) =>
      client.send(
        new PutItemCommand({
          TableName: TABLE,
          Item: marshall(
            {
              pk: `EVENT#${entry.source}#${entry.eventId}`,
              sk: `${entry.at}#${seq}#${entry.stage}`,
              ...entry,
              ...keys,
            },
            { removeUndefinedValues: true },
          ),
        }),
      );
    const before = trail.map((e) => ({
      ...e,
      eventId: 'evt_old_layout',
      correlationId: 'corr-old',
    }));
    const [received, queued, appliedEntry, posted, related] = before as [
      LineageEntry,
      LineageEntry,
      LineageEntry,
      LineageEntry,
      LineageEntry,
    ];
    await old(received, 'arrival-1');
    await old(queued, 'arrival-2');
    await old(appliedEntry, '000001', {
      recordKey: 'account.payment#31',
      contractDay: 'stripe.payment-intent#2025-02-03',
    });
    await old(posted, '000002', { recordKey: 'account.payment#31' });
    await old(related, '000003', { recordKey: 'res.partner#4' });
    expect(await store.byEvent('stripe', 'evt_old_layout')).toEqual(before);
    expect(await store.byCorrelation('corr-old')).toEqual(before);
    expect(await store.byRecord('res.partner', 4)).toContainEqual(related);
    expect(await store.appliedOn('stripe.payment-intent', '2025-02-03')).toContainEqual(
      appliedEntry,
    );
  });
});

describe('arrivals', () => {
  it('are one entry each however often they are recorded (a retried batch, a replay)', async () => {
    const arrival = (stage: 'received' | 'queued', at: string): LineageEntry => ({
      stage,
      at,
      source: 'stripe',
      eventId: 'evt_twice',
    });
    const first = [arrival('received', T1), arrival('queued', T2)];
    await store.record(first);
    // Twice in one write too: a message delivered twice in one batch.
    await store.record([...first, ...first]);
    // A second delivery of the same event is a second arrival.
    await store.record([arrival('received', LATER)]);
    expect((await store.byEvent('stripe', 'evt_twice')).map((e) => [e.stage, e.at])).toEqual([
      ['received', T1],
      ['queued', T2],
      ['received', LATER],
    ]);
  });
});

describe('records related to an event', () => {
  it('show in the record timeline and stay out of reconciliation', async () => {
    const base = {
      at: '2025-01-28T10:00:01.000Z',
      source: 'shopify',
      eventId: 'order-1',
      contract: 'shopify.order@1.1.0',
      occurredAt: T1,
    };
    const entries: LineageEntry[] = [
      { ...base, stage: 'applied', model: 'sale.order', recordId: 7, outcome: 'created' },
      { ...base, stage: 'related', model: 'res.partner', recordId: 12, outcome: 'created' },
    ];
    await store.record(entries);
    expect(await store.byRecord('res.partner', 12)).toMatchObject([
      { eventId: 'order-1', stage: 'related' },
    ]);
    expect(await store.appliedOn('shopify.order', '2025-01-28')).toMatchObject([
      { stage: 'applied', model: 'sale.order' },
    ]);
  });
});

function spine(
  ...args: string[]
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [`${ROOT}cli/bin.mjs`, ...args], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('spine lineage', { timeout: 60_000 }, () => {
  it('exits 1 and says so when nothing is found, 0 with the timeline when something is', async () => {
    const options = ['--endpoint', dynamo.url, '--table', TABLE];
    const missing = await spine('lineage', 'event', 'stripe', 'evt_nowhere', ...options);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no lineage for event stripe evt_nowhere');
    const found = await spine('lineage', 'record', 'res.partner', '12', ...options);
    expect(found.code).toBe(0);
    expect(found.stdout).toContain('related');
  });
});
