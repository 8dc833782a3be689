/**
 * An SQS-compatible endpoint speaking the AWS JSON 1.0 protocol of today's
 * @aws-sdk/client-sqs (`X-Amz-Target: AmazonSQS.<Action>`). Point the SDK at it with
 * `endpoint` or AWS_ENDPOINT_URL_SQS. Queue semantics live in store.ts.
 */
import { createServer, type Server } from 'node:http';
import {
  AwsError,
  invalidParameter,
  parseAwsJsonRequest,
  readInteger,
  readList,
  readMap,
  readString,
  readStringList,
  sendAwsError,
  sendAwsJson,
} from '../aws-json.ts';
import { close, listen } from '../listen.ts';
import {
  ACCOUNT,
  type MessageAttribute,
  md5,
  md5OfAttributes,
  type QueueState,
  QueueStore,
  queueArn,
  resourceNotFound,
  type StoredMessage,
  senderId,
} from './store.ts';

const CONTENT_TYPE = 'application/x-amz-json-1.0';
const NAMESPACE = 'com.amazonaws.sqs#';

export interface LocalSqs {
  readonly url: string;
  readonly port: number;
  readonly store: QueueStore;
  queueUrl(name: string): string;
  stop(): Promise<void>;
}

function messageAttributes(input: unknown): Record<string, MessageAttribute> {
  if (input === undefined || input === null) return {};
  if (typeof input !== 'object' || Array.isArray(input))
    throw invalidParameter('MessageAttributes must be a map.');
  const entries = Object.entries(input as Record<string, unknown>);
  if (entries.length > 10)
    throw invalidParameter(
      `Number of message attributes [${entries.length}] exceeds the allowed maximum [10].`,
    );
  const result: Record<string, MessageAttribute> = {};
  for (const [name, raw] of entries) {
    const value = raw as { DataType?: unknown; StringValue?: unknown; BinaryValue?: unknown };
    if (
      !/^[A-Za-z0-9_.-]{1,256}$/.test(name) ||
      name.startsWith('AWS.') ||
      name.startsWith('Amazon.')
    ) {
      throw invalidParameter(`Message attribute name '${name}' is invalid.`);
    }
    if (
      typeof value?.DataType !== 'string' ||
      !/^(String|Number|Binary)(\..+)?$/.test(value.DataType)
    ) {
      throw invalidParameter(
        `The type of message (user) attribute '${name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String.`,
      );
    }
    const binary = value.DataType.startsWith('Binary');
    const content = binary ? value.BinaryValue : value.StringValue;
    if (typeof content !== 'string' || content === '') {
      throw invalidParameter(
        `Message (user) attribute '${name}' must contain a non-empty message attribute value for message attribute type '${value.DataType}'.`,
      );
    }
    // Buffer.from(…, 'base64') skips what it cannot read, so bad input would lose bytes silently.
    if (binary && !(content.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(content))) {
      throw invalidParameter(
        `The binary value of message (user) attribute '${name}' is not valid base64.`,
      );
    }
    if (value.DataType.startsWith('Number') && !Number.isFinite(Number(content))) {
      throw invalidParameter(
        `Can't cast the value of message (user) attribute '${name}' to a number.`,
      );
    }
    result[name] = binary
      ? { DataType: value.DataType, BinaryValue: content }
      : { DataType: value.DataType, StringValue: content };
  }
  return result;
}

function readVisibilityTimeout(input: Record<string, unknown>): number {
  const seconds = readInteger(input, 'VisibilityTimeout', 0, 43_200);
  if (seconds === undefined)
    throw new AwsError(
      'MissingParameter',
      'The request must contain the parameter VisibilityTimeout.',
      400,
      'MissingParameter;Sender',
    );
  return seconds;
}

