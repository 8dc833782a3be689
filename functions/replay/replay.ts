/**
 * One turn of the DLQ replay loop, run by the replay state machine until it says `done`:
 * receive ten dead letters; send those that match the filter back to the flow queue with
 * their replay count + 1 and delete them; park those past the maximum replays; keep the others
 * out of sight until the end of the run, then make them visible again.
 */
import { eventFields } from '../ingest/arrival.ts';
import { type DeadLetter, type Envelope, envelopeMessageBody } from '../ingest/envelope.ts';
import type { LineageEntry, LineageStore } from '../lineage/model.ts';
import { groupId } from '../platform/queues.ts';
import { parseFilterTime } from './filter-time.ts';
import { ReplayInputError } from './replay-input-error.ts';

export interface ReplayFilter {
  /** Vendor event type, e.g. `payment_intent.succeeded`. */
  readonly type?: string;
  /** Contract id, or id@version. */
  readonly contract?: string;
  /** Dead-letter reason: `contract-violation`, `relation-not-found`, `max-receives` (moved by redrive), ... */
  readonly reason?: string;
  /**
   * Only messages first sent (SQS SentTimestamp) before / after this time: an ISO 8601 date or
   * date-time, or a duration back from the start of the run (`2h`). For a standard queue the
   * time survives redrive, so it is when the event entered the flow; for a letter the worker
   * or the receiver sent to the DLQ, or a FIFO redrive, it is when it reached the DLQ.
   */
  readonly olderThan?: string;
  readonly newerThan?: string;
}

export interface ReplayConfig {
  readonly flow: string;
  readonly max: number;
  readonly maxReplays: number;
  readonly dryRun: boolean;
  readonly ratePerSecond: number;
  readonly filter: ReplayFilter;
}

export interface ReplayQueues {
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly parkingQueueUrl: string;
  readonly fifo: boolean;
}

export interface ReplayTotals {
  readonly replayed: number;
  readonly skipped: number;
  readonly parked: number;
}

/** The state the state machine carries between turns. */
export interface ReplayState {
  readonly config: ReplayConfig;
  readonly queues: ReplayQueues;
  readonly totals: ReplayTotals;
  /** When the run started (the execution's start time, ISO 8601): later dead letters are left to the next run. */
  readonly startedAt: string;
  /** Receipt handles of dead letters this run looked at and left, out of sight until it ends. */
  readonly hidden: readonly string[];
  readonly done?: boolean;
  readonly waitSeconds?: number;
  /** Why the run ended before it had seen every dead letter it could take. */
  readonly stopped?: string;
}

/** What a run answers at the end. */
export interface ReplayOutcome extends ReplayTotals {
  readonly remaining: number;
  readonly dryRun: boolean;
  readonly stopped?: string;
}

export interface DeadLetterMessage {
  readonly receiptHandle: string;
  readonly body: string;
  readonly sentTimestamp: number;
  readonly attributes: Readonly<Record<string, { DataType: string; StringValue?: string }>>;
}

/** The SQS operations replay needs. */
export interface ReplayQueueOperations {
  receive(queueUrl: string, max: number, hideSeconds: number): Promise<DeadLetterMessage[]>;
  send(
    queueUrl: string,
    body: string,
    attributes: DeadLetterMessage['attributes'],
    fifo?: { groupId: string; deduplicationId: string },
  ): Promise<void>;
  delete(queueUrl: string, receiptHandle: string): Promise<void>;
  reveal(queueUrl: string, receiptHandles: readonly string[]): Promise<void>;
  count(queueUrl: string): Promise<number>;
}

/** How long dead letters that do not match stay hidden while the run goes on. */
export const HIDE_SECONDS = 900;

/**
 * The most characters of receipt handles a run carries in `hidden`. Step Functions refuses a
 * state over 256 KiB (DataLimitExceeded), and `hidden` is the only part of it that grows (an
 * SQS receipt handle is some 400 to 1,000 characters). The handles have to be carried: the
 * run shows those dead letters again when it ends. Hiding them for a fixed time and forgetting
 * the handles would keep them out of sight after the run as well, so that a replay started
 * right after (another filter, or the real run after a dry run) would not see them. So a run
 * stops, saying why, before one more turn could take `hidden` past this budget; the rest of
 * the state (config, queue URLs, totals, an error) fits in what is left.
 */
export const HIDDEN_BUDGET_CHARS = 160_000;
const RECEIPT_HANDLE_MAX_CHARS = 1_024;
const RECEIVE_MAX = 10;

