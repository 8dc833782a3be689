/**
 * The local runtime's services (SQS, Secrets Manager, dynalite, the Odoo emulator) in a thread of
 * their own, for benchmarks of the handlers: in AWS these are other machines, so their CPU is not
 * the handler's. The thread posts the endpoints and the environment the handlers need, then
 * answers ORM calls on the emulated Odoo (setting up and checking a run).
 */
import { parentPort } from 'node:worker_threads';
import type { FaultPlan } from '../local/odoo/faults.ts';
import { startTestRuntime } from '../test/support/local-runtime.ts';

interface ServicesRequest {
  readonly id: number;
  readonly orm?: unknown[];
  readonly faults?: FaultPlan;
  readonly stop?: boolean;
}

if (!parentPort) throw new Error('bench/services-thread.ts runs as a worker thread');
const port = parentPort;

const before = new Set(Object.keys(process.env));
const runtime = await startTestRuntime({
  pollers: false,
  // The gateway is not used: the benchmarks call the handlers in their own thread.
  handlers: async () => ({
    receiver: (async () => ({ statusCode: 503, body: '' })) as never,
    worker: async () => ({ batchItemFailures: [] }),
    rotation: async () => undefined,
  }),
});
const env = Object.fromEntries(
  Object.entries(process.env).filter(
    ([name]) => !before.has(name) || name.startsWith('SPINE_') || name.startsWith('AWS_'),
  ),
);

port.on('message', async (message: ServicesRequest) => {
  if (message.stop) {
    await runtime.dispose();
    port.postMessage({ id: message.id, result: null });
    port.close();
    return;
  }
  if (message.faults) {
    runtime.odooEmulator?.faults.set(message.faults);
    port.postMessage({ id: message.id, result: null });
    return;
  }
  try {
    const [uid, model, method, args, kwargs] = message.orm as [
      number,
      string,
      string,
      unknown[],
      Record<string, unknown>,
    ];
    const result = runtime.odooEmulator?.orm.call(uid, model, method, args, kwargs);
    port.postMessage({ id: message.id, result });
  } catch (error) {
    port.postMessage({ id: message.id, error: (error as Error).message });
  }
});

port.postMessage({
  ready: {
    env,
    sqsUrl: runtime.sqsUrl,
    flows: runtime.flows,
    webhookSecrets: runtime.webhookSecrets,
  },
});
