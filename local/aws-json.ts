/**
 * The AWS JSON protocol as the SDK v3 speaks it (`X-Amz-Target: <Service>.<Action>`, JSON
 * bodies, errors as `{__type, message}`), shared by the local SQS and Secrets Manager.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export class AwsError extends Error {
  constructor(
    /** Error code, e.g. `QueueDoesNotExist`; the SDK turns it into the exception's name. */
    readonly code: string,
    message: string,
    readonly status = 400,
    /** `x-amzn-query-error` value for query-compatible services (SQS), e.g. `AWS.SimpleQueueService.NonExistentQueue;Sender`. */
    readonly queryError?: string,
    /** Namespace of `__type`. */
    readonly namespace = '',
  ) {
    super(message);
  }
}

export const invalidParameter = (message: string, namespace = '') =>
  new AwsError('InvalidParameterValue', message, 400, 'InvalidParameterValue;Sender', namespace);

export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit)
      throw new AwsError(
        'RequestEntityTooLarge',
        `Request body is larger than ${limit} bytes`,
        413,
      );
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export function sendAwsJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  contentType: string,
): void {
  const text = JSON.stringify(body ?? {});
  res.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(text),
    'x-amzn-RequestId': crypto.randomUUID(),
  });
  res.end(text);
}

export function sendAwsError(res: ServerResponse, error: AwsError, contentType: string): void {
  const text = JSON.stringify({
    __type: `${error.namespace}${error.code}`,
    message: error.message,
  });
  res.writeHead(error.status, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(text),
    'x-amzn-RequestId': crypto.randomUUID(),
    ...(error.queryError ? { 'x-amzn-query-error': error.queryError } : {}),
  });
  res.end(text);
}

/** Reads `X-Amz-Target` and the JSON body, with the errors AWS gives for a broken request. */
export async function parseAwsJsonRequest(
  req: IncomingMessage,
  prefix: string,
  limit: number,
): Promise<{ action: string; input: Record<string, unknown> }> {
  const target = String(req.headers['x-amz-target'] ?? '');
  if (!target.startsWith(`${prefix}.`)) {
    throw new AwsError(
      'UnknownOperationException',
      `Unknown operation ${target || '(no X-Amz-Target header)'}`,
      400,
      undefined,
      'com.amazon.coral.service#',
    );
  }
  const raw = (await readBody(req, limit)).toString('utf8');
  let input: unknown;
  try {
    input = raw.trim() === '' ? {} : JSON.parse(raw);
  } catch {
    throw new AwsError(
      'SerializationException',
      'Start of structure or map found where not expected, or the body is not JSON.',
      400,
      undefined,
      'com.amazon.coral.service#',
    );
  }
  if (!input || typeof input !== 'object' || Array.isArray(input)) {
    throw new AwsError(
      'SerializationException',
      'The request body must be a JSON object.',
      400,
      undefined,
      'com.amazon.coral.service#',
    );
  }
  return { action: target.slice(prefix.length + 1), input: input as Record<string, unknown> };
}

const serialization = (message: string) =>
  new AwsError('SerializationException', message, 400, undefined, 'com.amazon.coral.service#');

/** Input field readers that fail the way AWS's validation does. */
export function readString(input: Record<string, unknown>, name: string, required: true): string;
export function readString(
  input: Record<string, unknown>,
  name: string,
  required?: false,
): string | undefined;
export function readString(
  input: Record<string, unknown>,
  name: string,
  required = false,
): string | undefined {
  const value = input[name];
  if (value === undefined || value === null) {
    if (required)
      throw new AwsError(
        'MissingParameter',
        `The request must contain the parameter ${name}.`,
        400,
        'MissingParameter;Sender',
      );
    return undefined;
  }
  if (typeof value !== 'string')
    throw serialization(`${name} must be a string, got ${typeof value}.`);
  return value;
}

export function readInteger(
  input: Record<string, unknown>,
  name: string,
  min: number,
  max: number,
): number | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value))
    throw serialization(`${name} must be an integer, got ${JSON.stringify(value)}.`);
  if (value < min || value > max) {
    throw invalidParameter(
      `Value ${value} for parameter ${name} is invalid. Reason: must be between ${min} and ${max}.`,
    );
  }
  return value;
}

export function readList(input: Record<string, unknown>, name: string): unknown[] | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw serialization(`${name} must be a list.`);
  return value;
}

/** A list whose members must all be strings (a `null` or a number is a type error, as in AWS). */
export function readStringList(input: Record<string, unknown>, name: string): string[] | undefined {
  const list = readList(input, name);
  if (list?.some((member) => typeof member !== 'string'))
    throw serialization(`${name} must be a list of strings, got ${JSON.stringify(list)}.`);
  return list as string[] | undefined;
}

export function readMap(
  input: Record<string, unknown>,
  name: string,
): Record<string, unknown> | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value))
    throw serialization(`${name} must be a map.`);
  return value as Record<string, unknown>;
}
