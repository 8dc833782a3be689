/**
 * A chaos run: starts `spine local` in a child process on a state folder of its own, sends the
 * planned traffic through phases of Odoo faults (with a credential rotation and a kill -9 and
 * restart of the runtime on the way), drains the queues, sends the late re-deliveries, replays the
 * dead letters, drains again, and judges what Odoo holds against the ledger of what was sent.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { RotateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { lineageTableName, odooSecretName } from '../../functions/platform/names.ts';
import {
  type ChaosFaultPlan,
  emulatorStalls,
  type FaultPhase,
  faultPhases,
} from './fault-phases.ts';
import type { ChaosOptions } from './options.ts';
import {
  freeRuntimePorts,
  type RuntimeHealth,
  runSpineCommand,
  runtimeClock,
  SpineProcess,
} from './spine-process.ts';
import { eventKey, planTraffic, type Story } from './traffic.ts';
import { newTally, Vendors } from './vendor.ts';
import { type EventTrail, judge, type OdooTables, type Verdict } from './verdict.ts';

/** The clock a chaos run asks `spine local` for: failures retried in seconds, not half minutes. */
export const CHAOS_CLOCK = {
  // Short enough to retry within seconds; long enough that a healthy batch on a busy 2-core
  // machine (seconds, with Odoo's retries inside) is not cut short.
  workerTimeoutSeconds: 8,
  visibilityTimeoutSeconds: 10,
  maxReceiveCount: 5,
} as const;

export interface ReconcileVerdict {
  readonly clean: boolean;
  readonly days: readonly string[];
  /** One line per contract and day that did not match, with examples. */
  readonly mismatches: readonly string[];
}

export interface ChaosReport {
  readonly seed: number;
  /** Unique vendor events planned, and the deliveries that carry them (re-deliveries included). */
  readonly planned: { readonly events: number; readonly deliveries: number };
  /** Unique events the gateway answered 2xx. */
  readonly sent: number;
  readonly applied: number;
  readonly duplicatesSent: number;
  readonly duplicatesSuppressed: number;
  readonly staleSkipped: number;
  readonly skipped: number;
  readonly skippedReasons: Readonly<Record<string, number>>;
  readonly replayed: number;
  readonly parked: number;
  readonly deadLettered: number;
  readonly quarantined: number;
  readonly ignored: number;
  readonly lost: number;
  /** Events dead-lettered, parked or quarantined at the end, after the replays. */
  readonly stuck: number;
  readonly duplicated: number;
  readonly staleOverwrites: number;
  readonly wrongValues: number;
  readonly linesNotAsSent: number;
  readonly missingRecords: number;
  /** Entities whose newest event never reached Odoo (dead-lettered, parked, refused): not compared. */
  readonly notCompared: number;
  readonly gateway: {
    readonly attempts: number;
    readonly refusals: Readonly<Record<string, number>>;
    /** Deliveries the vendors gave up on (never 2xx). */
    readonly givenUp: readonly string[];
    /** 5xx answers while the runtime was up. */
    readonly serverErrors: readonly string[];
  };
  readonly drained: boolean;
  readonly reconcile: ReconcileVerdict;
  readonly phases: readonly string[];
  readonly kills: number;
  readonly rotation?: string;
  readonly runtime: {
    readonly dataDir: string;
    readonly kept: boolean;
    /** `spine local` flags of the compressed clock it does not take (yet). */
    readonly clockMissing: readonly string[];
    readonly workerTimeoutSeconds: number;
    readonly stalls: 'on' | 'off' | 'not in this emulator';
  };
  readonly findings: Pick<
    Verdict,
    | 'lost'
    | 'stuck'
    | 'duplicated'
    | 'staleOverwrites'
    | 'wrongValues'
    | 'linesNotAsSent'
    | 'missingRecords'
  >;
  /** The invariants that failed, by name; empty when the run proves exactly once. */
  readonly failed: readonly string[];
  readonly ok: boolean;
}

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
/** Queued events above which the vendors wait: about two batches per worker of each flow. */
const MAX_BACKLOG = 40;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Messages on a queue, visible or in flight. */
async function depth(sqs: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(Attributes.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

/** Waits until every flow queue is empty twice in a row; false after the timeout. */
async function drain(
  sqs: SQSClient,
  health: RuntimeHealth,
  timeoutMs: number,
  say: (line: string) => void,
  what: string,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let emptyTimes = 0;
  let lastSaid = 0;
  while (Date.now() < deadline) {
    const depths = await Promise.all(health.flows.map((f) => depth(sqs, f.queueUrl)));
    const total = depths.reduce((a, b) => a + b, 0);
    if (total === 0 && ++emptyTimes >= 2) return true;
    if (total > 0) emptyTimes = 0;
    if (Date.now() - lastSaid > 5000) {
      lastSaid = Date.now();
      say(
        `draining (${what}): ${health.flows.map((f, i) => `${f.name} ${depths[i]}`).join(', ')} left`,
      );
    }
    await sleep(1000);
  }
  return false;
}

/** Every message left on a queue, by `source/eventId`, read with a long visibility timeout. */
async function eventsOn(sqs: SQSClient, queueUrl: string): Promise<string[]> {
  const found: string[] = [];
  for (let empty = 0; empty < 2; ) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 3600,
        WaitTimeSeconds: 0,
      }),
    );
    if (Messages.length === 0) empty++;
    for (const message of Messages) {
      try {
        const envelope = JSON.parse(message.Body ?? '{}') as { id?: string; spinesource?: string };
        if (envelope.id && envelope.spinesource)
          found.push(eventKey(envelope.spinesource, envelope.id));
      } catch {
        // not an envelope: nothing the harness sent
      }
    }
  }
  return found;
}