function checkBatch(entries: unknown[] | undefined, kind: string): Record<string, unknown>[] {
  if (!entries || entries.length === 0) {
    throw new AwsError(
      'EmptyBatchRequest',
      'There should be at least one entry in the request.',
      400,
      'AWS.SimpleQueueService.EmptyBatchRequest;Sender',
    );
  }
  if (entries.length > 10) {
    throw new AwsError(
      'TooManyEntriesInBatchRequest',
      `Maximum number of entries per request are 10. You have sent ${entries.length}.`,
      400,
      'AWS.SimpleQueueService.TooManyEntriesInBatchRequest;Sender',
    );
  }
  const ids = new Set<string>();
  for (const entry of entries as Record<string, unknown>[]) {
    const id = entry?.Id;
    if (typeof id !== 'string' || !/^[A-Za-z0-9_-]{1,80}$/.test(id)) {
      throw new AwsError(
        'InvalidBatchEntryId',
        `A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long. (${kind})`,
        400,
        'AWS.SimpleQueueService.InvalidBatchEntryId;Sender',
      );
    }
    if (ids.has(id))
      throw new AwsError(
        'BatchEntryIdsNotDistinct',
        `Id ${id} repeated.`,
        400,
        'AWS.SimpleQueueService.BatchEntryIdsNotDistinct;Sender',
      );
    ids.add(id);
  }
  return entries as Record<string, unknown>[];
}

const SYSTEM_ATTRIBUTES = [
  'ApproximateReceiveCount',
  'ApproximateFirstReceiveTimestamp',
  'SentTimestamp',
  'SenderId',
  'MessageGroupId',
  'MessageDeduplicationId',
  'SequenceNumber',
  'DeadLetterQueueSourceArn',
  'AWSTraceHeader',
];

function systemAttributes(
  message: StoredMessage,
  wanted: Set<string>,
): Record<string, string> | undefined {
  const all = wanted.has('All');
  const values: Record<string, string | undefined> = {
    ApproximateReceiveCount: String(message.receiveCount),
    ApproximateFirstReceiveTimestamp:
      message.firstReceiveAt === undefined ? undefined : String(message.firstReceiveAt),
    SentTimestamp: String(message.sentAt),
    SenderId: senderId(),
    MessageGroupId: message.groupId,
    MessageDeduplicationId: message.dedupId,
    SequenceNumber: message.sequenceNumber,
    DeadLetterQueueSourceArn: message.deadLetterSourceArn,
    AWSTraceHeader: message.traceHeader,
  };
  const result: Record<string, string> = {};
  for (const name of SYSTEM_ATTRIBUTES) {
    const value = values[name];
    if (value !== undefined && (all || wanted.has(name))) result[name] = value;
  }
  return Object.keys(result).length > 0 ? result : undefined;
}

function selectAttributes(
  attributes: Record<string, MessageAttribute>,
  wanted: string[],
): Record<string, MessageAttribute> {
  const result: Record<string, MessageAttribute> = {};
  for (const [name, value] of Object.entries(attributes)) {
    const match = wanted.some(
      (w) =>
        w === 'All' ||
        w === '.*' ||
        w === name ||
        (w.endsWith('.*') && name.startsWith(w.slice(0, -1))),
    );
    if (match) result[name] = value;
  }
  return result;
}

