/**
 * Each Lambda as deployed: the minified bundle's size and its cold init (median time to import
 * the bundle in a fresh Node process), beside a bare handler that only sends to SQS, bundled
 * the same way in the same run. The bundling options are the stack's own (SPINE_BUNDLING).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bundleHandler } from '../infra/bundle-handler.ts';
import type { Benchmark, Measurement } from './harness.ts';

const HANDLERS = ['receiver', 'worker', 'replay', 'rotate-credentials', 'reconcile'];
const COLD_STARTS = 9;

const BARE_HANDLER = `
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
const sqs = new SQSClient({});
export const handler = async (event) => {
  await sqs.send(new SendMessageCommand({ QueueUrl: process.env.QUEUE_URL, MessageBody: JSON.stringify(event) }));
  return { statusCode: 202 };
};
`;

/** What a Lambda's environment holds at init (the handlers read configuration lazily). */
const LAMBDA_ENV = {
  AWS_REGION: 'eu-west-1',
  AWS_LAMBDA_FUNCTION_NAME: 'bench',
  POWERTOOLS_SERVICE_NAME: 'spine',
  POWERTOOLS_METRICS_NAMESPACE: 'Spine',
  SPINE_STAGE: 'bench',
  SPINE_FLOWS: '{}',
};

/**
 * Median milliseconds to import the bundle, and the process's resident memory then (what
 * Lambda reports as memory used before the first event), each time in a new Node process.
 */
function coldInit(file: string): { ms: number; rssBytes: number } {
  const script = `const s = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); process.stdout.write(JSON.stringify({ ms: performance.now() - s, rss: process.memoryUsage().rss }));`;
  const runs: { ms: number; rss: number }[] = [];
  for (let i = 0; i < COLD_STARTS; i++) {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, ...LAMBDA_ENV },
      encoding: 'utf8',
    });
    runs.push(JSON.parse(out) as { ms: number; rss: number });
  }
  const median = (values: number[]) =>
    values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
  return { ms: median(runs.map((r) => r.ms)), rssBytes: median(runs.map((r) => r.rss)) };
}

/** Every file of a bundle's folder: what the function's asset ships (source maps included). */
const shippedBytes = (file: string) =>
  readdirSync(dirname(file)).reduce(
    (sum, name) => sum + statSync(join(dirname(file), name)).size,
    0,
  );

export const lambdaBundlesBenchmark: Benchmark = {
  name: 'Lambda bundles: size and cold init',
  async run() {
    const dir = mkdtempSync(join(tmpdir(), 'spine-bundles-'));
    try {
      const bare = await bundleHandler({ source: BARE_HANDLER }, dir, 'bare');
      const bareBytes = statSync(bare).size;
      const bareInit = coldInit(bare);
      const bareShipped = shippedBytes(bare);
      const results: Measurement[] = [];
      for (const name of HANDLERS) {
        const file = await bundleHandler({ handlerFile: `${name}.ts` }, dir, name);
        const bytes = statSync(file).size;
        const init = coldInit(file);
        results.push(
          {
            metric: 'bundle size (minified)',
            case: name,
            value: Math.round(bytes / 1024),
            baseline: Math.round(bareBytes / 1024),
            baselineLabel: 'bare SQS handler',
            unit: 'KiB',
          },
          {
            metric: 'asset shipped (bundle and any source map)',
            case: name,
            value: Math.round(shippedBytes(file) / 1024),
            baseline: Math.round(bareShipped / 1024),
            baselineLabel: 'bare SQS handler',
            unit: 'KiB',
          },
          {
            metric: 'cold init (import, median)',
            case: name,
            value: init.ms,
            baseline: bareInit.ms,
            baselineLabel: 'bare SQS handler',
            unit: 'ms',
          },
          {
            metric: 'resident memory after init (median)',
            case: name,
            value: Math.round(init.rssBytes / 2 ** 20),
            baseline: Math.round(bareInit.rssBytes / 2 ** 20),
            baselineLabel: 'bare SQS handler',
            unit: 'MiB',
          },
        );
      }
      return results;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