function roomForAnotherTurn(hidden: readonly string[]): boolean {
  const longest = Math.max(RECEIPT_HANDLE_MAX_CHARS, ...hidden.map((h) => h.length));
  // JSON adds quotes and a comma to each handle.
  return JSON.stringify(hidden).length + RECEIVE_MAX * (longest + 3) <= HIDDEN_BUDGET_CHARS;
}

interface ResolvedFilter {
  readonly type?: string;
  readonly contract?: string;
  readonly reason?: string;
  readonly sentBefore?: number;
  readonly sentAfter?: number;
}

/** Checks what the execution was started with; a console start gets a ReplayInputError, not a quiet no-op. */
function resolveConfig(config: ReplayConfig, startedAt: number): ResolvedFilter {
  const count = (name: string, value: unknown, min: number) => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min)
      throw new ReplayInputError(
        `"${name}" must be a whole number of at least ${min}, got ${JSON.stringify(value)}`,
      );
  };
  count('max', config.max, 1);
  count('maxReplays', config.maxReplays, 1);
  if (
    typeof config.ratePerSecond !== 'number' ||
    !Number.isFinite(config.ratePerSecond) ||
    config.ratePerSecond < 0
  )
    throw new ReplayInputError(
      `"ratePerSecond" must be a number of at least 0, got ${JSON.stringify(config.ratePerSecond)}`,
    );
  if (typeof config.dryRun !== 'boolean')
    throw new ReplayInputError(
      `"dryRun" must be true or false, got ${JSON.stringify(config.dryRun)}`,
    );
  const filter = config.filter;
  if (!filter || typeof filter !== 'object' || Array.isArray(filter))
    throw new ReplayInputError(
      `"filter" must be an object with type, contract, reason, olderThan or newerThan, got ${JSON.stringify(filter)}`,
    );
  const known = ['type', 'contract', 'reason', 'olderThan', 'newerThan'];
  for (const [key, value] of Object.entries(filter)) {
    if (!known.includes(key))
      throw new ReplayInputError(
        `"filter.${key}" is not a filter; the filters are ${known.join(', ')}`,
      );
    if (typeof value !== 'string' || value === '')
      throw new ReplayInputError(`"filter.${key}" must be a text, got ${JSON.stringify(value)}`);
  }
  return {
    ...(filter.type ? { type: filter.type } : {}),
    ...(filter.contract ? { contract: filter.contract } : {}),
    ...(filter.reason ? { reason: filter.reason } : {}),
    ...(filter.olderThan
      ? { sentBefore: parseFilterTime(filter.olderThan, startedAt, 'filter.olderThan') }
      : {}),
    ...(filter.newerThan
      ? { sentAfter: parseFilterTime(filter.newerThan, startedAt, 'filter.newerThan') }
      : {}),
  };
}

function reasonOf(message: DeadLetterMessage, letter: Partial<DeadLetter>): string {
  return (
    letter.spinedeadletter?.reason ??
    message.attributes['spine-reason']?.StringValue ??
    'max-receives'
  );
}

function matchesFilter(
  message: DeadLetterMessage,
  letter: Partial<DeadLetter>,
  filter: ResolvedFilter,
): boolean {
  if (filter.type && letter.type !== filter.type) return false;
  if (filter.contract) {
    const contract = letter.spinecontract ?? '';
    if (contract !== filter.contract && contract.split('@')[0] !== filter.contract) return false;
  }
  if (filter.reason && reasonOf(message, letter) !== filter.reason) return false;
  if (filter.sentBefore !== undefined && !(message.sentTimestamp < filter.sentBefore)) return false;
  if (filter.sentAfter !== undefined && !(message.sentTimestamp > filter.sentAfter)) return false;
  return true;
}

