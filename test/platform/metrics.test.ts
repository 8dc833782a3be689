import { afterEach, describe, expect, it, vi } from 'vitest';

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  vi.resetModules();
});

async function published(
  run: (m: typeof import('../../functions/platform/powertools.ts')) => void,
) {
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
  const lines: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    lines.push(String(chunk));
    return true;
  });
  run(await import('../../functions/platform/powertools.ts'));
  return lines.map(
    (l) =>
      JSON.parse(l) as Record<string, unknown> & {
        _aws: { CloudWatchMetrics: { Dimensions: string[][] }[] };
      },
  );
}

describe('publishMetric', () => {
  it('publishes each metric with its own dimensions, however often a dimension set is reused', async () => {
    const lines = await published(({ publishMetric }) => {
      publishMetric('applied', { flow: 'payments', contract: 'stripe.customer' });
      publishMetric('failed', { flow: 'orders', contract: 'shopify.order', class: 'odoo-lock' });
      publishMetric('applied', { flow: 'payments', contract: 'stripe.customer' }, undefined, 3);
    });
    expect(lines).toHaveLength(3);
    expect(lines.map((l) => l._aws.CloudWatchMetrics[0]?.Dimensions)).toEqual([
      [['service', 'flow', 'contract']],
      [['service', 'flow', 'contract', 'class']],
      [['service', 'flow', 'contract']],
    ]);
    expect(lines[2]).toMatchObject({ service: 'spine', flow: 'payments', applied: 3 });
    expect(lines[2]).not.toHaveProperty('class');
  });

  it('writes the same line as a Powertools single metric', async () => {
    const lines = await published(({ metrics, publishMetric }) => {
      const single = metrics.singleMetric();
      single.addDimension('flow', 'payments');
      single.addMetric('duplicates-suppressed', 'Count', 1);
      publishMetric('duplicates-suppressed', { flow: 'payments' });
    });
    const { _aws: a, ...first } = lines[0] as Record<string, unknown>;
    const { _aws: b, ...second } = lines[1] as Record<string, unknown>;
    expect(second).toEqual(first);
    expect((b as { CloudWatchMetrics: unknown }).CloudWatchMetrics).toEqual(
      (a as { CloudWatchMetrics: unknown }).CloudWatchMetrics,
    );
  });
});
