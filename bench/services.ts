/** Starts bench/services-thread.ts and talks to it: endpoints, environment, ORM calls, stop. */
import { Worker } from 'node:worker_threads';
import type { FaultPlan } from '../local/odoo/faults.ts';
import type { FlowEndpoints } from '../local/runtime.ts';

export interface ServicesThread {
  readonly sqsUrl: string;
  readonly flows: readonly FlowEndpoints[];
  readonly webhookSecrets: Readonly<Record<string, string>>;
  /** An ORM call on the emulated Odoo, as user `uid`. */
  orm(
    uid: number,
    model: string,
    method: string,
    args: unknown[],
    kwargs?: object,
  ): Promise<unknown>;
  /** Sets the emulated Odoo's fault plan (latency, failures); `{}` clears it. */
  odooFaults(plan: FaultPlan): Promise<unknown>;
  stop(): Promise<void>;
}

/** Starts the services and points this thread's handlers (process.env) at them. */
export async function startServicesThread(): Promise<ServicesThread> {
  // Module hooks do not reach worker threads: the thread registers tsx itself, then loads the
  // TypeScript entry.
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./services-thread.ts', import.meta.url).href;
  const thread = new Worker(
    `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}); });`,
    { eval: true },
  );
  const calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let next = 0;
  const call = (message: object) =>
    new Promise<unknown>((resolve, reject) => {
      const id = next++;
      calls.set(id, { resolve, reject });
      thread.postMessage({ id, ...message });
    });
  const ready = await new Promise<{
    env: Record<string, string>;
    sqsUrl: string;
    flows: FlowEndpoints[];
    webhookSecrets: Record<string, string>;
  }>((resolve, reject) => {
    thread.once('error', reject);
    thread.on(
      'message',
      (message: { ready?: never; id?: number; result?: unknown; error?: string }) => {
        if (message.ready) return resolve(message.ready);
        const pending = calls.get(message.id as number);
        calls.delete(message.id as number);
        if (message.error) pending?.reject(new Error(message.error));
        else pending?.resolve(message.result);
      },
    );
  });
  Object.assign(process.env, ready.env);
  return {
    sqsUrl: ready.sqsUrl,
    flows: ready.flows,
    webhookSecrets: ready.webhookSecrets,
    orm: (uid, model, method, args, kwargs = {}) =>
      call({ orm: [uid, model, method, args, kwargs] }),
    odooFaults: (plan) => call({ faults: plan }),
    stop: async () => {
      await call({ stop: true });
      await thread.terminate();
    },
  };
}
