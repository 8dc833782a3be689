/**
 * A two-hour Odoo outage, drilled on a compressed clock: the queues' timers run 360 times faster
 * than real time, Odoo answers 503 to everything for 7,200 queue seconds (20 s), and the events
 * sent before and during it must all reach Odoo afterwards, with none dead-lettered, under the
 * redrive limit and retry schedule that production synthesises. With the redrive limit of
 * before (5 receives), the same outage dead-letters them: the drill can fail.
 */
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { App } from 'aws-cdk-lib';
import { afterEach, describe, expect, it } from 'vitest';
import { compiledRegistry } from '../../functions/contracts/compiled/registry.ts';
import { resetContainer } from '../../functions/platform/container.ts';
import { DEFAULT_REDELIVERY } from '../../functions/sync/redelivery.ts';
import { readEnvironment } from '../../infra/environment.ts';
import { StatefulStack } from '../../infra/stacks/stateful-stack.ts';
import type { RuntimeLogLine } from '../../local/runtime.ts';
import { cdkContext } from '../infra/synth.ts';
import { type Fixture, loadFixture } from '../support/fixtures.ts';
import { sendFixture, startTestRuntime, waitFor } from '../support/local-runtime.ts';

const TIME_SCALE = 360;
const OUTAGE_SECONDS = 2 * 3600;
const EVENTS = 12;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  // The receiver runs in this process: the next runtime's endpoints are read afresh.
  resetContainer();
});

/** A distinct Stripe customer, as Stripe would send it. */
function customer(i: number): Fixture {
  const fixture = loadFixture('stripe/customer.created');
  const body = JSON.parse(fixture.raw) as {
    id: string;
    data: { object: { id: string; email: string } };
  };
  body.id = `evt_outage_${i}`;
  body.data.object.id = `cus_outage_${i}`;
  body.data.object.email = `outage.${i}@example.com`;
  return { ...fixture, raw: JSON.stringify(body) };
}

async function drill(maxReceiveCount: number) {
  const receives = new Map<string, number>();
  const deadLettered: string[] = [];
  const runtime = await startTestRuntime({
    isolatedWorker: true,
    timeScale: TIME_SCALE,
    // Production's retry schedule and redrive limit; the queue's own visibility timeout only
    // matters when an invocation dies.
    redelivery: DEFAULT_REDELIVERY,
    maxReceiveCount,
    workerTimeoutSeconds: 5,
    visibilityTimeoutSeconds: 360,
    log: (line: RuntimeLogLine) => {
      if (line.kind === 'batch' && line.flow === 'customers')
        for (const record of line.outcome.records)
          receives.set(
            record.messageId,
            Math.max(
              receives.get(record.messageId) ?? 0,
              Number(record.attributes.ApproximateReceiveCount),
            ),
          );
      if (line.kind === 'dead-lettered') deadLettered.push(line.messageId);
    },
  });
  cleanups.push(() => runtime.dispose());
  const emulator = runtime.odooEmulator;
  if (!emulator) throw new Error('the drill needs the Odoo emulator');

  // Odoo goes down behind its proxy; vendors keep sending.
  emulator.faults.set({ transport: { rate: 1, kind: 503 } });
  const down = Date.now();
  for (let i = 0; i < EVENTS; i++)
    expect((await sendFixture(runtime, customer(i))).status).toBe(202);
  await new Promise((r) =>
    setTimeout(r, (OUTAGE_SECONDS / TIME_SCALE) * 1000 - (Date.now() - down)),
  );
  emulator.faults.set({});

  const flow = runtime.flows.find((f) => f.name === 'customers');
  const sqs = new SQSClient({
    endpoint: runtime.sqs.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const depth = async (queueUrl: string) => {
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return (
      Number(Attributes?.ApproximateNumberOfMessages) +
      Number(Attributes?.ApproximateNumberOfMessagesNotVisible)
    );
  };
  // Drained: every event applied, or dead-lettered.
  await waitFor(
    'the flow queue to drain',
    async () => (await depth(flow?.queueUrl as string)) === 0,
    60_000,
  );
  const partners = (await emulator.orm.call(
    2,
    'res.partner',
    'search_count',
    [[['email', '=like', 'outage.%@example.com']]],
    {},
  )) as number;
  return {
    partners,
    deadLettered: await depth(flow?.deadLetterQueueUrl as string),
    deadLetteredLines: deadLettered.length,
    mostReceives: Math.max(...receives.values()),
  };
}

describe('a two-hour Odoo outage on a compressed clock', { timeout: 150_000 }, () => {
  it('dead-letters nothing under the redrive limit production synthesises: every event reaches Odoo once it is back', async () => {
    // The queues exactly as the prod stack builds them from cdk.json.
    const stateful = new StatefulStack(new App(), 'prod-stateful', {
      environment: readEnvironment(cdkContext.environments, 'prod', compiledRegistry),
      registry: compiledRegistry,
    });
    const queues = stateful.flows.find((f) => f.flowName === 'customers');
    const maxReceiveCount = queues?.maxReceiveCount as number;
    expect(queues?.redelivery).toEqual(DEFAULT_REDELIVERY);
    const result = await drill(maxReceiveCount);
    expect(result).toMatchObject({ partners: EVENTS, deadLettered: 0, deadLetteredLines: 0 });
    // The retries really ran through the outage at the schedule's pace, not in one long wait:
    // more receives than the old redrive limit allowed, fewer than the new one.
    expect(result.mostReceives).toBeGreaterThan(5);
    expect(result.mostReceives).toBeLessThan(maxReceiveCount);
  });

  it('dead-letters events under the redrive limit of before (5 receives): the drill can fail', async () => {
    const result = await drill(5);
    expect(result.deadLettered).toBeGreaterThan(0);
    expect(result.partners).toBeLessThan(EVENTS);
  });
});
