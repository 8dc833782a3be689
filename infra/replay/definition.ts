/**
 * The replay state machine in the Amazon States Language. The CDK stack deploys it; the local
 * runtime runs this same definition with aws-local-stepfunctions. Start it with
 * {"flow": "payments"}; everything else has a default: max 1000, maxReplays 3, no filter,
 * dryRun false, ratePerSecond 0 (as fast as the flow takes them).
 */

export interface ReplayFlowQueues {
  readonly name: string;
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly parkingQueueUrl: string;
  readonly fifo: boolean;
}

export interface ReplayDefaults {
  readonly max: number;
  readonly maxReplays: number;
  readonly dryRun: boolean;
  readonly ratePerSecond: number;
  readonly filter: Record<string, never>;
}

export const REPLAY_DEFAULTS: ReplayDefaults = {
  max: 1000,
  maxReplays: 3,
  dryRun: false,
  ratePerSecond: 0,
  filter: {},
};

/** The state names the local runner overrides with the replay handler. */
export const REPLAY_TASK_STATES = ['ReplayTurn', 'Finish', 'RevealAfterFailure'] as const;

export function replayDefinition(options: {
  readonly functionArn: string;
  readonly flows: readonly ReplayFlowQueues[];
  /** What a start without those fields gets (an environment's replay limits). @default REPLAY_DEFAULTS */
  readonly defaults?: Partial<Pick<ReplayDefaults, 'max' | 'maxReplays' | 'ratePerSecond'>>;
}): Record<string, unknown> {
  const flowStates: Record<string, unknown> = {};
  for (const flow of options.flows) {
    flowStates[`Queues_${flow.name}`] = {
      Type: 'Pass',
      Result: {
        queueUrl: flow.queueUrl,
        deadLetterQueueUrl: flow.deadLetterQueueUrl,
        parkingQueueUrl: flow.parkingQueueUrl,
        fifo: flow.fifo,
      },
      ResultPath: '$.queues',
      Next: 'ReplayTurn',
    };
  }
  const task = (action: string, next: Record<string, unknown>, onFailure = 'ReplayFailed') => ({
    Type: 'Task',
    Resource: options.functionArn,
    // The whole state: its optional fields (why a run stopped early) reach Finish as they are.
    Parameters: { action, 'state.$': '$' },
    Retry: [
      // Input the run cannot act on fails at once: retrying the same input changes nothing.
      { ErrorEquals: ['ReplayInputError'], MaxAttempts: 0 },
      {
        ErrorEquals: [
          'States.TaskFailed',
          'Lambda.ServiceException',
          'Lambda.TooManyRequestsException',
        ],
        IntervalSeconds: 2,
        MaxAttempts: 3,
        BackoffRate: 2,
      },
    ],
    Catch: [
      { ErrorEquals: ['ReplayInputError'], ResultPath: '$.error', Next: 'BadInput' },
      { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: onFailure },
    ],
    ...next,
  });
  return {
    Comment:
      'Replays a flow dead-letter queue into the flow queue: filter, cap, rate, dry run; parks events past the maximum replays.',
    StartAt: 'Input',
    States: {
      Input: { Type: 'Pass', Parameters: { 'input.$': '$' }, Next: 'Defaults' },
      // A copy: a definition must never share objects with this module (runners may mutate them).
      Defaults: {
        Type: 'Pass',
        Result: structuredClone({ ...REPLAY_DEFAULTS, ...options.defaults }),
        ResultPath: '$.defaults',
        Next: 'Config',
      },
      Config: {
        Type: 'Pass',
        // What the execution was started with wins over the defaults, key by key.
        Parameters: {
          'config.$': 'States.JsonMerge($.defaults, $.input, false)',
          totals: { replayed: 0, skipped: 0, parked: 0 },
          // Dead letters sent after this are not the run's to replay (its own failed replays among them).
          'startedAt.$': '$$.Execution.StartTime',
          hidden: [],
        },
        Next: 'ChooseFlow',
      },
      ChooseFlow: {
        Type: 'Choice',
        Choices: [
          // Without these a start with {} fails on a path error instead of naming the flows.
          // (Not IsPresent rather than IsPresent false: aws-local-stepfunctions never matches the latter.)
          { Not: { Variable: '$.config.flow', IsPresent: true }, Next: 'UnknownFlow' },
          { Not: { Variable: '$.config.flow', IsString: true }, Next: 'UnknownFlow' },
          ...options.flows.map((flow) => ({
            Variable: '$.config.flow',
            StringEquals: flow.name,
            Next: `Queues_${flow.name}`,
          })),
        ],
        Default: 'UnknownFlow',
      },
      ...flowStates,
      // A failed turn still makes the dead letters it kept out of sight visible again at once,
      // rather than after their visibility timeout, before the execution fails.
      ReplayTurn: task('turn', { Next: 'MoreToDo' }, 'RevealAfterFailure'),
      MoreToDo: {
        Type: 'Choice',
        Choices: [{ Variable: '$.done', BooleanEquals: true, Next: 'Finish' }],
        Default: 'Pace',
      },
      Pace: { Type: 'Wait', SecondsPath: '$.waitSeconds', Next: 'ReplayTurn' },
      Finish: task('finish', { End: true }),
      RevealAfterFailure: task('finish', { Next: 'ReplayFailed' }),
      UnknownFlow: {
        Type: 'Fail',
        Error: 'UnknownFlow',
        Cause: `The input's "flow" must be one of: ${options.flows.map((f) => f.name).join(', ')}; start with {"flow": "${options.flows[0]?.name ?? 'payments'}"}`,
      },
      BadInput: {
        Type: 'Fail',
        Error: 'ReplayInputError',
        // The turn's message names the field and what it takes; nothing was replayed.
        CausePath: '$.error.Cause',
      },
      ReplayFailed: {
        Type: 'Fail',
        Error: 'ReplayFailed',
        Cause: 'A replay turn failed after retries; events not yet replayed are still in the DLQ.',
      },
    },
  };
}