export async function startLocalSqs(
  options: {
    port?: number;
    host?: string;
    dataDir?: string;
    /** How many times faster than real time the queues' timers run. @default 1 */
    timeScale?: number;
  } = {},
): Promise<LocalSqs> {
  const store = new QueueStore({
    dataDir: options.dataDir,
    ...(options.timeScale ? { timeScale: options.timeScale } : {}),
  });
  const host = options.host ?? '127.0.0.1';
  let base = '';
  const queueUrl = (name: string) => `${base}/${ACCOUNT}/${name}`;
  const queueOf = (input: Record<string, unknown>) =>
    store.queueByUrl(readString(input, 'QueueUrl', true));

  function queueAttributes(queue: QueueState, names: string[]): Record<string, string> {
    const counts = store.counts(queue);
    const all: Record<string, string> = {
      ...queue.attributes,
      QueueArn: queueArn(queue.name),
      ApproximateNumberOfMessages: String(counts.visible),
      ApproximateNumberOfMessagesNotVisible: String(counts.inFlight),
      ApproximateNumberOfMessagesDelayed: String(counts.delayed),
      CreatedTimestamp: String(Math.floor(queue.createdAt / 1000)),
      LastModifiedTimestamp: String(Math.floor(queue.modifiedAt / 1000)),
      ...(queue.fifo
        ? {
            FifoQueue: 'true',
            ContentBasedDeduplication: queue.attributes.ContentBasedDeduplication ?? 'false',
          }
        : {}),
    };
    if (names.length === 0) return {};
    if (names.includes('All')) return all;
    const result: Record<string, string> = {};
    for (const name of names) {
      if (
        !(name in all) &&
        ![
          'Policy',
          'RedrivePolicy',
          'RedriveAllowPolicy',
          'KmsMasterKeyId',
          'SqsManagedSseEnabled',
          'KmsDataKeyReusePeriodSeconds',
          'DeduplicationScope',
          'FifoThroughputLimit',
          'ContentBasedDeduplication',
          'FifoQueue',
        ].includes(name)
      ) {
        throw new AwsError(
          'InvalidAttributeName',
          `Unknown Attribute ${name}.`,
          400,
          'InvalidAttributeName;Sender',
        );
      }
      if (all[name] !== undefined) result[name] = all[name] as string;
    }
    return result;
  }

  async function sendOne(queue: QueueState, entry: Record<string, unknown>) {
    const body = readString(entry, 'MessageBody', true);
    const delay = readInteger(entry, 'DelaySeconds', 0, 900);
    const attributes = messageAttributes(entry.MessageAttributes);
    const trace = (
      entry.MessageSystemAttributes as { AWSTraceHeader?: { StringValue?: string } } | undefined
    )?.AWSTraceHeader?.StringValue;
    const { message } = await store.send(queue, {
      body,
      ...(delay !== undefined ? { delaySeconds: delay } : {}),
      attributes,
      groupId: readString(entry, 'MessageGroupId'),
      dedupId: readString(entry, 'MessageDeduplicationId'),
      ...(trace ? { traceHeader: trace } : {}),
    });
    const md5Attributes = md5OfAttributes(attributes);
    return {
      MessageId: message.id,
      MD5OfMessageBody: md5(body),
      ...(md5Attributes ? { MD5OfMessageAttributes: md5Attributes } : {}),
      ...(message.sequenceNumber ? { SequenceNumber: message.sequenceNumber } : {}),
    };
  }

  /** ReceiveMessage; `gone` aborts when the client hangs up, so a dead poll takes nothing. */
  async function receive(input: Record<string, unknown>, gone: AbortSignal) {
    const queue = queueOf(input);
    const max = readInteger(input, 'MaxNumberOfMessages', 1, 10) ?? 1;
    const visibilityTimeout = readInteger(input, 'VisibilityTimeout', 0, 43_200);
    const wait =
      readInteger(input, 'WaitTimeSeconds', 0, 20) ??
      Number(queue.attributes.ReceiveMessageWaitTimeSeconds);
    const wanted = new Set([
      ...(readStringList(input, 'AttributeNames') ?? []),
      ...(readStringList(input, 'MessageSystemAttributeNames') ?? []),
    ]);
    const attributeNames = readStringList(input, 'MessageAttributeNames') ?? [];
    const deadline = Date.now() + wait * 1000;
    for (;;) {
      if (gone.aborted) return { Messages: [] };
      const received = await store.receive(queue, {
        max,
        ...(visibilityTimeout !== undefined ? { visibilityTimeout } : {}),
      });
      if (received.length > 0 || Date.now() >= deadline || !store.queues.has(queue.name)) {
        return {
          Messages: received.map(({ message, receipt }) => {
            const selected = selectAttributes(message.attributes, attributeNames);
            const md5Attributes = md5OfAttributes(selected);
            const system = systemAttributes(message, wanted);
            return {
              MessageId: message.id,
              ReceiptHandle: receipt,
              MD5OfBody: md5(message.body),
              Body: message.body,
              ...(system ? { Attributes: system } : {}),
              ...(md5Attributes
                ? { MD5OfMessageAttributes: md5Attributes, MessageAttributes: selected }
                : {}),
            };
          }),
        };
      }
      // Long polling: wake on a change to this queue, on the client leaving, or re-check as
      // invisible messages return.
      await new Promise<void>((resolve) => {
        const wake = () => {
          store.events.off('change', changed);
          gone.removeEventListener('abort', wake);
          clearTimeout(timer);
          resolve();
        };
        const changed = (name: string) => {
          if (name === queue.name) wake();
        };
        store.events.on('change', changed);
        gone.addEventListener('abort', wake);
        const timer = setTimeout(wake, Math.max(0, Math.min(250, deadline - Date.now())));
      });
    }
  }

  async function batch<T>(
    entries: Record<string, unknown>[],
    work: (entry: Record<string, unknown>) => Promise<T>,
  ) {
    const Successful: (T & { Id: string })[] = [];
    const Failed: { Id: string; SenderFault: boolean; Code: string; Message: string }[] = [];
    for (const entry of entries) {
      try {
        Successful.push({ Id: String(entry.Id), ...(await work(entry)) });
      } catch (error) {
        if (!(error instanceof AwsError)) throw error;
        Failed.push({
          Id: String(entry.Id),
          SenderFault: error.status < 500,
          Code: error.code,
          Message: error.message,
        });
      }
    }
    return { Successful, Failed };
  }

  const actions: Record<
    string,
    (input: Record<string, unknown>, gone: AbortSignal) => Promise<unknown>
  > = {
    async CreateQueue(input) {
      const name = readString(input, 'QueueName', true);
      const attributes = readMap(input, 'Attributes') ?? {};
      const queue = await store.createQueue(name, attributes);
      return { QueueUrl: queueUrl(queue.name) };
    },
    async GetQueueUrl(input) {
      const name = readString(input, 'QueueName', true);
      if (!store.queues.has(name))
        throw new AwsError(
          'QueueDoesNotExist',
          'The specified queue does not exist.',
          400,
          'AWS.SimpleQueueService.NonExistentQueue;Sender',
        );
      return { QueueUrl: queueUrl(name) };
    },
    async ListQueues(input) {
      const prefix = readString(input, 'QueueNamePrefix') ?? '';
      const max = readInteger(input, 'MaxResults', 1, 1000);
      const names = [...store.queues.keys()].filter((n) => n.startsWith(prefix)).sort();
      const token = readString(input, 'NextToken') ?? '0';
      if (!/^\d+$/.test(token)) throw invalidParameter('Invalid NextToken value.');
      const start = Number(token);
      const page = max ? names.slice(start, start + max) : names;
      return {
        QueueUrls: page.map(queueUrl),
        ...(max && start + max < names.length ? { NextToken: String(start + max) } : {}),
      };
    },
    async DeleteQueue(input) {
      await store.deleteQueue(queueOf(input));
      return {};
    },
    async GetQueueAttributes(input) {
      return {
        Attributes: queueAttributes(queueOf(input), readStringList(input, 'AttributeNames') ?? []),
      };
    },
    async SetQueueAttributes(input) {
      await store.setAttributes(queueOf(input), readMap(input, 'Attributes') ?? {});
      return {};
    },
    async SendMessage(input) {
      return sendOne(queueOf(input), input);
    },
    async SendMessageBatch(input) {
      const queue = queueOf(input);
      const entries = checkBatch(readList(input, 'Entries'), 'SendMessageBatch');
      const total = entries.reduce(
        (size, e) => size + Buffer.byteLength(String(e.MessageBody ?? '')),
        0,
      );
      if (total > Number(queue.attributes.MaximumMessageSize)) {
        throw new AwsError(
          'BatchRequestTooLong',
          `Batch requests cannot be longer than ${queue.attributes.MaximumMessageSize} bytes. You have sent ${total} bytes.`,
          400,
          'AWS.SimpleQueueService.BatchRequestTooLong;Sender',
        );
      }
      return batch(entries, (entry) => sendOne(queue, entry));
    },
    ReceiveMessage: receive,
    async DeleteMessage(input) {
      await store.delete(queueOf(input), readString(input, 'ReceiptHandle', true));
      return {};
    },
    async DeleteMessageBatch(input) {
      const queue = queueOf(input);
      return batch(checkBatch(readList(input, 'Entries'), 'DeleteMessageBatch'), async (entry) => {
        await store.delete(queue, readString(entry, 'ReceiptHandle', true));
        return {};
      });
    },
    async ChangeMessageVisibility(input) {
      const seconds = readVisibilityTimeout(input);
      await store.changeVisibility(
        queueOf(input),
        readString(input, 'ReceiptHandle', true),
        seconds,
      );
      return {};
    },
    async ChangeMessageVisibilityBatch(input) {
      const queue = queueOf(input);
      return batch(
        checkBatch(readList(input, 'Entries'), 'ChangeMessageVisibilityBatch'),
        async (entry) => {
          await store.changeVisibility(
            queue,
            readString(entry, 'ReceiptHandle', true),
            readVisibilityTimeout(entry),
          );
          return {};
        },
      );
    },
    async PurgeQueue(input) {
      await store.purge(queueOf(input));
      return {};
    },
    async StartMessageMoveTask(input) {
      const source = store.queueByArn(readString(input, 'SourceArn', true));
      if (!source)
        throw resourceNotFound(
          'The resource that you specified for the SourceArn parameter does not exist.',
        );
      const task = store.startMoveTask(
        source,
        readString(input, 'DestinationArn'),
        readInteger(input, 'MaxNumberOfMessagesPerSecond', 1, 500),
      );
      return { TaskHandle: task.handle };
    },
    async CancelMessageMoveTask(input) {
      const handle = readString(input, 'TaskHandle', true);
      const task = store.tasks.find((t) => t.handle === handle);
      if (task?.status !== 'RUNNING')
        throw resourceNotFound('The task does not exist or is not running.');
      task.status = 'CANCELLING';
      return { ApproximateNumberOfMessagesMoved: task.moved };
    },
    async ListMessageMoveTasks(input) {
      const sourceArn = readString(input, 'SourceArn', true);
      if (!store.queueByArn(sourceArn))
        throw resourceNotFound(
          'The resource that you specified for the SourceArn parameter does not exist.',
        );
      const max = readInteger(input, 'MaxResults', 1, 10) ?? 1;
      return {
        Results: store.tasks
          .filter((t) => t.sourceArn === sourceArn)
          .slice(0, max)
          .map((t) => ({
            ...(t.status === 'RUNNING' ? { TaskHandle: t.handle } : {}),
            Status: t.status,
            SourceArn: t.sourceArn,
            ...(t.destinationArn ? { DestinationArn: t.destinationArn } : {}),
            ...(t.maxPerSecond ? { MaxNumberOfMessagesPerSecond: t.maxPerSecond } : {}),
            ApproximateNumberOfMessagesMoved: t.moved,
            ApproximateNumberOfMessagesToMove: t.toMove,
            ...(t.failureReason ? { FailureReason: t.failureReason } : {}),
            StartedTimestamp: t.startedAt,
          })),
      };
    },
  };

  const server: Server = createServer(async (req, res) => {
    const gone = new AbortController();
    res.once('close', () => gone.abort());
    try {
      if (req.method === 'GET' && req.url === '/_health')
        return sendAwsJson(res, 200, { queues: store.queues.size }, 'application/json');
      // 256 KiB per message, ten per batch, plus attributes: 8 MiB is beyond any valid request.
      const { action, input } = await parseAwsJsonRequest(req, 'AmazonSQS', 8 * 1024 * 1024);
      const handler = actions[action];
      if (!handler) {
        throw new AwsError(
          'UnknownOperationException',
          `Unknown operation ${action}`,
          400,
          undefined,
          'com.amazon.coral.service#',
        );
      }
      sendAwsJson(res, 200, await handler(input, gone.signal), CONTENT_TYPE);
    } catch (error) {
      if (error instanceof AwsError) {
        if (!error.namespace) Object.assign(error, { namespace: NAMESPACE });
        return sendAwsError(res, error, CONTENT_TYPE);
      }
      sendAwsError(
        res,
        new AwsError(
          'InternalFailure',
          `The request processing has failed: ${(error as Error).message}`,
          500,
          undefined,
          NAMESPACE,
        ),
        CONTENT_TYPE,
      );
    }
  });
  server.keepAliveTimeout = 65_000;
  const port = await listen(server, options.port ?? 0, host);
  base = `http://${host}:${port}`;
  return {
    url: base,
    port,
    store,
    queueUrl,
    stop: async () => {
      store.close();
      await close(server);
    },
  };
}
