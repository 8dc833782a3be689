/** A Lambda-like invocation context for handlers run by the local runtime. */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

export interface InvocationClock {
  /**
   * When the invocation must end (epoch ms). An execution environment in another thread gets
   * the deadline its host set, so both count down to the same instant.
   * @default now + timeoutMs
   */
  readonly deadline?: number;
  /** @default a fresh UUID */
  readonly awsRequestId?: string;
}

export function lambdaContext(
  functionName: string,
  timeoutMs: number,
  invocation: InvocationClock = {},
): Context {
  const deadline = invocation.deadline ?? Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: invocation.awsRequestId ?? randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/[$LATEST]${randomUUID().replace(/-/g, '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}
