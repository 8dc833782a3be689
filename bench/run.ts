/**
 * `npm run bench`: runs every benchmark, prints each measurement beside its same-run baseline,
 * and writes bench/results/latest.json. `npm run bench -- odoo` runs the ones whose name matches.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { costBenchmark } from './cost.bench.ts';
import { enrichmentBenchmark } from './enrichment.bench.ts';
import { type Benchmark, formatTable, type Measurement } from './harness.ts';
import { lambdaBundlesBenchmark } from './lambda-bundles.bench.ts';
import { localSqsBenchmark } from './local-sqs.bench.ts';
import { odooDrainBenchmark } from './odoo-drain.bench.ts';
import { odooUpsertBenchmark } from './odoo-upsert.bench.ts';
import { pipelineBenchmark } from './pipeline.bench.ts';

const BENCHMARKS: Benchmark[] = [
  odooUpsertBenchmark,
  localSqsBenchmark,
  pipelineBenchmark,
  odooDrainBenchmark,
  lambdaBundlesBenchmark,
  costBenchmark,
  enrichmentBenchmark,
];

const filter = process.argv.slice(2).join(' ').toLowerCase();
const selected = BENCHMARKS.filter((b) => !filter || b.name.toLowerCase().includes(filter));
const report: {
  machine: Record<string, unknown>;
  at: string;
  benchmarks: { name: string; results: Measurement[] }[];
} = {
  machine: {
    node: process.version,
    cpus: cpus().length,
    cpu: cpus()[0]?.model,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
  },
  at: new Date().toISOString(),
  benchmarks: [],
};

let missed = 0;
for (const benchmark of selected) {
  process.stdout.write(`running ${benchmark.name} …\n`);
  const results = await benchmark.run();
  report.benchmarks.push({ name: benchmark.name, results });
  process.stdout.write(`${formatTable(benchmark.name, results)}\n`);
  missed += results.filter((r) => r.met === false).length;
}

mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
const latest = new URL('./results/latest.json', import.meta.url);
// A filtered run replaces its own benchmarks and keeps the others' last results.
if (filter && existsSync(latest)) {
  const previous = JSON.parse(readFileSync(latest, 'utf8')) as typeof report;
  const ran = new Set(report.benchmarks.map((b) => b.name));
  report.benchmarks = [
    ...previous.benchmarks.filter((b) => !ran.has(b.name)),
    ...report.benchmarks,
  ];
}
writeFileSync(latest, `${JSON.stringify(report, null, 2)}\n`);
process.stdout.write(
  `\n${selected.length} benchmarks; ${missed === 0 ? 'every target met' : `${missed} targets missed`}; results in bench/results/latest.json\n`,
);
