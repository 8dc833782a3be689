/**
 * The replay state machine as deployed: the definition is taken from the synthesised template,
 * its references resolved to the local runtime, checked as ASL, and run with
 * aws-local-stepfunctions against the local SQS endpoint and the real replay handler.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import aslValidator from 'asl-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReplayFlowQueues } from '../../infra/replay/definition.ts';
import type { OdooEmulator } from '../../local/odoo/server.ts';
import { runReplayLocally } from '../../local/replay.ts';
import { loadFixture } from '../support/fixtures.ts';
import {
  localSqsClient,
  queueDepth,
  sendFixture,
  startTestRuntime,
  waitFor,
} from '../support/local-runtime.ts';
import { synthEnvironment } from './synth.ts';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;
const TURN_ARN = 'arn:aws:lambda:eu-west-1:333333333333:function:spine-prod-replay';

let prod: ReturnType<typeof synthEnvironment> | undefined;

/** The deployed definition, its exports and attributes replaced by the local runtime's values. */
function deployedDefinition(flows: readonly ReplayFlowQueues[]): Record<string, unknown> {
  prod ??= synthEnvironment('prod');
  const stateful = prod.template.toJSON() as {
    Resources: Resources;
    Outputs: Record<string, { Value: unknown; Export: { Name: string } }>;
  };
  const machines = prod.statelessTemplate.findResources('AWS::StepFunctions::StateMachine');
  const [machine] = Object.values(machines);
  expect(Object.keys(machines)).toHaveLength(1);
  const body = machine?.Properties.DefinitionString as { 'Fn::Join': [string, unknown[]] };
  const exportsByName = new Map(
    Object.values(stateful.Outputs).map((o) => [o.Export.Name, o.Value]),
  );
  const localUrl = (queueName: string): string => {
    const [, flowName, kind] = /^spine-prod-(.+?)(-dlq|-parking)?(\.fifo)?$/.exec(queueName) ?? [];
    const flow = flows.find((f) => f.name === flowName);
    if (!flow) throw new Error(`no local flow for ${queueName}`);
    return kind === '-dlq'
      ? flow.deadLetterQueueUrl
      : kind === '-parking'
        ? flow.parkingQueueUrl
        : flow.queueUrl;
  };
  const resolve = (part: unknown): string => {
    // Queues are referenced by name (infra/constructs/flow-queues.ts): their URLs are literal.
    if (typeof part === 'string')
      return part.replace(
        /https:\/\/sqs\.[a-z0-9-]+\.amazonaws\.com\/\d{12}\/([A-Za-z0-9._-]+)/g,
        (_, queueName: string) => localUrl(queueName),
      );
    const imported = (part as { 'Fn::ImportValue'?: string })['Fn::ImportValue'];
    if (imported) {
      const value = exportsByName.get(imported) as { Ref?: string } | undefined;
      return localUrl(String(stateful.Resources[value?.Ref ?? '']?.Properties.QueueName));
    }
    const attribute = (part as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
    if (attribute?.[1] === 'Arn') return TURN_ARN;
    throw new Error(`unexpected reference in the definition: ${JSON.stringify(part)}`);
  };
  return JSON.parse(body['Fn::Join'][1].map(resolve).join(body['Fn::Join'][0]));
}

type Runtime = Awaited<ReturnType<typeof startTestRuntime>>;
let runtime: Runtime;
let emulator: OdooEmulator;
let sqs: SQSClient;

beforeAll(async () => {
  runtime = await startTestRuntime();
  emulator = runtime.odooEmulator as OdooEmulator;
  sqs = localSqsClient(runtime);
}, 60_000);
afterAll(() => runtime.dispose());

const visible = (queueUrl: string) => queueDepth(sqs, queueUrl);

describe('the synthesised replay state machine', { timeout: 120_000 }, () => {
  it('is valid Amazon States Language', () => {
    const definition = deployedDefinition(runtime.flows);
    const { isValid, errorsText } = aslValidator(definition);
    expect(isValid, errorsText('\n')).toBe(true);
    // prod's replay limits are the defaults a console start gets.
    const defaults = (definition.States as Record<string, { Result?: unknown }>).Defaults?.Result;
    expect(defaults).toMatchObject({ maxReplays: 3, ratePerSecond: 10, max: 1000 });
  });

  it('replays a DLQ into Odoo when started with only {"flow": "payments"}', async () => {
    const payments = runtime.flows.find((f) => f.name === 'payments');
    if (!payments) throw new Error('no payments flow');
    const fixture = loadFixture('stripe/payment_intent.succeeded');
    const count = () => emulator.orm.call(2, 'account.payment', 'search_count', [[]], {}) as number;
    // The payments' customer first, so that they fail only on the write Odoo refuses.
    const partners = () =>
      emulator.orm.call(2, 'res.partner', 'search_count', [[['email', '!=', false]]], {}) as number;
    const before = partners();
    expect((await sendFixture(runtime, loadFixture('stripe/customer.created'))).status).toBe(202);
    await waitFor('the customer in Odoo', async () => partners() > before);
    emulator.faults.set({ failWrites: ['account.payment'], failWritesAs: 'validation' });
    for (let i = 0; i < 2; i++) {
      const variant = {
        ...fixture,
        raw: fixture.raw
          .replaceAll(/evt_\w+/g, (id) => `${id}_sm${i}`)
          .replaceAll(/pi_3QkZ\w+/g, (id) => `${id}_sm${i}`),
      };
      expect((await sendFixture(runtime, variant)).status).toBe(202);
    }
    await waitFor(
      'both events in the DLQ',
      async () => (await visible(payments.deadLetterQueueUrl)) === 2,
    );
    expect(count()).toBe(0);
    emulator.faults.clear();

    const result = await runReplayLocally({
      flows: runtime.flows,
      definition: deployedDefinition(runtime.flows),
      input: { flow: 'payments' },
    });
    expect(result).toMatchObject({ replayed: 2, skipped: 0, parked: 0, remaining: 0 });
    await waitFor('both payments in Odoo', async () => count() === 2);
    expect(await visible(payments.deadLetterQueueUrl)).toBe(0);
  });

  it('fails an unknown flow at once, naming the flows it knows', async () => {
    await expect(
      runReplayLocally({
        flows: runtime.flows,
        definition: deployedDefinition(runtime.flows),
        input: { flow: 'invoices' },
      }),
    ).rejects.toThrow(/customers, orders, payments/);
  });
});
