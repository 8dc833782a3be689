/** The replay state machine's task: one turn of the loop, or the end of the run. */
import { getContainer } from '../platform/container.ts';
import { flushMetrics, publishMetric } from '../platform/powertools.ts';
import { SqsReplayQueues } from '../platform/replay-queues.ts';
import { finishReplay, type ReplayState, replayTurn } from '../replay/replay.ts';

export async function handler(event: { action: 'turn' | 'finish'; state: ReplayState }) {
  const { state } = event;
  const container = getContainer();
  const sqs = new SqsReplayQueues(container.sqs);
  if (event.action === 'finish') return finishReplay(state, { sqs });
  try {
    const next = await replayTurn(state, { sqs, lineage: container.lineage });
    if (!state.config.dryRun) {
      // What this turn moved, per flow, for the dashboard (the totals run across turns).
      for (const name of ['replayed', 'parked'] as const) {
        const moved = next.totals[name] - state.totals[name];
        if (moved <= 0) continue;
        publishMetric(name, { flow: state.config.flow }, undefined, moved);
      }
    }
    return next;
  } finally {
    // The turn's metrics, one line per dimension set (see publishMetric).
    flushMetrics();
  }
}