/** Lineage of every event, in one scan of the table. */
async function lineageTrails(dynamodbUrl: string): Promise<Map<string, EventTrail>> {
  const documents = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: dynamodbUrl, region: 'us-east-1', credentials }),
  );
  const trails = new Map<string, { stages: string[]; details: string[]; lastError?: string }>();
  let start: Record<string, unknown> | undefined;
  do {
    const page = await documents.send(
      new ScanCommand({
        TableName: lineageTableName('local'),
        ProjectionExpression: 'pk, sk, #stage, detail, #error',
        ExpressionAttributeNames: { '#stage': 'stage', '#error': 'error' },
        ExclusiveStartKey: start,
      }),
    );
    for (const item of page.Items ?? []) {
      const pk = String(item.pk);
      if (!pk.startsWith('EVENT#')) continue;
      const [, source, ...id] = pk.split('#');
      const key = eventKey(source as string, id.join('#'));
      const trail = trails.get(key) ?? { stages: [], details: [] };
      trail.stages.push(String(item.stage));
      const error = item.error as { code?: string; message?: string } | undefined;
      if (item.stage === 'failed' && error) trail.lastError = `${error.code}: ${error.message}`;
      if (item.detail && (item.stage === 'skipped' || item.stage === 'skipped-stale'))
        trail.details.push(String(item.detail));
      trails.set(key, trail);
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return trails;
}

async function reconcile(gateway: string, days: readonly string[]): Promise<ReconcileVerdict> {
  const mismatches: string[] = [];
  let clean = true;
  for (const day of days) {
    const result = await runSpineCommand([
      'reconcile',
      '--gateway',
      gateway,
      '--day',
      day,
      '--json',
    ]);
    if (result.code === 0) continue;
    clean = false;
    // The report's own shape is read loosely: what a newer reconcile adds (value checks, ...)
    // still shows up, as a count and a few examples.
    let reports: (Record<string, unknown> & {
      contract: string;
      ok: boolean;
      applied: { count: number; sum?: number };
      odoo: { count: number; sum?: number };
    })[];
    try {
      reports = JSON.parse(result.stdout);
    } catch {
      mismatches.push(
        `${day}: spine reconcile exited ${result.code}: ${result.stderr.trim() || result.stdout.trim()}`,
      );
      continue;
    }
    for (const r of reports.filter((report) => !report.ok)) {
      const lists = Object.entries(r).filter(
        (entry): entry is [string, unknown[]] => Array.isArray(entry[1]) && entry[1].length > 0,
      );
      mismatches.push(
        `${day} ${r.contract}: applied ${r.applied.count}${r.applied.sum !== undefined ? ` (sum ${r.applied.sum})` : ''}, Odoo ${r.odoo.count}${r.odoo.sum !== undefined ? ` (sum ${r.odoo.sum})` : ''}; ${
          lists
            .map(
              ([name, items]) =>
                `${items.length} ${name}, e.g. ${items
                  .slice(0, 2)
                  .map((item) => JSON.stringify(item))
                  .join(' ')}`,
            )
            .join('; ') || 'no list says why'
        }`,
      );
    }
  }
  return { clean, days, mismatches };
}

/** Half past midnight yesterday (UTC): 10,000 events a second apart fit in that one day. */
function trafficStart(now = Date.now()): number {
  const today = new Date(now);
  return Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() - 1, 0, 30);
}

