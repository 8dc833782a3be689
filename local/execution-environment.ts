/**
 * Lambda execution environments, locally. Lambda does not let an invocation run past its
 * timeout: it stops the environment, cutting its sockets (a request already sent may still
 * be processed by the server), and the next invocation starts cold in a fresh one. A handler
 * raced against a timer in this process would run on and write after its own retry (issue
 * 12), so a handler named by its module runs in a worker thread of its own, which is
 * terminated at the timeout and replaced by a fresh thread for the next invocation.
 */
import { randomUUID } from 'node:crypto';
import { parentPort, Worker, workerData } from 'node:worker_threads';
import type { Context } from 'aws-lambda';
import { lambdaContext } from './lambda-context.ts';

export type InProcessHandler<E, R> = (event: E, context: Context) => Promise<R>;

/** A handler named by its module, so that the runtime can load it into an environment it can stop. */
export interface HandlerModule {
  /** URL of the module, as `import()` takes it. */
  readonly module: string;
  readonly exportName: string;
}

export function handlerModule(module: URL | string, exportName = 'handler'): HandlerModule {
  return { module: module.toString(), exportName };
}

export function isHandlerModule(handler: unknown): handler is HandlerModule {
  return typeof handler === 'object' && handler !== null && 'module' in handler;
}

/** The invocation ran out of time; `stopped` says whether its code was stopped with it. */
export class InvocationTimedOut extends Error {
  override readonly name = 'InvocationTimedOut';
  constructor(
    readonly timeoutMs: number,
    readonly stopped: boolean,
  ) {
    // Lambda's own words, so the log lines read as they would in CloudWatch.
    super(`Task timed out after ${timeoutMs / 1000} seconds`);
  }
}

export interface ExecutionEnvironment<E, R> {
  /** One invocation; rejects with InvocationTimedOut once it has run for `timeoutMs`. */
  invoke(event: E, functionName: string, timeoutMs: number): Promise<R>;
  /** Stops the environment; an invocation still running is cut off. */
  dispose(): Promise<void>;
}

/**
 * A plain function run in this process, for tests and benchmarks that hand one over. Past its
 * timeout the invocation fails, but its code cannot be stopped and runs on.
 */
export function inProcessEnvironment<E, R>(
  handler: InProcessHandler<E, R>,
): ExecutionEnvironment<E, R> {
  return {
    async invoke(event, functionName, timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      try {
        return await Promise.race([
          handler(event, lambdaContext(functionName, timeoutMs)),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new InvocationTimedOut(timeoutMs, false)), timeoutMs);
          }),
        ]);
      } finally {
        clearTimeout(timer);
      }
    },
    dispose: async () => {},
  };
}

// Lambda gives a cold start 10 s of its own, then retries it within the invocation's timeout.
const INIT_GRACE_MS = 10_000;

/**
 * A handler module run in a worker thread, warm from one invocation to the next, terminated at
 * a timeout (or when it crashed) and started afresh, with the environment variables of this
 * process at that moment, on the next invocation.
 */
export function threadEnvironment<E, R>(handler: HandlerModule): ExecutionEnvironment<E, R> {
  let current: EnvironmentThread | undefined;
  const discard = async (thread: EnvironmentThread) => {
    if (current === thread) current = undefined;
    await thread.terminate();
  };
  return {
    async invoke(event, functionName, timeoutMs) {
      // A thread that died between invocations (its own background work crashed it) is replaced.
      const thread = current && !current.crashed ? current : new EnvironmentThread(handler);
      current = thread;
      let timer: NodeJS.Timeout | undefined;
      const outOfTime = (ms: number, error: () => Error) =>
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(error()), ms);
        });
      try {
        await Promise.race([
          thread.ready,
          outOfTime(INIT_GRACE_MS + timeoutMs, () => new InvocationTimedOut(timeoutMs, true)),
        ]);
        clearTimeout(timer);
        // The clock starts once the module is loaded, as Lambda's does after its init phase.
        const deadline = Date.now() + timeoutMs;
        return (await Promise.race([
          thread.invoke({ event, functionName, timeoutMs, deadline }),
          outOfTime(timeoutMs, () => new InvocationTimedOut(timeoutMs, true)),
        ])) as R;
      } catch (error) {
        // Timed out or crashed: no more code of this invocation runs, the next one starts cold.
        if (error instanceof InvocationTimedOut || thread.crashed) await discard(thread);
        throw error;
      } finally {
        clearTimeout(timer);
      }
    },
    async dispose() {
      if (current) await discard(current);
    },
  };
}

