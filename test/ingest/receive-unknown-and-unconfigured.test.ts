/**
 * Deliveries Spine cannot take from anyone yet: a path no contract names (404) and a source whose
 * signing secret is not stored (503). Both answer a caller nobody authenticated with as little
 * as will do, store nothing, and are counted on series of their own, which the alarms read.
 */
import { describe, expect, it, vi } from 'vitest';
import {
  NOT_CONFIGURED_RETRY_AFTER_SECONDS,
  receiveWebhook,
} from '../../functions/ingest/receive.ts';
import { REJECTION_REASONS, UNKNOWN_SOURCE } from '../../functions/ingest/rejection-reasons.ts';
import { loadFixture } from '../support/fixtures.ts';
import { receiverSetup, SECRETS, signedDelivery } from './receiver-harness.ts';

const fixture = loadFixture('stripe/customer.created');

describe('a delivery to a path no contract names', () => {
  it('is answered 404 naming no source, counted under one bounded series, and stored nowhere', async () => {
    const { deps, queues, lineage, counted } = receiverSetup();
    const forSource = vi.spyOn(deps.secrets, 'forSource');
    const answer = await receiveWebhook(
      { ...signedDelivery(fixture), source: 'stripe-test' },
      deps,
    );
    expect(answer.status).toBe(404);
    expect(answer.body).toEqual({
      error: 'unknown-source',
      detail:
        'no webhook source is configured at this URL; check the source name in the webhook URL against your Spine configuration',
    });
    expect(answer.headers).toBeUndefined();
    expect(counted).toEqual([
      {
        metric: 'rejected',
        dimensions: { source: UNKNOWN_SOURCE, reason: REJECTION_REASONS.unknownSource },
      },
    ]);
    expect(forSource).not.toHaveBeenCalled();
    expect(queues.bodies()).toEqual([]);
    expect(lineage.entries).toEqual([]);
  });
});

describe('a delivery to a source whose signing secret is not stored', () => {
  it('is answered 503 with Retry-After, saying no more than "not yet", and counted as not configured', async () => {
    const { deps, queues, lineage, counted, logged } = receiverSetup();
    deps.secrets.forSource = vi.fn(async () => []);
    const answer = await receiveWebhook(signedDelivery(fixture), deps);
    expect(answer).toEqual({
      status: 503,
      body: {
        error: 'unavailable',
        detail: 'this webhook URL is not taking deliveries yet; retry later',
      },
      headers: { 'retry-after': String(NOT_CONFIGURED_RETRY_AFTER_SECONDS) },
    });
    expect(JSON.stringify(answer.body)).not.toContain('stripe');
    // Its own series (not secrets-unavailable, which is Spine's fault and stays in the 5xx rate).
    expect(counted).toEqual([
      {
        metric: 'rejected',
        dimensions: { source: 'stripe', reason: REJECTION_REASONS.notConfigured },
      },
    ]);
    // The operator learns which source from the log and the alarm, not the caller.
    expect(logged).toContainEqual({
      level: 'error',
      message: 'no signing secret configured: store it, the vendor retries',
      fields: { source: 'stripe', correlationId: expect.any(String) },
    });
    expect(queues.bodies()).toEqual([]);
    expect(lineage.entries).toEqual([]);
  });

  it('takes a secret stored since the cached read at once, rather than answering 503 until the cache expires', async () => {
    const { deps, queues } = receiverSetup();
    const forSource = vi.fn(async (source: string, options: { fresh?: boolean } = {}) =>
      options.fresh ? [SECRETS[source] as string] : [],
    );
    deps.secrets.forSource = forSource;
    const answer = await receiveWebhook(signedDelivery(fixture), deps);
    expect(answer.status).toBe(202);
    expect(queues.queued).toHaveLength(1);
    expect(forSource.mock.calls).toEqual([['stripe'], ['stripe', { fresh: true }]]);
  });

  it('answers 503 secrets-unavailable, not "not configured", when the fresh read fails', async () => {
    const { deps, counted } = receiverSetup();
    deps.secrets.forSource = vi.fn(async (_source: string, options: { fresh?: boolean } = {}) => {
      if (options.fresh) throw new Error('ThrottlingException: Rate exceeded');
      return [];
    });
    const answer = await receiveWebhook(signedDelivery(fixture), deps);
    expect(answer).toMatchObject({ status: 503, body: { error: 'secrets-unavailable' } });
    expect(counted.map((c) => c.dimensions.reason)).toEqual(['secrets-unavailable']);
  });
});

describe('a delivery whose signature does not match', () => {
  it('is counted on the series the signature-failures alarm reads', async () => {
    const { deps, counted } = receiverSetup();
    const forged = signedDelivery(fixture);
    const answer = await receiveWebhook(
      { ...forged, rawBody: Buffer.from(`${fixture.raw} `) },
      deps,
    );
    expect(answer.status).toBe(401);
    expect(counted).toEqual([
      {
        metric: 'rejected',
        dimensions: { source: 'stripe', reason: REJECTION_REASONS.signatureMismatch },
      },
    ]);
  });
});
