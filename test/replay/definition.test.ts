/**
 * The replay definition's control flow, run with aws-local-stepfunctions and stand-in task
 * handlers: what happens around the turns, not inside them (test/replay covers those).
 */
import { describe, expect, it } from 'vitest';
import { replayDefinition } from '../../infra/replay/definition.ts';

// aws-local-stepfunctions needs Promise.withResolvers, which Node 20 lacks.
const promise = Promise as unknown as { withResolvers?: unknown };
promise.withResolvers ??= () => {
  let resolve: unknown;
  let reject: unknown;
  const created = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise: created, resolve, reject };
};

const definition = replayDefinition({
  functionArn: 'arn:aws:lambda:eu-west-1:111111111111:function:spine-test-replay',
  flows: [
    {
      name: 'payments',
      queueUrl: 'http://sqs/payments',
      deadLetterQueueUrl: 'http://sqs/payments-dlq',
      parkingQueueUrl: 'http://sqs/payments-parking',
      fifo: false,
    },
  ],
});

describe('the replay definition', () => {
  it('makes the dead letters a run kept out of sight visible again when a turn fails, then fails', async () => {
    const { StateMachine } = await import('aws-local-stepfunctions');
    const machine = new StateMachine(definition as never);
    const finished: unknown[] = [];
    let turns = 0;
    const execution = machine.run({ flow: 'payments' } as never, {
      overrides: {
        taskResourceLocalHandlers: {
          ReplayTurn: (input) => {
            const { state } = input as { state: Record<string, unknown> };
            if (++turns > 1) throw new Error('SQS is unreachable');
            return {
              ...state,
              hidden: ['receipt-1', 'receipt-2'],
              done: false,
              waitSeconds: 0,
            } as never;
          },
          Finish: (input) => {
            finished.push(input);
            return {} as never;
          },
          RevealAfterFailure: (input) => {
            finished.push(input);
            return {} as never;
          },
        },
        retryIntervalOverrides: { ReplayTurn: 0 },
      },
    });
    await expect(execution.result).rejects.toThrow();
    expect(finished).toEqual([
      expect.objectContaining({
        action: 'finish',
        state: expect.objectContaining({ hidden: ['receipt-1', 'receipt-2'] }),
      }),
    ]);
  });
});