export async function replayTurn(
  state: ReplayState,
  deps: { sqs: ReplayQueueOperations; lineage: LineageStore; now?: () => Date },
): Promise<ReplayState> {
  const { config, queues } = state;
  const startedAt = Date.parse(state.startedAt);
  if (Number.isNaN(startedAt))
    throw new ReplayInputError(
      `"startedAt" must be the run's start time, got ${JSON.stringify(state.startedAt)}`,
    );
  const filter = resolveConfig(config, startedAt);
  const totals = { ...state.totals };
  const hidden = [...state.hidden];
  const capReached = () => totals.replayed + totals.parked >= config.max;
  if (capReached()) return { ...state, done: true };
  if (!roomForAnotherTurn(hidden)) {
    return {
      ...state,
      done: true,
      stopped: `stopped after setting ${hidden.length} dead letters aside: a run keeps only so many out of sight (Step Functions limits its state to 256 KiB); they are visible again, start another run to go on`,
    };
  }

  // Always ten, whatever the cap: on a FIFO queue a dead letter set aside holds back the rest of
  // its group until the run ends, so the ones behind it are seen only in the same receive.
  const messages = await deps.sqs.receive(queues.deadLetterQueueUrl, RECEIVE_MAX, HIDE_SECONDS);
  if (messages.length === 0) return { ...state, done: true };

  const entries: LineageEntry[] = [];
  const giveBack: string[] = [];
  let sentToFlow = 0;
  const at = (deps.now?.() ?? new Date()).toISOString();
  for (const message of messages) {
    // A run takes only what was in the DLQ when it started. Anything sent later is left to the
    // next run: among it are this run's own replays that failed again (a permanent failure is
    // back within milliseconds), which it would otherwise replay over and over until parked.
    // A replay is a new message, so its SentTimestamp is after the start even after redrive.
    if (message.sentTimestamp > startedAt) {
      hidden.push(message.receiptHandle);
      continue;
    }
    if (capReached()) {
      giveBack.push(message.receiptHandle);
      continue;
    }
    let letter: Partial<DeadLetter>;
    try {
      letter = JSON.parse(message.body) as Partial<DeadLetter>;
    } catch {
      letter = {};
    }
    const isEnvelope = letter.specversion === '1.0' && typeof letter.id === 'string';
    if (!isEnvelope || !matchesFilter(message, letter, filter)) {
      totals.skipped++;
      hidden.push(message.receiptHandle);
      continue;
    }
    const envelope = letter as DeadLetter;
    const base = eventFields(envelope);
    if (envelope.spinereplaycount >= config.maxReplays) {
      totals.parked++;
      if (config.dryRun) {
        hidden.push(message.receiptHandle);
        continue;
      }
      await deps.sqs.send(
        queues.parkingQueueUrl,
        message.body,
        message.attributes,
        queues.fifo
          ? {
              groupId: groupId(envelope),
              deduplicationId: `${envelope.spinesource}:${envelope.id}:parked`.slice(0, 128),
            }
          : undefined,
      );
      await deps.sqs.delete(queues.deadLetterQueueUrl, message.receiptHandle);
      entries.push({
        ...base,
        stage: 'parked',
        at,
        detail: `replayed ${envelope.spinereplaycount} times already (maximum ${config.maxReplays}): parked for a person to look at`,
      });
      continue;
    }
    totals.replayed++;
    if (config.dryRun) {
      hidden.push(message.receiptHandle);
      continue;
    }
    const { spinedeadletter, ...rest } = envelope;
    const replayed: Envelope = { ...rest, spinereplaycount: envelope.spinereplaycount + 1 };
    const attributes = {
      ...message.attributes,
      'spine-replay-count': { DataType: 'Number', StringValue: String(replayed.spinereplaycount) },
    };
    delete (attributes as Record<string, unknown>)['spine-reason'];
    await deps.sqs.send(
      queues.queueUrl,
      envelopeMessageBody(replayed),
      attributes,
      // The replay count makes a new deduplication id: the first delivery's id is still remembered.
      queues.fifo
        ? {
            groupId: groupId(envelope),
            deduplicationId:
              `${envelope.spinesource}:${envelope.id}:r${replayed.spinereplaycount}`.slice(0, 128),
          }
        : undefined,
    );
    await deps.sqs.delete(queues.deadLetterQueueUrl, message.receiptHandle);
    sentToFlow++;
    entries.push({
      ...base,
      stage: 'replayed',
      at,
      detail: `replay ${replayed.spinereplaycount}${spinedeadletter ? ` after ${spinedeadletter.reason}` : ''}`,
    });
  }
  // Past the cap: the run ends with this turn, so these need not wait for the end to be seen.
  if (giveBack.length > 0) await deps.sqs.reveal(queues.deadLetterQueueUrl, giveBack);
  if (entries.length > 0) await deps.lineage.record(entries);
  return {
    config,
    queues,
    startedAt: state.startedAt,
    totals,
    hidden,
    done: capReached(),
    // The rate is of events sent back to the flow; dead letters looked at and left cost it nothing.
    waitSeconds: config.ratePerSecond > 0 ? Math.ceil(sentToFlow / config.ratePerSecond) : 0,
  };
}

/** Ends a run: dead letters kept out of sight come back; answers the totals and what remains. */
export async function finishReplay(
  state: ReplayState,
  deps: { sqs: ReplayQueueOperations },
): Promise<ReplayOutcome> {
  await deps.sqs.reveal(state.queues.deadLetterQueueUrl, state.hidden);
  return {
    ...state.totals,
    remaining: await deps.sqs.count(state.queues.deadLetterQueueUrl),
    dryRun: state.config.dryRun,
    ...(state.stopped ? { stopped: state.stopped } : {}),
  };
}
