/**
 * The receiver Lambda handler, called as Lambda calls it: a fault of Spine's still answers JSON,
 * and its cause is in the log (API Gateway would show only a bare 500).
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { handler } from '../../functions/handlers/receiver.ts';
import { resetContainer } from '../../functions/platform/container.ts';
import { lambdaContext } from '../../local/lambda-context.ts';

afterEach(() => resetContainer());

describe('receiver handler', () => {
  it('answers 500 in JSON and logs the cause when Spine is not configured', async () => {
    for (const name of Object.keys(process.env))
      if (name.startsWith('SPINE_')) vi.stubEnv(name, undefined);
    resetContainer();
    const written: string[] = [];
    // Powertools writes errors to stderr.
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    // A hand-made event with mixed-case headers and no request context: nothing may throw.
    const event = {
      headers: { 'Stripe-Signature': 't=1,v1=00' },
      body: '{}',
      isBase64Encoded: false,
      pathParameters: { source: 'stripe' },
    } as unknown as APIGatewayProxyEventV2;
    const result = (await handler(
      event,
      lambdaContext('receiver', 30_000),
    )) as APIGatewayProxyStructuredResultV2;
    stderr.mockRestore();
    expect(result.statusCode).toBe(500);
    expect(JSON.parse(result.body ?? '')).toMatchObject({ error: 'internal-error' });
    const lines = written.flatMap((w) => w.split('\n')).filter((l) => l.startsWith('{'));
    const failure = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.message === 'the receiver failed; answered 500');
    expect(failure).toMatchObject({
      level: 'ERROR',
      error: {
        name: 'ConfigurationError',
        message: expect.stringContaining('missing environment variables'),
        stack: expect.stringContaining('readConfig'),
      },
    });
  });
});
