/**
 * The Lambda SQS event source mapping, locally: long-polls a flow queue, gathers batches
 * (batch size, batching window), invokes the worker handler with real SQSEvent records and a
 * Lambda-like context, deletes what succeeded, and leaves failures to reappear after the
 * visibility timeout, so the queue's redrive policy moves them to the DLQ after
 * maxReceiveCount. With ReportBatchItemFailures only the reported records are kept.
 *
 * Each concurrent poller has an execution environment of its own. A handler given as a module
 * runs in a thread that is stopped when an invocation reaches the timeout, as Lambda stops it,
 * and the poller's next batch starts cold; a handler given as a function runs in this process
 * and cannot be stopped.
 */
import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import {
  type ExecutionEnvironment,
  type HandlerModule,
  InvocationTimedOut,
  inProcessEnvironment,
  isHandlerModule,
  threadEnvironment,
} from './execution-environment.ts';

export type SqsHandler = (
  event: SQSEvent,
  context: Context,
) => Promise<SQSBatchResponse | undefined | void>;

export interface EventSourceMapping {
  readonly functionName: string;
  readonly queueUrl: string;
  readonly queueArn: string;
  /** A module runs in an environment that is stopped at the timeout; a function runs in this process. */
  readonly handler: SqsHandler | HandlerModule;
  /** @default 10 */
  readonly batchSize?: number;
  /** @default 0 */
  readonly maximumBatchingWindowSeconds?: number;
  /** @default true */
  readonly reportBatchItemFailures?: boolean;
  /** Concurrent invocations for this source (Lambda's MaximumConcurrency). @default 2 */
  readonly maximumConcurrency?: number;
  /** The function's timeout. @default 30 */
  readonly timeoutSeconds?: number;
}

export interface BatchOutcome {
  readonly functionName: string;
  readonly records: readonly SQSRecord[];
  /** Message ids kept on the queue (reported failures, or the whole batch when the handler threw). */
  readonly failed: readonly string[];
  readonly error?: Error;
  /** The invocation reached the function's timeout; `stopped` when its code was stopped with it. */
  readonly timedOut?: { readonly timeoutSeconds: number; readonly stopped: boolean };
  readonly ms: number;
}

export interface RunningEventSource {
  stop(): Promise<void>;
}

function toRecord(message: Message, queueArn: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? '',
      SenderId: attributes.SenderId ?? '',
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? '',
      ...(attributes.MessageGroupId ? { MessageGroupId: attributes.MessageGroupId } : {}),
      ...(attributes.MessageDeduplicationId
        ? { MessageDeduplicationId: attributes.MessageDeduplicationId }
        : {}),
      ...(attributes.SequenceNumber ? { SequenceNumber: attributes.SequenceNumber } : {}),
      ...(attributes.AWSTraceHeader ? { AWSTraceHeader: attributes.AWSTraceHeader } : {}),
      ...(attributes.DeadLetterQueueSourceArn
        ? { DeadLetterQueueSourceArn: attributes.DeadLetterQueueSourceArn }
        : {}),
    },
    messageAttributes: Object.fromEntries(
      Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
        name,
        {
          dataType: value.DataType ?? 'String',
          ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
          ...(value.BinaryValue !== undefined
            ? { binaryValue: Buffer.from(value.BinaryValue).toString('base64') }
            : {}),
          stringListValues: [],
          binaryListValues: [],
        },
      ]),
    ),
    md5OfBody: message.MD5OfBody ?? '',
    ...(message.MD5OfMessageAttributes
      ? { md5OfMessageAttributes: message.MD5OfMessageAttributes }
      : {}),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: 'us-east-1',
  } as SQSRecord;
}

