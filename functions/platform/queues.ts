/** The receiver's queues on SQS: batches of ten, FIFO group = entity key, dedup id = source + event id. */
import {
  ChangeMessageVisibilityBatchCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { ConfigurationError } from '../errors/configuration-error.ts';
import {
  type DeadLetterReport,
  type Envelope,
  envelopeAttributes,
  envelopeMessageBody,
} from '../ingest/envelope.ts';
import type { EnvelopeQueues } from '../ingest/ports.ts';
import type { FlowQueues } from './config.ts';

/** A FIFO deduplication id: at most 128 characters of [A-Za-z0-9!-~]. */
export function deduplicationId(envelope: Envelope): string {
  const id = `${envelope.spinesource}:${envelope.id}`.replace(/[^\x21-\x7e]/g, '_');
  return id.length <= 128 ? id : id.slice(0, 128);
}

/** A FIFO group: one entity of one kind (the contract's, or the vendor object several contracts write). */
export function groupId(envelope: Envelope): string {
  return `${envelope.spineentity ?? envelope.spinecontract.split('@')[0]}:${envelope.subject}`
    .replace(/[^\x21-\x7e]/g, '_')
    .slice(0, 128);
}

export class SqsEnvelopeQueues implements EnvelopeQueues {
  constructor(
    private readonly sqs: SQSClient,
    private readonly flows: Readonly<Record<string, FlowQueues>>,
  ) {}

  private flow(name: string): FlowQueues {
    const flow = this.flows[name];
    if (!flow)
      throw new ConfigurationError(
        `flow "${name}" has no queue in SPINE_FLOWS`,
        'redeploy: the contracts and the stack disagree',
      );
    return flow;
  }

  async enqueue(flowName: string, envelopes: readonly Envelope[]): Promise<void> {
    const flow = this.flow(flowName);
    for (let i = 0; i < envelopes.length; i += 10) {
      const chunk = envelopes.slice(i, i + 10);
      const result = await this.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: flow.queueUrl,
          Entries: chunk.map((envelope, j) => ({
            Id: String(j),
            MessageBody: envelopeMessageBody(envelope),
            MessageAttributes: envelopeAttributes(envelope),
            ...(flow.fifo
              ? {
                  MessageGroupId: groupId(envelope),
                  MessageDeduplicationId: deduplicationId(envelope),
                }
              : {}),
          })),
        }),
      );
      if (result.Failed && result.Failed.length > 0) {
        throw new Error(
          `SQS refused ${result.Failed.length} of ${chunk.length} envelopes: ${result.Failed.map((f) => `${f.Code}: ${f.Message}`).join('; ')}`,
        );
      }
    }
  }

  async deadLetter(flowName: string, envelope: Envelope, report: DeadLetterReport): Promise<void> {
    const flow = this.flow(flowName);
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: flow.deadLetterQueueUrl,
        MessageBody: envelopeMessageBody(envelope, report),
        MessageAttributes: envelopeAttributes(envelope, report),
        ...(flow.fifo
          ? {
              MessageGroupId: groupId(envelope),
              MessageDeduplicationId: `${deduplicationId(envelope).slice(0, 100)}:${envelope.spinereplaycount}:dlq`,
            }
          : {}),
      }),
    );
  }

  /**
   * Holds failed messages of a flow queue back until they can succeed (an entity claim that
   * lapses then): each such wait costs one receive instead of several.
   */
  async delayRedelivery(
    queueArn: string,
    entries: readonly { readonly receiptHandle: string; readonly seconds: number }[],
  ): Promise<void> {
    const name = queueArn.split(':').at(-1) ?? '';
    const flow = Object.values(this.flows).find((f) => f.queueUrl.endsWith(`/${name}`));
    if (!flow || entries.length === 0) return;
    for (let i = 0; i < entries.length; i += 10)
      await this.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: flow.queueUrl,
          Entries: entries.slice(i, i + 10).map((entry, j) => ({
            Id: String(j),
            ReceiptHandle: entry.receiptHandle,
            // SQS's limit is 12 hours.
            VisibilityTimeout: Math.min(43_200, Math.max(0, Math.ceil(entry.seconds))),
          })),
        }),
      );
  }
}
