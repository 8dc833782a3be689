/**
 * Queue semantics of the local SQS: visibility, delays, retention, receive counts, redrive to
 * a dead-letter queue after maxReceiveCount, FIFO groups held while a message is in flight,
 * five-minute deduplication, and message move tasks. Protocol handling is in server.ts.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { AwsError, invalidParameter } from '../aws-json.ts';
import { Journal, type JournalRecord } from './journal.ts';

export const ACCOUNT = '000000000000';
export const REGION = 'us-east-1';
const SENDER_ID = 'AIDASPINELOCALSENDER';

export interface MessageAttribute {
  DataType: string;
  StringValue?: string;
  BinaryValue?: string;
}

export interface StoredMessage {
  id: string;
  body: string;
  attributes: Record<string, MessageAttribute>;
  sentAt: number;
  visibleAt: number;
  receiveCount: number;
  firstReceiveAt?: number;
  groupId?: string;
  dedupId?: string;
  sequenceNumber?: string;
  traceHeader?: string;
  deadLetterSourceArn?: string;
  /** The current receipt handle's nonce; older handles no longer delete. */
  nonce?: string;
}

export interface QueueState {
  name: string;
  fifo: boolean;
  attributes: Record<string, string>;
  createdAt: number;
  modifiedAt: number;
  messages: Map<string, StoredMessage>;
  dedup: Map<string, { messageId: string; sequenceNumber?: string; expires: number }>;
  sequence: number;
  lastPurge?: number;
}

export interface MoveTask {
  handle: string;
  status: 'RUNNING' | 'COMPLETED' | 'CANCELLING' | 'CANCELLED' | 'FAILED';
  sourceArn: string;
  destinationArn?: string;
  maxPerSecond?: number;
  moved: number;
  toMove: number;
  startedAt: number;
  failureReason?: string;
}

const DEFAULTS: Record<string, string> = {
  VisibilityTimeout: '30',
  MessageRetentionPeriod: '345600',
  DelaySeconds: '0',
  MaximumMessageSize: '262144',
  ReceiveMessageWaitTimeSeconds: '0',
};

const SETTABLE = new Set([
  'VisibilityTimeout',
  'MessageRetentionPeriod',
  'DelaySeconds',
  'MaximumMessageSize',
  'ReceiveMessageWaitTimeSeconds',
  'RedrivePolicy',
  'RedriveAllowPolicy',
  'FifoQueue',
  'ContentBasedDeduplication',
  'KmsMasterKeyId',
  'KmsDataKeyReusePeriodSeconds',
  'SqsManagedSseEnabled',
  'DeduplicationScope',
  'FifoThroughputLimit',
  'Policy',
]);

const LIMITS: Record<string, [number, number]> = {
  VisibilityTimeout: [0, 43_200],
  MessageRetentionPeriod: [60, 1_209_600],
  DelaySeconds: [0, 900],
  MaximumMessageSize: [1024, 1_048_576],
  ReceiveMessageWaitTimeSeconds: [0, 20],
};

export const resourceNotFound = (message: string) =>
  new AwsError('ResourceNotFoundException', message, 404, 'ResourceNotFoundException;Sender');