/** Which message ids to keep, from the handler's answer, as Lambda reads it. */
function failedIds(
  records: readonly SQSRecord[],
  response: SQSBatchResponse | undefined | void,
  report: boolean,
): string[] {
  if (!report || !response || !Array.isArray(response.batchItemFailures)) return [];
  const ids = new Set(records.map((r) => r.messageId));
  const failures = response.batchItemFailures.map((f) => f?.itemIdentifier);
  // An empty or unknown identifier makes Lambda treat the whole batch as failed.
  if (failures.some((id) => typeof id !== 'string' || !ids.has(id))) return [...ids];
  return failures as string[];
}

export function startEventSource(
  sqs: SQSClient,
  mapping: EventSourceMapping,
  onBatch?: (outcome: BatchOutcome) => void,
): RunningEventSource {
  let running = true;
  const abort = new AbortController();
  const batchSize = mapping.batchSize ?? 10;
  const window = (mapping.maximumBatchingWindowSeconds ?? 0) * 1000;

  async function receiveBatch(): Promise<Message[]> {
    const messages: Message[] = [];
    const deadline = Date.now() + window;
    do {
      const remaining = deadline - Date.now();
      const wait =
        messages.length === 0 ? 20 : Math.max(0, Math.min(20, Math.floor(remaining / 1000)));
      const answer = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: mapping.queueUrl,
          MaxNumberOfMessages: Math.min(10, batchSize - messages.length),
          WaitTimeSeconds: wait,
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
        { abortSignal: abort.signal },
      );
      messages.push(...(answer.Messages ?? []));
      if (messages.length === 0 && !running) break;
    } while (running && messages.length < batchSize && window > 0 && Date.now() < deadline);
    return messages;
  }

  type Environment = ExecutionEnvironment<SQSEvent, Awaited<ReturnType<SqsHandler>>>;
  const environments: Environment[] = [];

  async function poll(): Promise<void> {
    const handler = mapping.handler;
    const environment: Environment = isHandlerModule(handler)
      ? threadEnvironment(handler)
      : inProcessEnvironment(handler);
    environments.push(environment);
    while (running) {
      let messages: Message[];
      try {
        messages = await receiveBatch();
      } catch {
        // The queue endpoint went away or stopped: back off, as the Lambda poller does.
        if (!running) return;
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      if (messages.length === 0) continue;
      const records = messages.map((m) => toRecord(m, mapping.queueArn));
      const started = performance.now();
      const timeoutMs = (mapping.timeoutSeconds ?? 30) * 1000;
      let failed: string[];
      let error: Error | undefined;
      try {
        const response = await environment.invoke(
          { Records: records },
          mapping.functionName,
          timeoutMs,
        );
        failed = failedIds(records, response, mapping.reportBatchItemFailures ?? true);
      } catch (thrown) {
        // As in Lambda, a failed or timed-out invocation deletes nothing: the whole batch
        // comes back once its visibility timeout has passed.
        error = thrown as Error;
        failed = records.map((r) => r.messageId);
      }
      const done = records.filter((r) => !failed.includes(r.messageId));
      for (let i = 0; i < done.length; i += 10) {
        await sqs
          .send(
            new DeleteMessageBatchCommand({
              QueueUrl: mapping.queueUrl,
              Entries: done.slice(i, i + 10).map((r) => ({
                Id: r.messageId.replace(/[^A-Za-z0-9_-]/g, '_'),
                ReceiptHandle: r.receiptHandle,
              })),
            }),
          )
          .catch(() => undefined);
      }
      onBatch?.({
        functionName: mapping.functionName,
        records,
        failed,
        ...(error ? { error } : {}),
        ...(error instanceof InvocationTimedOut
          ? { timedOut: { timeoutSeconds: timeoutMs / 1000, stopped: error.stopped } }
          : {}),
        ms: performance.now() - started,
      });
    }
  }

  const pollers = Array.from({ length: Math.max(1, mapping.maximumConcurrency ?? 2) }, () =>
    poll(),
  );
  return {
    stop: async () => {
      running = false;
      abort.abort();
      await Promise.allSettled(pollers);
      await Promise.allSettled(environments.map((e) => e.dispose()));
    },
  };
}
