/**
 * The dashboard and alarms read Spine's own metrics by name and exact dimension set; CloudWatch
 * shows nothing for a set no handler writes. This runs the handlers on the local runtime with
 * metrics on, collects what they publish (EMF on stdout), and checks every Spine metric the
 * synthesised stack reads against it.
 */
import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { NOT_CONFIGURED_RETRY_AFTER_SECONDS } from '../../functions/ingest/receive.ts';
import { REJECTION_REASONS } from '../../functions/ingest/rejection-reasons.ts';
import { resetContainer } from '../../functions/platform/container.ts';
import { webhookSecretName } from '../../functions/platform/names.ts';
import { runReplayLocally } from '../../local/replay.ts';
import { allFixtures, loadFixture } from '../support/fixtures.ts';
import {
  localSecretsClient,
  sendFixture,
  startTestRuntime,
  waitFor,
} from '../support/local-runtime.ts';
import { synthEnvironment } from './synth.ts';

interface Published {
  readonly name: string;
  readonly dimensions: Readonly<Record<string, string>>;
}

const published: Published[] = [];
type Runtime = Awaited<ReturnType<typeof startTestRuntime>>;
let runtime: Runtime;
/** The gateway's answer to a delivery for a source with no signing secret stored. */
let notConfigured: Response;

function collectEmf(chunk: unknown): void {
  for (const line of String(chunk).split('\n')) {
    if (!line.startsWith('{"_aws"')) continue;
    const emf = JSON.parse(line) as {
      _aws: {
        CloudWatchMetrics: {
          Namespace: string;
          Dimensions: string[][];
          Metrics: { Name: string }[];
        }[];
      };
    } & Record<string, unknown>;
    for (const directive of emf._aws.CloudWatchMetrics) {
      if (directive.Namespace !== 'Spine') continue;
      for (const set of directive.Dimensions)
        for (const metric of directive.Metrics)
          published.push({
            name: metric.Name,
            dimensions: Object.fromEntries(set.map((d) => [d, String(emf[d])])),
          });
    }
  }
}

const variant = (name: string, tag: string, ids: RegExp) => {
  const fixture = loadFixture(name);
  return { ...fixture, raw: fixture.raw.replaceAll(ids, (id) => `${id}${tag}`) };
};

beforeAll(async () => {
  runtime = await startTestRuntime();
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  const write = process.stdout.write.bind(process.stdout);
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk, ...rest) => {
    collectEmf(chunk);
    // EMF lines are collected, not printed: they would bury the test report.
    return String(chunk).startsWith('{"_aws"') ? true : write(chunk, ...(rest as []));
  });

  // Every vendor's events (received, accepted, applied, Odoo latency); customers first, so that
  // payments and orders find their partner instead of waiting for a retry.
  const applied = (contract: string) =>
    published.some((p) => p.name === 'applied' && p.dimensions.contract === contract);
  const [customers, others] = [true, false].map((first) =>
    allFixtures().filter((f) => f.name.includes('customer') === first),
  );
  for (const fixture of customers ?? [])
    expect((await sendFixture(runtime, fixture)).status).toBe(202);
  await waitFor(
    'the customers',
    async () => applied('stripe.customer') && applied('shopify.customer'),
  );
  for (const fixture of others ?? [])
    expect((await sendFixture(runtime, fixture)).status).toBe(202);
  await waitFor('a payment', async () => applied('stripe.payment-intent'));
  // A vendor retry (duplicates suppressed): on the standard payments queue, as FIFO queues
  // drop a repeat within five minutes before any worker sees it.
  await sendFixture(runtime, loadFixture('stripe/payment_intent.succeeded'));
  // An older change after a newer one (stale skipped).
  const ids = /(evt|cus)_\w+/g;
  await sendFixture(runtime, variant('stripe/customer.updated', '_stale', ids));
  await waitFor('the newer change', async () =>
    published.some((p) => p.name === 'applied' && p.dimensions.contract === 'stripe.customer'),
  );
  await sendFixture(runtime, variant('stripe/customer.created', '_stale', ids));
  // An authentic event that breaks its contract (quarantined), replayed twice with at most one
  // replay allowed: replayed, back in the DLQ, then parked.
  const invalid = loadFixture('stripe/payment_intent.succeeded');
  await sendFixture(runtime, {
    ...invalid,
    raw: invalid.raw
      .replace(/evt_\w+/, 'evt_metrics_invalid')
      .replace('"currency": "eur"', '"currency": "euros"'),
  });
  await waitFor(
    'every change applied or skipped',
    async () =>
      published.some((p) => p.name === 'stale-skipped') &&
      published.some((p) => p.name === 'duplicates-suppressed'),
  );
  for (let i = 0; i < 2; i++) {
    await runReplayLocally({ flows: runtime.flows, input: { flow: 'payments', maxReplays: 1 } });
    await new Promise((r) => setTimeout(r, 1500));
  }
  // The scheduled reconciliation (mismatches per contract).
  const { handler } = await import('../../functions/handlers/reconcile.ts');
  await handler({ days: ['2025-01-27'] });

  // Refusals the source alarms read: a signature that does not match (signed with another
  // secret), and a source whose secret is not stored (emptied, with the receiver's cache gone).
  const customer = loadFixture('stripe/customer.created');
  expect((await sendFixture(runtime, customer, { secret: 'whsec_rolled_at_stripe' })).status).toBe(
    401,
  );
  await localSecretsClient(runtime).send(
    new PutSecretValueCommand({
      SecretId: webhookSecretName('local', 'stripe'),
      SecretString: JSON.stringify({ current: '' }),
    }),
  );
  resetContainer();
  notConfigured = await fetch(`${runtime.gatewayUrl}/webhooks/stripe`, {
    method: 'POST',
    headers: customer.headers,
    body: customer.raw,
  });
}, 120_000);