interface Invocation {
  readonly event: unknown;
  readonly functionName: string;
  readonly timeoutMs: number;
  readonly deadline: number;
}

type ThreadMessage =
  | { kind: 'ready' }
  | { kind: 'init-error'; error: SerialisedError }
  | { kind: 'result'; id: string; result: unknown }
  | { kind: 'error'; id: string; error: SerialisedError };

interface SerialisedError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
}

const serialise = (error: unknown): SerialisedError =>
  error instanceof Error
    ? { name: error.name, message: error.message, ...(error.stack ? { stack: error.stack } : {}) }
    : { name: 'Error', message: String(error) };

function revive(error: SerialisedError): Error {
  const revived = new Error(error.message);
  revived.name = error.name;
  if (error.stack) revived.stack = error.stack;
  return revived;
}

class EnvironmentThread {
  readonly ready: Promise<void>;
  crashed = false;
  private readonly worker: Worker;
  private readonly pending = new Map<
    string,
    { resolve: (value: unknown) => void; reject: (error: Error) => void }
  >();

  constructor(handler: HandlerModule) {
    // Module hooks do not reach worker threads: the thread registers tsx itself (a bundle
    // loads as well with it), then serves invocations from this module.
    const tsx = import.meta.resolve('tsx/esm/api');
    const entry = import.meta.url;
    this.worker = new Worker(
      `import(${JSON.stringify(tsx)})
        .then(({ register }) => { register(); return import(${JSON.stringify(entry)}); })
        .then(({ serveInvocations }) => serveInvocations());`,
      { eval: true, workerData: handler },
    );
    // An idle environment does not keep the process alive.
    this.worker.unref();
    let initialised: () => void = () => {};
    let initFailed: (error: Error) => void = () => {};
    this.ready = new Promise<void>((resolve, reject) => {
      initialised = resolve;
      initFailed = reject;
    });
    // Read only through invoke(), which awaits it; a rejection nobody awaited is not a crash.
    this.ready.catch(() => undefined);
    const crash = (error: Error) => {
      this.crashed = true;
      initFailed(error);
      for (const { reject } of this.pending.values()) reject(error);
      this.pending.clear();
    };
    this.worker.on('message', (message: ThreadMessage) => {
      if (message.kind === 'ready') initialised();
      else if (message.kind === 'init-error') crash(revive(message.error));
      else {
        const waiting = this.pending.get(message.id);
        this.pending.delete(message.id);
        if (message.kind === 'result') waiting?.resolve(message.result);
        else waiting?.reject(revive(message.error));
      }
    });
    this.worker.on('error', crash);
    this.worker.on('exit', (code) =>
      crash(new Error(`the execution environment exited with code ${code}`)),
    );
  }

  invoke(invocation: Invocation): Promise<unknown> {
    const id = randomUUID();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, ...invocation });
    });
  }

  async terminate(): Promise<void> {
    this.crashed = true;
    await this.worker.terminate();
  }
}

/** The thread's side: loads the handler module named in workerData and runs invocations. */
export async function serveInvocations(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('serveInvocations runs in an execution environment thread');
  const { module, exportName } = workerData as HandlerModule;
  let handler: InProcessHandler<unknown, unknown>;
  try {
    handler = (await import(module))[exportName];
    if (typeof handler !== 'function')
      throw new Error(`${module} exports no function named ${exportName}`);
  } catch (error) {
    port.postMessage({ kind: 'init-error', error: serialise(error) } satisfies ThreadMessage);
    return;
  }
  port.on('message', async ({ id, ...invocation }: Invocation & { id: string }) => {
    const context = lambdaContext(invocation.functionName, invocation.timeoutMs, {
      deadline: invocation.deadline,
      awsRequestId: id,
    });
    let answer: ThreadMessage;
    try {
      answer = { kind: 'result', id, result: await handler(invocation.event, context) };
    } catch (error) {
      answer = { kind: 'error', id, error: serialise(error) };
    }
    try {
      port.postMessage(answer);
    } catch (error) {
      // An answer that cannot be cloned fails the invocation, as an unserialisable one does in Lambda.
      port.postMessage({ kind: 'error', id, error: serialise(error) } satisfies ThreadMessage);
    }
  });
  port.postMessage({ kind: 'ready' } satisfies ThreadMessage);
}
