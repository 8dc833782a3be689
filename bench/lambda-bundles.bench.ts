/**
 * Each Lambda as deployed: the minified bundle's size and its cold init (median time to import
 * the bundle in a fresh Node process), beside a bare handler that only sends to SQS, bundled
 * the same way in the same run. The bundling options are the stack's own (SPINE_BUNDLING).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

/** Median milliseconds to import the bundle, each time in a new Node process. */
function coldInit(file: string): number {
  const script = `const s = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); process.stdout.write(String(performance.now() - s));`;
  const times: number[] = [];
  for (let i = 0; i < COLD_STARTS; i++) {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, ...LAMBDA_ENV },
      encoding: 'utf8',
    });
    times.push(Number(out));
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? Number.NaN;
}

export const lambdaBundlesBenchmark: Benchmark = {
  name: 'Lambda bundles: size and cold init',
  async run() {
    const dir = mkdtempSync(join(tmpdir(), 'spine-bundles-'));
    try {
      const bare = await bundleHandler({ source: BARE_HANDLER }, dir, 'bare');
      const bareBytes = statSync(bare).size;
      const bareInit = coldInit(bare);
      const results: Measurement[] = [];
      for (const name of HANDLERS) {
        const file = await bundleHandler({ handlerFile: `${name}.ts` }, dir, name);
        const bytes = statSync(file).size;
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
            metric: 'cold init (import, median)',
            case: name,
            value: coldInit(file),
            baseline: bareInit,
            baselineLabel: 'bare SQS handler',
            unit: 'ms',
          },
        );
      }
      return results;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