export async function runChaos(
  options: ChaosOptions,
  say: (line: string) => void = () => {},
): Promise<ChaosReport> {
  const dataDir = options.dataDir
    ? resolve(options.dataDir)
    : mkdtempSync(join(tmpdir(), 'spine-chaos-'));
  mkdirSync(dataDir, { recursive: true });
  const clock = await runtimeClock(CHAOS_CLOCK);
  if (clock.missing.length > 0)
    say(`spine local does not take ${clock.missing.join(', ')}: failed batches wait its defaults`);
  const runtime = new SpineProcess(dataDir, await freeRuntimePorts(), clock);
  const killOnExit = () => runtime.killNow();
  process.once('exit', killOnExit);
  try {
    return await chaosAgainst(
      runtime,
      options,
      clock.missing,
      clock.workerTimeoutSeconds,
      dataDir,
      say,
    );
  } finally {
    await runtime.close();
    process.removeListener('exit', killOnExit);
    if (!options.keep) rmSync(dataDir, { recursive: true, force: true });
  }
}

async function chaosAgainst(
  runtime: SpineProcess,
  options: ChaosOptions,
  clockMissing: readonly string[],
  workerTimeoutSeconds: number,
  dataDir: string,
  say: (line: string) => void,
): Promise<ChaosReport> {
  say(`starting spine local on ${runtime.gatewayUrl} with state in ${dataDir}`);
  let health = await runtime.start();
  // The same ports after a restart, so one client serves the whole run.
  const sqsClient = new SQSClient({ endpoint: health.sqs, region: 'us-east-1', credentials });
  const sqs = () => sqsClient;

  const plan = planTraffic({
    events: options.events,
    seed: options.seed,
    duplicates: options.duplicates,
    outOfOrder: options.outOfOrder,
    runTag: Math.floor(Math.random() * 900_000) + 100_000,
    start: trafficStart(),
  });
  const stalls = emulatorStalls();
  const phases = faultPhases({
    kinds: options.faults.filter((k) => (k !== 'stall' && k !== 'request-limit') || stalls),
    rate: options.faultRate,
    seed: options.seed,
    stallMs: workerTimeoutSeconds * 1000 + 2000,
  });
  const total = plan.events.size;
  const deliveries =
    plan.stories.reduce((n, s) => n + s.steps.reduce((m, step) => m + step.length, 0), 0) +
    plan.later.length;
  say(
    `sending ${total} events in ${deliveries} deliveries (${plan.stories.length} stories), phases: ${phases.map((p) => p.name).join(' → ')}${options.kill ? ', kill -9 halfway' : ''}`,
  );

  let down = false;
  const tally = newTally();
  const vendors = () => new Vendors(runtime.gatewayUrl, health.secretsmanager, tally, () => down);
  let vendor = vendors();
  const setFaults = async (plan: ChaosFaultPlan) => {
    for (let attempt = 0; attempt < 50; attempt++) {
      try {
        const response = await fetch(`${health.odoo.url}/_emulator/faults`, {
          method: 'POST',
          body: JSON.stringify(plan),
        });
        if (response.ok) return;
      } catch {
        // the runtime is restarting
      }
      await sleep(200);
    }
    throw new Error(`the Odoo emulator at ${health.odoo.url} refused the fault plan`);
  };
  let rotation: string | undefined;
  const rotate = async () => {
    try {
      const secrets = new SecretsManagerClient({
        endpoint: health.secretsmanager,
        region: 'us-east-1',
        credentials,
      });
      await secrets.send(
        new RotateSecretCommand({
          SecretId: odooSecretName('local'),
          RotationLambdaARN: 'spine-local-rotate-credentials',
        }),
      );
      rotation = `RotateSecret on ${odooSecretName('local')} at ${tally.answered.size} of ${total} events`;
    } catch (error) {
      rotation = `RotateSecret failed: ${(error as Error).message}`;
    }
    say(rotation);
  };

  // ---- traffic, with a controller switching phases and killing the runtime once ----------------
  let phase = -1;
  let phaseStarted = 0;
  /** Events the vendors may have sent by the end of the current phase. */
  const quota = () =>
    phase >= phases.length - 1 ? total : Math.ceil(((phase + 1) / phases.length) * total);
  let kills = 0;
  let sending = true;
  // Events queued and not yet processed. Sending waits while it is high, so that each phase's
  // faults meet the worker's processing of that phase's events, not an idle queue.
  let backlog = 0;
  const controller = (async () => {
    let lastSaid = 0;
    let lastPolled = 0;
    while (sending) {
      if (!down && Date.now() - lastPolled > 500) {
        lastPolled = Date.now();
        backlog = await Promise.all(health.flows.map((f) => depth(sqs(), f.queueUrl)))
          .then((depths) => depths.reduce((a, b) => a + b, 0))
          .catch(() => backlog);
      }
      const progress = tally.answered.size / total;
      // The next phase once this one's events were sent and processed (or it has lasted long
      // enough: an outage holds its events back until they are dead-lettered).
      const dwelt = Date.now() - phaseStarted;
      if (
        !down &&
        phase < phases.length - 1 &&
        (phase < 0 ||
          (tally.answered.size >= quota() && dwelt > 1000 && (backlog <= 15 || dwelt > 10_000)))
      ) {
        phase++;
        phaseStarted = Date.now();
        const current = phases[phase] as FaultPhase;
        await setFaults(current.plan);
        say(`phase ${current.name}: ${JSON.stringify(current.plan)}`);
        if (current.rotate) await rotate();
      }
      if (options.kill && kills === 0 && progress >= 0.5) {
        kills++;
        down = true;
        say(
          `kill -9 of spine local (pid ${runtime.pid}) at ${tally.answered.size} of ${total} events`,
        );
        await runtime.kill9();
        health = await runtime.start();
        vendor = vendors();
        down = false;
        await setFaults((phases[phase] as FaultPhase | undefined)?.plan ?? {});
        say(`spine local is back (pid ${runtime.pid}) on the same state`);
      }
      if (Date.now() - lastSaid > 5000) {
        lastSaid = Date.now();
        say(
          `sent ${tally.answered.size} of ${total} events (${tally.attempts} POSTs, ${Object.values(tally.refusals).reduce((a, b) => a + b, 0)} not 2xx), ${backlog} queued`,
        );
      }
      await sleep(100);
    }
  })();
  const stories: Story[] = [...plan.stories];
  const sender = async () => {
    for (let story = stories.shift(); story; story = stories.shift())
      for (const step of story.steps) {
        // Bounded, so an Odoo outage phase holds the traffic back for a while, not for ever.
        for (let waited = 0; backlog > MAX_BACKLOG && waited < 15_000; waited += 200)
          await sleep(200);
        while (phase < 0 || (phase < phases.length - 1 && tally.answered.size >= quota()))
          await sleep(100);
        await Promise.all(step.map((d) => vendor.send(d)));
      }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, sender));
    // The last phase's faults meet its events too, before they are turned off.
    const settled = () => {
      const dwelt = Date.now() - phaseStarted;
      return phase === phases.length - 1 && dwelt > 1000 && (backlog <= 15 || dwelt > 10_000);
    };
    while (!settled()) await sleep(200);
  } finally {
    sending = false;
    await controller;
  }
  await setFaults({});
  say(`all ${tally.answered.size} of ${total} events sent; faults off`);

  const timeoutMs = options.drainTimeoutSeconds * 1000;
  let drained = await drain(sqs(), health, timeoutMs, say, 'traffic');
  // Re-deliveries of events processed by now: outside any FIFO deduplication window.
  await Promise.all(
    Array.from({ length: options.concurrency }, async (_, i) => {
      for (let j = i; j < plan.later.length; j += options.concurrency)
        await vendor.send(plan.later[j] as (typeof plan.later)[number]);
    }),
  );
  if (plan.later.length > 0) {
    say(`sent ${plan.later.length} late re-deliveries`);
    drained = (await drain(sqs(), health, timeoutMs, say, 'late re-deliveries')) && drained;
  }

  // ---- replay the dead letters, as an operator would once the faults are gone -------------------
  let replayed = 0;
  // The replay's own limit (--max-replays, 3) parks what fails a fourth time; no more rounds.
  for (let round = 1; round <= 4; round++) {
    const dead = await Promise.all(health.flows.map((f) => depth(sqs(), f.deadLetterQueueUrl)));
    if (dead.every((n) => n === 0)) break;
    await Promise.all(
      health.flows
        .filter((_, i) => dead[i] !== 0)
        .map(async (flow) => {
          const result = await runSpineCommand([
            'replay',
            '--flow',
            flow.name,
            '--gateway',
            runtime.gatewayUrl,
            '--max',
            '1000000',
            '--json',
          ]);
          try {
            const outcome = JSON.parse(result.stdout) as { replayed: number; parked: number };
            replayed += outcome.replayed;
            say(
              `replay ${round} of the ${flow.name} DLQ: ${outcome.replayed} replayed, ${outcome.parked} parked`,
            );
          } catch {
            say(`spine replay --flow ${flow.name} exited ${result.code}: ${result.stderr.trim()}`);
          }
        }),
    );
    drained = (await drain(sqs(), health, timeoutMs, say, `replay ${round}`)) && drained;
  }

  // ---- what is left, what lineage says, what Odoo holds ----------------------------------------
  const deadLetters = new Set<string>();
  const parked = new Set<string>();
  for (const flow of health.flows) {
    for (const key of await eventsOn(sqs(), flow.deadLetterQueueUrl)) deadLetters.add(key);
    for (const key of await eventsOn(sqs(), flow.parkingQueueUrl)) parked.add(key);
  }
  const trails = await lineageTrails(health.dynamodb);
  const odoo = (await (await fetch(`${health.odoo.url}/_emulator/state`)).json()) as OdooTables;
  const verdict: Verdict = judge({
    plan,
    answered: tally.answered,
    trails,
    deadLetters,
    parked,
    odoo,
    repeats: tally.repeats,
  });
  say('reconciling');
  const reconciled = await reconcile(runtime.gatewayUrl, plan.days);

  const failed = [
    ...(verdict.lost.length ? ['lost'] : []),
    ...(verdict.stuck.length ? ['stuck in a DLQ or parked'] : []),
    ...(verdict.duplicated.length ? ['duplicated'] : []),
    ...(verdict.staleOverwrites.length ? ['stale overwrites'] : []),
    ...(verdict.wrongValues.length ? ['wrong values'] : []),
    ...(verdict.linesNotAsSent.length ? ['lines not as sent'] : []),
    ...(verdict.missingRecords.length ? ['missing records'] : []),
    ...(reconciled.clean ? [] : ['reconcile']),
    ...(drained ? [] : ['drained']),
    ...(tally.givenUp.length ? ['every event taken'] : []),
    ...(tally.serverErrors.length ? ['no 5xx to authentic events'] : []),
  ];
  return {
    seed: options.seed,
    planned: { events: total, deliveries },
    sent: tally.answered.size,
    applied: verdict.accounts.applied,
    duplicatesSent: tally.repeats.length,
    duplicatesSuppressed: verdict.duplicatesSuppressed,
    staleSkipped: verdict.accounts['skipped-stale'],
    skipped: verdict.accounts.skipped,
    skippedReasons: verdict.skippedReasons,
    replayed,
    parked: verdict.accounts.parked,
    deadLettered: verdict.accounts['dead-lettered'],
    quarantined: verdict.accounts.quarantined,
    ignored: verdict.accounts.ignored,
    lost: verdict.lost.length,
    stuck: verdict.stuck.length,
    duplicated: verdict.duplicated.length,
    staleOverwrites: verdict.staleOverwrites.length,
    wrongValues: verdict.wrongValues.length,
    linesNotAsSent: verdict.linesNotAsSent.length,
    missingRecords: verdict.missingRecords.length,
    notCompared: verdict.notCompared,
    gateway: {
      attempts: tally.attempts,
      refusals: tally.refusals,
      givenUp: tally.givenUp.map(
        (g) =>
          `${g.delivery.source} ${g.delivery.events.map((e) => e.eventId).join(', ')}: ${g.last}`,
      ),
      serverErrors: tally.serverErrors,
    },
    drained,
    reconcile: reconciled,
    phases: phases.map((p) => p.name),
    kills,
    ...(rotation ? { rotation } : {}),
    runtime: {
      dataDir,
      kept: options.keep,
      clockMissing,
      workerTimeoutSeconds,
      stalls: !options.faults.includes('stall')
        ? 'off'
        : emulatorStalls()
          ? 'on'
          : 'not in this emulator',
    },
    findings: {
      lost: verdict.lost,
      stuck: verdict.stuck,
      duplicated: verdict.duplicated,
      staleOverwrites: verdict.staleOverwrites,
      wrongValues: verdict.wrongValues,
      linesNotAsSent: verdict.linesNotAsSent,
      missingRecords: verdict.missingRecords,
    },
    failed,
    ok: failed.length === 0,
  };
}
