/**
 * Events as the receiver queues them, and the SQS records a worker is invoked with: for tests and
 * benchmarks that call the worker directly, without the gateway and the queue in between.
 */
import { randomUUID } from 'node:crypto';
import type { SQSRecord } from 'aws-lambda';
import {
  type Delivery,
  loadContractRegistry,
  minimise,
  readLocator,
  readLocatorString,
  toEpochMillis,
} from '../../functions/contracts/index.ts';
import type { CompiledContract } from '../../functions/contracts/model.ts';
import type { Envelope } from '../../functions/ingest/envelope.ts';
import { parseEventJson } from '../../functions/ingest/event-json.ts';
import { deduplicationId, groupId } from '../../functions/platform/queues.ts';
import { loadFixture } from './fixtures.ts';

const registry = loadContractRegistry();

export function contractNamed(id: string): CompiledContract {
  const contract = registry.contract(id);
  if (!contract) throw new Error(`no contract ${id} in the registry`);
  return contract;
}

/** The envelope the receiver would queue for a vendor event, minimised to its contract. */
export function queuedEnvelope(
  contract: CompiledContract,
  event: Record<string, unknown>,
  fields: {
    readonly id: string;
    readonly subject: string;
    readonly type: string;
    readonly time?: string;
    readonly receivedAt?: string;
    /** The vendor account, as the receiver reads it with the contract's `source.account`. */
    readonly account?: string;
  },
): Envelope {
  const now = new Date().toISOString();
  return {
    specversion: '1.0',
    id: fields.id,
    source: `/webhooks/${contract.source.system}`,
    type: fields.type,
    time: fields.time ?? now,
    subject: fields.subject,
    datacontenttype: 'application/json',
    spinecontract: `${contract.id}@${contract.version}`,
    spineflow: contract.flow,
    spinesource: contract.source.system,
    ...(fields.account ? { spineaccount: fields.account } : {}),
    correlationid: randomUUID(),
    spinereceivedat: fields.receivedAt ?? now,
    spinereplaycount: 0,
    data: minimise(contract.shape, event),
  };
}

/**
 * The SQS record of a queued body on its flow's queue: on a FIFO flow with the envelope's message
 * group, as the receiver sends it. `body` defaults to the envelope; `group` overrides the group.
 */
export function sqsRecordOf(
  envelope: Envelope,
  options: { readonly body?: string; readonly group?: string; readonly sentAt?: number } = {},
): SQSRecord {
  const fifo = registry.flows.find((f) => f.name === envelope.spineflow)?.fifo ?? false;
  const sentAt = String(options.sentAt ?? Date.now());
  return {
    messageId: randomUUID(),
    receiptHandle: 'test',
    body: options.body ?? JSON.stringify(envelope),
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:us-east-1:000000000000:spine-local-${envelope.spineflow}${fifo ? '.fifo' : ''}`,
    awsRegion: 'us-east-1',
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: sentAt,
      SenderId: 'test',
      ApproximateFirstReceiveTimestamp: sentAt,
      ...(fifo
        ? {
            MessageGroupId: options.group ?? groupId(envelope),
            MessageDeduplicationId: deduplicationId(envelope),
          }
        : {}),
    },
    messageAttributes: {},
  };
}

/**
 * A Stripe customer event (the `customer.created` fixture) at `at`, its customer's fields
 * replaced by `customer` (`address` fields replace the fixture address's one by one).
 */
export function stripeCustomerEvent(
  id: string,
  at: string,
  customer: Record<string, unknown> & {
    readonly id: string;
    readonly address?: Record<string, unknown>;
  },
): Envelope {
  const event = JSON.parse(loadFixture('stripe/customer.created').raw) as {
    id: string;
    created: number;
    data: { object: Record<string, unknown> };
  };
  event.id = id;
  event.created = Math.floor(Date.parse(at) / 1000);
  const fixture = event.data.object;
  event.data.object = {
    ...fixture,
    ...customer,
    ...(customer.address
      ? { address: { ...(fixture.address as object), ...customer.address } }
      : {}),
  };
  return queuedEnvelope(contractNamed('stripe.customer'), event, {
    id,
    subject: customer.id,
    type: 'customer.updated',
    time: new Date(event.created * 1000).toISOString(),
  });
}

/**
 * The envelope the receiver queues for a Stripe fixture, after `edit` changed its object; an edit
 * that Stripe could not send (one the contract refuses) throws.
 */
export function stripeFixtureEnvelope(
  name: string,
  edit: (object: Record<string, unknown>) => void = () => {},
): Envelope {
  const event = parseEventJson(loadFixture(name).raw) as {
    type: string;
    data: { object: Record<string, unknown> };
  };
  edit(event.data.object);
  const contract = registry.route('stripe', event.type);
  if (!contract) throw new Error(`${name} routes to no contract`);
  const violations = registry.validate(contract, event);
  if (violations.length > 0)
    throw new Error(`${name} as edited is not what Stripe may send: ${JSON.stringify(violations)}`);
  const delivery: Delivery = { event, headers: {} };
  return queuedEnvelope(contract, event, {
    id: readLocatorString(contract.source.eventId, delivery) as string,
    subject: readLocatorString(contract.source.entityKey, delivery) as string,
    type: event.type,
    time: new Date(
      toEpochMillis(readLocator(contract.source.occurredAt, delivery)) as number,
    ).toISOString(),
  });
}

/**
 * The envelope the receiver queues for a fixture of any vendor, headers included (a Shopify
 * topic and webhook id): `edit` changes the parsed event first, and what it makes must still be
 * what the vendor may send.
 */
export function fixtureEnvelope(
  name: string,
  edit: (event: Record<string, unknown>) => void = () => {},
  headers: Readonly<Record<string, string>> = {},
): Envelope {
  const fixture = loadFixture(name);
  const event = parseEventJson(fixture.raw) as Record<string, unknown>;
  edit(event);
  const delivery: Delivery = { event, headers: { ...fixture.headers, ...headers } };
  const profile = registry.source(fixture.source);
  if (!profile) throw new Error(`${name}: no source ${fixture.source}`);
  const type = String(readLocator(profile.eventType, delivery));
  const contract = registry.route(fixture.source, type);
  if (!contract) throw new Error(`${name} (${type}) routes to no contract`);
  const violations = registry.validate(contract, event);
  if (violations.length > 0)
    throw new Error(
      `${name} as edited is not what the vendor may send: ${JSON.stringify(violations)}`,
    );
  return queuedEnvelope(contract, event, {
    id: readLocatorString(contract.source.eventId, delivery) as string,
    subject: readLocatorString(contract.source.entityKey, delivery) as string,
    type,
    time: new Date(
      toEpochMillis(readLocator(contract.source.occurredAt, delivery)) as number,
    ).toISOString(),
    ...(contract.source.account
      ? { account: readLocatorString(contract.source.account, delivery) }
      : {}),
  });
}
