import { pipelineBenchmark } from './tmp-worker.bench.ts';

const r = await pipelineBenchmark.run();
console.log(
  r
    .filter((m) => m.metric.startsWith('worker'))
    .map((m) => `${m.metric} ${m.value}`)
    .join('\n'),
);