export const queueArn = (name: string) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`;
const nameFromArn = (arn: string) => arn.split(':').at(-1) ?? '';

export function md5(text: string | Buffer): string {
  return createHash('md5').update(text).digest('hex');
}

/** AWS's MD5 of message attributes: names sorted, each field length-prefixed (big-endian). */
export function md5OfAttributes(attributes: Record<string, MessageAttribute>): string | undefined {
  const names = Object.keys(attributes).sort();
  if (names.length === 0) return undefined;
  const parts: Buffer[] = [];
  const withLength = (bytes: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    parts.push(length, bytes);
  };
  for (const name of names) {
    const attribute = attributes[name] as MessageAttribute;
    withLength(Buffer.from(name, 'utf8'));
    withLength(Buffer.from(attribute.DataType, 'utf8'));
    const binary = attribute.DataType.startsWith('Binary');
    parts.push(Buffer.from([binary ? 2 : 1]));
    withLength(
      binary
        ? Buffer.from(attribute.BinaryValue ?? '', 'base64')
        : Buffer.from(attribute.StringValue ?? '', 'utf8'),
    );
  }
  return md5(Buffer.concat(parts));
}

function attributesSize(attributes: Record<string, MessageAttribute>): number {
  return Object.entries(attributes).reduce(
    (size, [name, a]) =>
      size +
      Buffer.byteLength(name) +
      Buffer.byteLength(a.DataType) +
      (a.StringValue !== undefined
        ? Buffer.byteLength(a.StringValue)
        : Buffer.from(a.BinaryValue ?? '', 'base64').length),
    0,
  );
}

export interface ReceiveOptions {
  max: number;
  visibilityTimeout?: number;
}

export interface SendInput {
  body: string;
  delaySeconds?: number;
  attributes?: Record<string, MessageAttribute>;
  groupId?: string;
  dedupId?: string;
  traceHeader?: string;
}

export class QueueStore {
  readonly queues = new Map<string, QueueState>();
  readonly tasks: MoveTask[] = [];
  /** `change` is emitted with the queue name whenever messages may have become available. */
  readonly events = new EventEmitter();
  private journal: Journal | undefined;
  private readonly now: () => number;
  /** Milliseconds of real time in one second of a queue's timers (visibility, delay, retention). */
  private readonly second: number;

  constructor(
    options: {
      dataDir?: string;
      now?: () => number;
      /**
       * How many times faster than real time the queues' timers run, for outage drills on a
       * compressed clock: at 600, a visibility timeout of 900 s lasts 1.5 s. @default 1
       */
      timeScale?: number;
    } = {},
  ) {
    this.events.setMaxListeners(0);
    this.now = options.now ?? Date.now;
    this.second = 1000 / (options.timeScale ?? 1);
    if (options.dataDir) {
      this.journal = Journal.open(
        options.dataDir,
        (snapshot) => this.load(snapshot as SnapshotShape),
        (record) => this.replay(record),
      );
      this.journal.compact(this.snapshot());
    }
  }

  private record(record: JournalRecord): Promise<void> {
    if (!this.journal) return Promise.resolve();
    const written = this.journal.append(record);
    if (this.journal.wantsCompaction)
      void written.then(() => this.journal?.compact(this.snapshot()));
    return written;
  }

  close(): void {
    this.journal?.close();
    for (const task of this.tasks) if (task.status === 'RUNNING') task.status = 'CANCELLED';
  }

  // ---- queues --------------------------------------------------------------------------------

  queueByUrl(url: string): QueueState {
    const name = decodeURIComponent(url.split('/').filter(Boolean).at(-1) ?? '');
    const queue = this.queues.get(name);
    if (!queue)
      throw new AwsError(
        'QueueDoesNotExist',
        'The specified queue does not exist.',
        400,
        'AWS.SimpleQueueService.NonExistentQueue;Sender',
      );
    return queue;
  }

  queueByArn(arn: string): QueueState | undefined {
    return this.queues.get(nameFromArn(arn));
  }

  private validateAttributes(
    name: string,
    fifo: boolean,
    attributes: Record<string, unknown>,
  ): Record<string, string> {
    const result: Record<string, string> = {};
    for (const [key, raw] of Object.entries(attributes)) {
      if (!SETTABLE.has(key))
        throw new AwsError(
          'InvalidAttributeName',
          `Unknown Attribute ${key}.`,
          400,
          'InvalidAttributeName;Sender',
        );
      const value = String(raw);
      const limits = LIMITS[key];
      if (
        limits &&
        (!/^\d+$/.test(value) || Number(value) < limits[0] || Number(value) > limits[1])
      ) {
        throw new AwsError(
          'InvalidAttributeValue',
          `Invalid value for the parameter ${key}. Reason: must be an integer between ${limits[0]} and ${limits[1]}.`,
          400,
          'InvalidAttributeValue;Sender',
        );
      }
      if (key === 'RedrivePolicy') {
        let policy: { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown } | null;
        try {
          policy = JSON.parse(value);
        } catch {
          policy = null;
        }
        // `null`, a number or a list parse as JSON too, but are no map.
        if (typeof policy !== 'object' || policy === null || Array.isArray(policy)) {
          throw new AwsError(
            'InvalidAttributeValue',
            'Invalid value for the parameter RedrivePolicy. Reason: Redrive policy is not a valid JSON map.',
            400,
            'InvalidAttributeValue;Sender',
          );
        }
        const count = Number(policy.maxReceiveCount);
        if (
          typeof policy.deadLetterTargetArn !== 'string' ||
          !policy.deadLetterTargetArn ||
          !Number.isInteger(count) ||
          count < 1 ||
          count > 1000
        ) {
          throw new AwsError(
            'InvalidAttributeValue',
            'Invalid value for the parameter RedrivePolicy. Reason: Redrive policy needs deadLetterTargetArn and maxReceiveCount between 1 and 1000.',
            400,
            'InvalidAttributeValue;Sender',
          );
        }
        const target = this.queueByArn(policy.deadLetterTargetArn);
        if (!target) {
          throw new AwsError(
            'InvalidAttributeValue',
            `Invalid value for the parameter RedrivePolicy. Reason: Dead letter target does not exist: ${policy.deadLetterTargetArn}.`,
            400,
            'InvalidAttributeValue;Sender',
          );
        }
        if (target.fifo !== fifo) {
          throw new AwsError(
            'InvalidAttributeValue',
            'Invalid value for the parameter RedrivePolicy. Reason: Dead-letter queue must be of the same type (FIFO or standard) as the source queue.',
            400,
            'InvalidAttributeValue;Sender',
          );
        }
        const allow = target.attributes.RedriveAllowPolicy
          ? (JSON.parse(target.attributes.RedriveAllowPolicy) as {
              redrivePermission?: string;
              sourceQueueArns?: string[];
            })
          : undefined;
        if (
          allow?.redrivePermission === 'denyAll' ||
          (allow?.redrivePermission === 'byQueue' &&
            !allow.sourceQueueArns?.includes(queueArn(name)))
        ) {
          throw new AwsError(
            'InvalidAttributeValue',
            `Invalid value for the parameter RedrivePolicy. Reason: Queue ${policy.deadLetterTargetArn} does not allow ${queueArn(name)} to use it as a dead-letter queue.`,
            400,
            'InvalidAttributeValue;Sender',
          );
        }
      }
      if (key === 'RedriveAllowPolicy') {
        try {
          const allow = JSON.parse(value) as { redrivePermission?: string };
          if (!['allowAll', 'denyAll', 'byQueue'].includes(String(allow.redrivePermission)))
            throw new Error();
        } catch {
          throw new AwsError(
            'InvalidAttributeValue',
            'Invalid value for the parameter RedriveAllowPolicy. Reason: redrivePermission must be allowAll, denyAll or byQueue.',
            400,
            'InvalidAttributeValue;Sender',
          );
        }
      }
      if (
        (key === 'FifoQueue' || key === 'ContentBasedDeduplication') &&
        !fifo &&
        value === 'true'
      ) {
        throw new AwsError(
          'InvalidAttributeName',
          `Unknown Attribute ${key}.`,
          400,
          'InvalidAttributeName;Sender',
        );
      }
      result[key] = value;
    }
    return result;
  }

  async createQueue(name: string, attributes: Record<string, unknown>): Promise<QueueState> {
    if (!/^[A-Za-z0-9_-]{1,80}(\.fifo)?$/.test(name)) {
      throw invalidParameter(
        'Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length',
      );
    }
    const fifo = attributes.FifoQueue === 'true' || attributes.FifoQueue === true;
    if (fifo !== name.endsWith('.fifo')) {
      throw invalidParameter(
        'The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.',
      );
    }
    const validated = this.validateAttributes(name, fifo, attributes);
    const existing = this.queues.get(name);
    if (existing) {
      for (const [key, value] of Object.entries(validated)) {
        if ((existing.attributes[key] ?? DEFAULTS[key]) !== value) {
          throw new AwsError(
            'QueueNameExists',
            `A queue already exists with the same name and a different value for attribute ${key}`,
            400,
            'QueueAlreadyExists;Sender',
          );
        }
      }
      return existing;
    }
    const now = this.now();
    const queue: QueueState = {
      name,
      fifo,
      attributes: { ...DEFAULTS, ...validated },
      createdAt: now,
      modifiedAt: now,
      messages: new Map(),
      dedup: new Map(),
      sequence: 0,
    };
    this.queues.set(name, queue);
    await this.record({ op: 'create', name, fifo, attributes: queue.attributes, at: now });
    return queue;
  }

  async setAttributes(queue: QueueState, attributes: Record<string, unknown>): Promise<void> {
    const validated = this.validateAttributes(queue.name, queue.fifo, attributes);
    if ('FifoQueue' in validated && validated.FifoQueue !== String(queue.fifo)) {
      throw new AwsError(
        'InvalidAttributeValue',
        'Invalid value for the parameter FifoQueue. Reason: the queue type cannot change.',
        400,
        'InvalidAttributeValue;Sender',
      );
    }
    Object.assign(queue.attributes, validated);
    queue.modifiedAt = this.now();
    await this.record({ op: 'attrs', name: queue.name, attributes: validated });
    this.events.emit('change', queue.name);
  }

  async deleteQueue(queue: QueueState): Promise<void> {
    this.queues.delete(queue.name);
    await this.record({ op: 'delete-queue', name: queue.name });
  }

  counts(queue: QueueState): { visible: number; inFlight: number; delayed: number } {
    const now = this.now();
    let visible = 0;
    let inFlight = 0;
    let delayed = 0;
    for (const m of queue.messages.values()) {
      if (m.visibleAt <= now) visible++;
      else if (m.receiveCount > 0 && m.nonce) inFlight++;
      else delayed++;
    }
    return { visible, inFlight, delayed };
  }

  // ---- messages -----------------------------------------------------------------------------

  async send(
    queue: QueueState,
    input: SendInput,
  ): Promise<{ message: StoredMessage; duplicate: boolean }> {
    const now = this.now();
    const attributes = input.attributes ?? {};
    const maximum = Number(queue.attributes.MaximumMessageSize);
    const size = Buffer.byteLength(input.body) + attributesSize(attributes);
    if (size > maximum) {
      throw invalidParameter(
        `One or more parameters are invalid. Reason: Message must be shorter than ${maximum} bytes.`,
      );
    }
    if (input.body.length === 0)
      throw new AwsError(
        'MissingParameter',
        'The request must contain the parameter MessageBody.',
        400,
        'MissingParameter;Sender',
      );
    // SQS refuses characters outside the XML character set.
    if (!isXmlText(input.body)) {
      throw new AwsError(
        'InvalidMessageContents',
        'Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF',
        400,
        'InvalidMessageContents;Sender',
      );
    }
    let dedupId: string | undefined;
    if (queue.fifo) {
      if (!input.groupId)
        throw new AwsError(
          'MissingParameter',
          'The request must contain the parameter MessageGroupId.',
          400,
          'MissingParameter;Sender',
        );
      if (input.delaySeconds)
        throw invalidParameter(
          'Value for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.',
        );
      dedupId =
        input.dedupId ??
        (queue.attributes.ContentBasedDeduplication === 'true'
          ? createHash('sha256').update(input.body).digest('hex')
          : undefined);
      if (!dedupId) {
        throw invalidParameter(
          'The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly',
        );
      }
      const seen = queue.dedup.get(dedupId);
      if (seen && seen.expires > now) {
        const original = queue.messages.get(seen.messageId);
        return {
          message: original ?? {
            id: seen.messageId,
            body: input.body,
            attributes,
            sentAt: now,
            visibleAt: now,
            receiveCount: 0,
            sequenceNumber: seen.sequenceNumber,
          },
          duplicate: true,
        };
      }
    } else if (input.groupId && !/^[\x21-\x7e]{1,128}$/.test(input.groupId)) {
      throw invalidParameter('Value for parameter MessageGroupId is invalid.');
    }
    const delay = input.delaySeconds ?? Number(queue.attributes.DelaySeconds);
    const message: StoredMessage = {
      id: randomUUID(),
      body: input.body,
      attributes,
      sentAt: now,
      visibleAt: now + delay * this.second,
      receiveCount: 0,
      ...(input.groupId ? { groupId: input.groupId } : {}),
      ...(dedupId ? { dedupId } : {}),
      ...(queue.fifo
        ? { sequenceNumber: String(10_000_000_000_000_000_000n + BigInt(++queue.sequence)) }
        : {}),
      ...(input.traceHeader ? { traceHeader: input.traceHeader } : {}),
    };
    this.insert(queue, message);
    await this.record({ op: 'send', q: queue.name, m: message });
    this.events.emit('change', queue.name);
    this.events.emit('sent', { queue: queue.name, message });
    return { message, duplicate: false };
  }

  private insert(queue: QueueState, message: StoredMessage): void {
    queue.messages.set(message.id, message);
    if (message.dedupId)
      queue.dedup.set(message.dedupId, {
        messageId: message.id,
        sequenceNumber: message.sequenceNumber,
        expires: message.sentAt + 5 * 60_000,
      });
  }

  private expire(queue: QueueState, now: number): void {
    const retention = Number(queue.attributes.MessageRetentionPeriod) * this.second;
    for (const message of queue.messages.values()) {
      if (message.sentAt + retention <= now) {
        queue.messages.delete(message.id);
        void this.record({ op: 'del', q: queue.name, id: message.id });
      }
    }
    for (const [id, entry] of queue.dedup) if (entry.expires <= now) queue.dedup.delete(id);
  }

  private redrivePolicy(
    queue: QueueState,
  ): { target: QueueState; maxReceiveCount: number } | undefined {
    if (!queue.attributes.RedrivePolicy) return undefined;
    const policy = JSON.parse(queue.attributes.RedrivePolicy) as {
      deadLetterTargetArn: string;
      maxReceiveCount: number | string;
    };
    const target = this.queueByArn(policy.deadLetterTargetArn);
    return target ? { target, maxReceiveCount: Number(policy.maxReceiveCount) } : undefined;
  }

  /**
   * Moves a message to another queue, keeping its id, body, attributes and group. A standard
   * queue's dead letter keeps its SentTimestamp, so DLQ retention counts from the first send;
   * a FIFO queue's restarts, as in SQS.
   */
  private async move(
    from: QueueState,
    to: QueueState,
    message: StoredMessage,
    sourceArn: string | undefined,
  ): Promise<void> {
    from.messages.delete(message.id);
    const now = this.now();
    const moved: StoredMessage = {
      ...message,
      sentAt: sourceArn !== undefined && !to.fifo ? message.sentAt : now,
      visibleAt: now,
      receiveCount: 0,
      firstReceiveAt: undefined,
      nonce: undefined,
      deadLetterSourceArn: sourceArn,
      ...(to.fifo
        ? { sequenceNumber: String(10_000_000_000_000_000_000n + BigInt(++to.sequence)) }
        : {}),
    };
    to.messages.set(moved.id, moved);
    await this.record({ op: 'move', from: from.name, to: to.name, m: moved });
    this.events.emit('change', to.name);
    this.events.emit('moved', { from: from.name, to: to.name, message: moved });
  }

  async receive(
    queue: QueueState,
    options: ReceiveOptions,
  ): Promise<{ message: StoredMessage; receipt: string }[]> {
    const now = this.now();
    this.expire(queue, now);
    const visibility =
      (options.visibilityTimeout ?? Number(queue.attributes.VisibilityTimeout)) * this.second;
    const redrive = this.redrivePolicy(queue);
    const chosen: StoredMessage[] = [];
    const blockedGroups = new Set<string>();
    if (queue.fifo) {
      for (const m of queue.messages.values())
        if (m.visibleAt > now && m.nonce && m.groupId) blockedGroups.add(m.groupId);
    }
    let servedGroup: string | undefined;
    for (const message of [...queue.messages.values()]) {
      if (chosen.length >= options.max) break;
      if (queue.fifo) {
        const group = message.groupId as string;
        if (blockedGroups.has(group)) continue;
        // One receive serves one group's messages in order, then the next group's.
        if (servedGroup !== undefined && servedGroup !== group && chosen.length > 0) {
          if (message.visibleAt > now) continue;
        }
      }
      if (message.visibleAt > now) {
        // A delayed or in-flight FIFO message holds back the rest of its group.
        if (queue.fifo && message.groupId) blockedGroups.add(message.groupId);
        continue;
      }
      if (redrive && message.receiveCount >= redrive.maxReceiveCount) {
        await this.move(queue, redrive.target, message, queueArn(queue.name));
        continue;
      }
      chosen.push(message);
      servedGroup = message.groupId;
    }
    const received: { message: StoredMessage; receipt: string }[] = [];
    for (const message of chosen) {
      message.receiveCount += 1;
      message.firstReceiveAt ??= now;
      message.visibleAt = now + visibility;
      message.nonce = randomBytes(8).toString('hex');
      received.push({
        message,
        receipt: Buffer.from(
          JSON.stringify({ q: queue.name, m: message.id, n: message.nonce }),
        ).toString('base64url'),
      });
    }
    if (received.length > 0) {
      await this.record({
        op: 'recv',
        q: queue.name,
        ids: received.map((r) => [r.message.id, r.message.receiveCount, r.message.firstReceiveAt]),
      });
    }
    return received;
  }

  /** Decodes a receipt handle; throws ReceiptHandleIsInvalid when it is not one of ours for this queue. */
  private receipt(queue: QueueState, handle: string): { id: string; nonce: string } {
    try {
      const parsed = JSON.parse(Buffer.from(handle, 'base64url').toString('utf8')) as {
        q?: string;
        m?: string;
        n?: string;
      };
      if (parsed.q === queue.name && typeof parsed.m === 'string' && typeof parsed.n === 'string')
        return { id: parsed.m, nonce: parsed.n };
    } catch {
      // fall through
    }
    throw new AwsError(
      'ReceiptHandleIsInvalid',
      `The input receipt handle "${handle}" is not a valid receipt handle.`,
      404,
      'ReceiptHandleIsInvalid;Sender',
    );
  }

  async delete(queue: QueueState, handle: string): Promise<void> {
    const { id, nonce } = this.receipt(queue, handle);
    const message = queue.messages.get(id);
    // An older receipt handle is accepted but deletes nothing, as in SQS.
    if (!message || message.nonce !== nonce) return;
    queue.messages.delete(id);
    await this.record({ op: 'del', q: queue.name, id });
    this.events.emit('change', queue.name);
  }

  async changeVisibility(queue: QueueState, handle: string, seconds: number): Promise<void> {
    const { id, nonce } = this.receipt(queue, handle);
    const message = queue.messages.get(id);
    const now = this.now();
    if (!message || message.nonce !== nonce || message.visibleAt <= now) {
      throw new AwsError(
        'MessageNotInflight',
        'The message referred to is not in flight.',
        400,
        'AWS.SimpleQueueService.MessageNotInflight;Sender',
      );
    }
    message.visibleAt = now + seconds * this.second;
    if (seconds === 0) this.events.emit('change', queue.name);
  }

  async purge(queue: QueueState): Promise<void> {
    const now = this.now();
    if (queue.lastPurge && now - queue.lastPurge < 60_000) {
      throw new AwsError(
        'PurgeQueueInProgress',
        `Only one PurgeQueue operation on ${queue.name} is allowed every 60 seconds.`,
        403,
        'AWS.SimpleQueueService.PurgeQueueInProgress;Sender',
      );
    }
    queue.lastPurge = now;
    queue.messages.clear();
    await this.record({ op: 'purge', q: queue.name });
  }

  /** Moves messages from a dead-letter queue back to their sources (or a destination), at a rate. */
  startMoveTask(
    source: QueueState,
    destinationArn: string | undefined,
    maxPerSecond: number | undefined,
  ): MoveTask {
    const isDeadLetter = [...this.queues.values()].some(
      (q) => this.redrivePolicy(q)?.target === source,
    );
    if (!isDeadLetter) {
      throw new AwsError(
        'UnsupportedOperation',
        'Source queue must be configured as a Dead Letter Queue.',
        400,
        'AWS.SimpleQueueService.UnsupportedOperation;Sender',
      );
    }
    if (this.tasks.some((t) => t.sourceArn === queueArn(source.name) && t.status === 'RUNNING')) {
      throw new AwsError(
        'UnsupportedOperation',
        'There is already a task running. Only one active task is allowed for a source queue arn at a given time.',
        400,
        'AWS.SimpleQueueService.UnsupportedOperation;Sender',
      );
    }
    const destination = destinationArn ? this.queueByArn(destinationArn) : undefined;
    if (destinationArn && !destination)
      throw resourceNotFound(`Destination queue ${destinationArn} does not exist.`);
    const task: MoveTask = {
      handle: Buffer.from(JSON.stringify({ s: source.name, t: randomUUID() })).toString(
        'base64url',
      ),
      status: 'RUNNING',
      sourceArn: queueArn(source.name),
      ...(destinationArn ? { destinationArn } : {}),
      ...(maxPerSecond ? { maxPerSecond } : {}),
      moved: 0,
      toMove: source.messages.size,
      startedAt: this.now(),
    };
    this.tasks.unshift(task);
    void this.runMoveTask(task, source, destination);
    return task;
  }

  private async runMoveTask(
    task: MoveTask,
    source: QueueState,
    destination: QueueState | undefined,
  ): Promise<void> {
    const pause = task.maxPerSecond ? 1000 / task.maxPerSecond : 0;
    try {
      for (const message of [...source.messages.values()]) {
        if (task.status !== 'RUNNING') break;
        if (message.visibleAt > this.now() && message.nonce) continue;
        const target =
          destination ??
          (message.deadLetterSourceArn ? this.queueByArn(message.deadLetterSourceArn) : undefined);
        if (!target) continue;
        await this.move(source, target, message, undefined);
        task.moved++;
        if (pause) await new Promise((r) => setTimeout(r, pause));
      }
      task.status =
        task.status === 'CANCELLING'
          ? 'CANCELLED'
          : task.status === 'RUNNING'
            ? 'COMPLETED'
            : task.status;
    } catch (error) {
      task.status = 'FAILED';
      task.failureReason = (error as Error).message;
    }
  }

  // ---- persistence ---------------------------------------------------------------------------

  private snapshot(): SnapshotShape {
    return {
      queues: [...this.queues.values()].map((q) => ({
        ...q,
        messages: [...q.messages.values()],
        dedup: [...q.dedup.entries()],
      })),
    };
  }

  private load(snapshot: SnapshotShape): void {
    for (const q of snapshot.queues) {
      this.queues.set(q.name, {
        ...q,
        messages: new Map(
          q.messages.map((m) => [
            m.id,
            { ...m, nonce: undefined, visibleAt: Math.min(m.visibleAt, m.nonce ? 0 : m.visibleAt) },
          ]),
        ),
        dedup: new Map(q.dedup),
      });
    }
  }

  private replay(record: JournalRecord): void {
    const queue = (name: unknown) => this.queues.get(String(name));
    switch (record.op) {
      case 'create':
        this.queues.set(String(record.name), {
          name: String(record.name),
          fifo: Boolean(record.fifo),
          attributes: record.attributes as Record<string, string>,
          createdAt: Number(record.at),
          modifiedAt: Number(record.at),
          messages: new Map(),
          dedup: new Map(),
          sequence: 0,
        });
        break;
      case 'attrs':
        Object.assign(queue(record.name)?.attributes ?? {}, record.attributes);
        break;
      case 'delete-queue':
        this.queues.delete(String(record.name));
        break;
      case 'send': {
        const q = queue(record.q);
        const m = record.m as StoredMessage;
        if (q) {
          this.insert(q, m);
          if (m.sequenceNumber)
            q.sequence = Math.max(
              q.sequence,
              Number(BigInt(m.sequenceNumber) - 10_000_000_000_000_000_000n),
            );
        }
        break;
      }
      case 'recv':
        for (const [id, count, first] of record.ids as [string, number, number][]) {
          const m = queue(record.q)?.messages.get(id);
          if (m) Object.assign(m, { receiveCount: count, firstReceiveAt: first });
        }
        break;
      case 'del':
        queue(record.q)?.messages.delete(String(record.id));
        break;
      case 'move': {
        queue(record.from)?.messages.delete((record.m as StoredMessage).id);
        const to = queue(record.to);
        if (to) to.messages.set((record.m as StoredMessage).id, record.m as StoredMessage);
        break;
      }
      case 'purge':
        queue(record.q)?.messages.clear();
        break;
    }
  }
}

interface SnapshotShape {
  queues: (Omit<QueueState, 'messages' | 'dedup'> & {
    messages: StoredMessage[];
    dedup: [string, { messageId: string; sequenceNumber?: string; expires: number }][];
  })[];
}

function isXmlText(text: string): boolean {
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    const allowed =
      code === 0x9 ||
      code === 0xa ||
      code === 0xd ||
      (code >= 0x20 && code <= 0xd7ff) ||
      (code >= 0xe000 && code <= 0xfffd) ||
      (code >= 0x10000 && code <= 0x10ffff);
    if (!allowed) return false;
  }
  return true;
}

export function senderId(): string {
  return SENDER_ID;
}