afterAll(async () => {
  vi.restoreAllMocks();
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  await runtime.dispose();
});

/** Every metric in the Spine namespace the dashboard and alarms read, with its dimensions. */
function metricsTheStackReads(): Published[] {
  const { statelessTemplate } = synthEnvironment('dev');
  const resources = Object.values(
    statelessTemplate.toJSON().Resources as Record<
      string,
      { Type: string; Properties: Record<string, unknown> }
    >,
  );
  const read: Published[] = [];
  for (const alarm of resources.filter((r) => r.Type === 'AWS::CloudWatch::Alarm')) {
    for (const m of (alarm.Properties.Metrics ?? []) as {
      MetricStat?: {
        Metric: {
          Namespace: string;
          MetricName: string;
          Dimensions: { Name: string; Value: string }[];
        };
      };
    }[]) {
      const metric = m.MetricStat?.Metric;
      if (metric?.Namespace === 'Spine')
        read.push({
          name: metric.MetricName,
          dimensions: Object.fromEntries(metric.Dimensions.map((d) => [d.Name, d.Value])),
        });
    }
  }
  const dashboard = resources.find((r) => r.Type === 'AWS::CloudWatch::Dashboard');
  const join = dashboard?.Properties.DashboardBody as { 'Fn::Join': [string, unknown[]] };
  const body = JSON.parse(
    join['Fn::Join'][1].map((p) => (typeof p === 'string' ? p : 'TOKEN')).join(''),
  );
  for (const widget of body.widgets as { properties: { metrics?: unknown[][] } }[]) {
    for (const line of widget.properties.metrics ?? []) {
      if (line[0] !== 'Spine') continue;
      const pairs = line.slice(2).filter((x) => typeof x === 'string') as string[];
      const dimensions: Record<string, string> = {};
      for (let i = 0; i < pairs.length; i += 2)
        dimensions[pairs[i] as string] = pairs[i + 1] as string;
      read.push({ name: line[1] as string, dimensions });
    }
  }
  return read;
}

describe('the metrics the dashboard and alarms read', { timeout: 60_000 }, () => {
  it('are the metrics the handlers publish, by name and exact dimension set', () => {
    const read = metricsTheStackReads();
    const names = new Set(read.map((m) => m.name));
    for (const name of [
      'received',
      'accepted',
      'quarantined',
      'applied',
      'stale-skipped',
      'duplicates-suppressed',
      'odoo-latency',
      'reconciliation-mismatches',
      'reconciliation-unposted-invoices',
      'reconciliation-unmatched-payments',
      'reconciliation-unconfirmed-paid-orders',
      'reconciliation-amount-difference',
      'replayed',
      'parked',
    ])
      expect(names, name).toContain(name);
    const schema = (p: Published) => `${p.name}{${Object.keys(p.dimensions).sort().join(',')}}`;
    const publishedSchemas = new Set(published.map(schema));
    expect(publishedSchemas.size).toBeGreaterThan(5);
    for (const metric of read)
      expect(publishedSchemas, `${JSON.stringify(metric)} is never published`).toContain(
        schema(metric),
      );
    // The refusals the source alarms read, by value: CloudWatch keys on each.
    for (const reason of [REJECTION_REASONS.signatureMismatch, REJECTION_REASONS.notConfigured]) {
      const series = { service: 'spine', source: 'stripe', reason };
      expect(published).toContainEqual({ name: 'rejected', dimensions: series });
      expect(read).toContainEqual({ name: 'rejected', dimensions: series });
    }
    // And the values line up where the run produced them: a flow's applied count per contract.
    expect(published).toContainEqual({
      name: 'applied',
      dimensions: { service: 'spine', flow: 'payments', contract: 'stripe.payment-intent' },
    });
    expect(read).toContainEqual({
      name: 'applied',
      dimensions: { service: 'spine', flow: 'payments', contract: 'stripe.payment-intent' },
    });
  });
});

describe('a source with no signing secret stored, through the gateway', () => {
  it('answers 503 with Retry-After and a body that names nothing', async () => {
    expect(notConfigured.status).toBe(503);
    expect(notConfigured.headers.get('retry-after')).toBe(
      String(NOT_CONFIGURED_RETRY_AFTER_SECONDS),
    );
    expect(await notConfigured.json()).toEqual({
      error: 'unavailable',
      detail: 'this webhook URL is not taking deliveries yet; retry later',
    });
  });
});
