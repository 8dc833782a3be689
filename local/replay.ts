/**
 * Runs the replay state machine locally: the same ASL definition the CDK stack deploys,
 * executed by aws-local-stepfunctions, its task states running the replay handler in-process.
 */
import type { ReplayOutcome } from '../functions/replay/replay.ts';
import { type ReplayFlowQueues, replayDefinition } from '../infra/replay/definition.ts';

export interface ReplayProgress {
  readonly turn: number;
  readonly totals: { readonly replayed: number; readonly skipped: number; readonly parked: number };
}

export type { ReplayOutcome as ReplayResult } from '../functions/replay/replay.ts';

// aws-local-stepfunctions needs Promise.withResolvers, which Node 20 lacks (Lambda's Node 22 has it).
function polyfillWithResolvers(): void {
  const promise = Promise as unknown as { withResolvers?: unknown };
  if (promise.withResolvers) return;
  promise.withResolvers = <T>() => {
    let resolve!: (value: T | PromiseLike<T>) => void;
    let reject!: (reason?: unknown) => void;
    const created = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise: created, resolve, reject };
  };
}

export async function runReplayLocally(options: {
  readonly flows: readonly ReplayFlowQueues[];
  readonly input: Record<string, unknown>;
  readonly onProgress?: (progress: ReplayProgress) => void;
  /** An ASL definition to run instead, such as the one a synthesised template holds. */
  readonly definition?: Record<string, unknown>;
}): Promise<ReplayOutcome> {
  polyfillWithResolvers();
  const { StateMachine } = await import('aws-local-stepfunctions');
  const { handler } = await import('../functions/handlers/replay.ts');
  const definition =
    options.definition ??
    replayDefinition({
      functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:spine-local-replay',
      flows: options.flows,
    });
  const machine = new StateMachine(definition as never, { validationOptions: { checkArn: true } });
  let turn = 0;
  const execution = machine.run(options.input as never, {
    overrides: {
      taskResourceLocalHandlers: {
        // The task's Parameters already made the handler's event: {action, state}.
        ReplayTurn: async (input) => {
          const state = await handler(input as never);
          options.onProgress?.({
            turn: ++turn,
            totals: (state as { totals: ReplayProgress['totals'] }).totals,
          });
          return state as never;
        },
        Finish: async (input) => (await handler(input as never)) as never,
        RevealAfterFailure: async (input) => (await handler(input as never)) as never,
      },
    },
  });
  return (await execution.result) as unknown as ReplayOutcome;
}
