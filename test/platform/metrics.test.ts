import { afterEach, describe, expect, it, vi } from 'vitest';

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  vi.resetModules();
});

type Emf = Record<string, unknown> & {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: string }[];
    }[];
  };
};

/** The module fresh, with what it writes to stdout (EMF lines) and stderr (Powertools' warnings). */
async function powertools() {
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
  const stdout: string[] = [];
  const stderr: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout.push(String(chunk));
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr.push(String(chunk));
    return true;
  });
  const module = await import('../../functions/platform/powertools.ts');
  /** The lines written since the last call. */
  const lines = () => stdout.splice(0).map((l) => JSON.parse(l) as Emf);
  return { ...module, lines, stderr };
}

const payments = { flow: 'payments', contract: 'stripe.customer' };
const lock = { flow: 'orders', contract: 'shopify.order', class: 'odoo-lock' };

describe('publishMetric and flushMetrics', () => {
  it('write nothing until the flush, then one line per dimension set, carrying each metric', async () => {
    const { publishMetric, flushMetrics, lines } = await powertools();
    publishMetric('applied', payments);
    publishMetric('failed', lock);
    publishMetric('applied', payments, undefined, 3);
    expect(lines()).toEqual([]);

    flushMetrics();
    const written = lines();
    expect(written).toHaveLength(2);
    expect(written.map((l) => l._aws.CloudWatchMetrics[0]?.Dimensions)).toEqual([
      [['service', 'flow', 'contract']],
      [['service', 'flow', 'contract', 'class']],
    ]);
    expect(written[0]).toMatchObject({ service: 'spine', ...payments, applied: [1, 3] });
    expect(written[0]).not.toHaveProperty('class');
    expect(written[0]).not.toHaveProperty('failed');
    expect(written[1]).toMatchObject({ service: 'spine', ...lock, failed: 1 });
    expect(written[1]).not.toHaveProperty('applied');
  });

  it('keeps every latency value, for percentiles, beside the counts of the same set', async () => {
    const { publishMetric, flushMetrics, lines } = await powertools();
    for (const ms of [12.5, 40, 7]) publishMetric('odoo-latency', payments, 'Milliseconds', ms);
    publishMetric('applied', payments);
    flushMetrics();
    const written = lines();
    expect(written).toHaveLength(1);
    expect(written[0]).toMatchObject({ 'odoo-latency': [12.5, 40, 7], applied: 1 });
  });

  it('writes valid EMF: each metric named with its unit, the dimensions present', async () => {
    const { publishMetric, flushMetrics, lines } = await powertools();
    publishMetric('applied', payments);
    publishMetric('odoo-latency', payments, 'Milliseconds', 20);
    publishMetric('odoo-latency', payments, 'Milliseconds', 30);
    flushMetrics();
    const [line] = lines();
    const directive = line?._aws.CloudWatchMetrics[0];
    expect(line?._aws.CloudWatchMetrics).toHaveLength(1);
    expect(typeof line?._aws.Timestamp).toBe('number');
    expect(directive?.Namespace).toBe('Spine');
    expect(directive?.Metrics).toEqual([
      { Name: 'applied', Unit: 'Count' },
      { Name: 'odoo-latency', Unit: 'Milliseconds' },
    ]);
    // Every dimension and every metric named in the directive is a member of the line.
    expect(directive?.Dimensions).toEqual([['service', 'flow', 'contract']]);
    for (const name of directive?.Dimensions[0] ?? []) expect(typeof line?.[name]).toBe('string');
    expect(line).toMatchObject({ service: 'spine', ...payments });
    expect(line).toMatchObject({ applied: 1, 'odoo-latency': [20, 30] });
  });

  it('writes nothing, and warns of nothing, on a flush with nothing stored', async () => {
    const { publishMetric, flushMetrics, lines, stderr } = await powertools();
    flushMetrics();
    publishMetric('applied', payments);
    publishMetric('failed', lock);
    flushMetrics();
    expect(lines()).toHaveLength(2);
    flushMetrics();
    expect(lines()).toEqual([]);
    expect(stderr).toEqual([]);
  });

  it('drops nothing past the 100 values a metric may hold in one line', async () => {
    const { publishMetric, flushMetrics, lines } = await powertools();
    const values = Array.from({ length: 250 }, (_, i) => i);
    for (const ms of values) publishMetric('odoo-latency', payments, 'Milliseconds', ms);
    flushMetrics();
    const written = lines().map((l) => l['odoo-latency'] as number[]);
    expect(written.map((v) => v.length)).toEqual([100, 100, 50]);
    expect(written.flat()).toEqual(values);
  });

  it('drops nothing past the 100 metrics one line may hold', async () => {
    const { publishMetric, flushMetrics, lines } = await powertools();
    const names = Array.from({ length: 150 }, (_, i) => `metric-${i}`);
    for (const name of names) publishMetric(name, payments);
    flushMetrics();
    const written = lines();
    expect(written.map((l) => l._aws.CloudWatchMetrics[0]?.Metrics.length)).toEqual([100, 50]);
    expect(written.flatMap((l) => names.filter((n) => l[n] === 1))).toEqual(names);
  });

  it('drops nothing when more dimension sets come than it keeps', async () => {
    const { publishMetric, flushMetrics, lines } = await powertools();
    for (let i = 0; i < 501; i++) publishMetric('applied', { flow: `flow-${i}` });
    flushMetrics();
    expect(new Set(lines().map((l) => l.flow)).size).toBe(501);
  });
});
