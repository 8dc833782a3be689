/**
 * Every 5xx the local gateway answers is logged with its cause: what was thrown (name, message,
 * first stack frames), or why the function's own 5xx answer gave none. `spine local` prints it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { formatLogLine } from '../../cli/commands/local.ts';
import { type GatewayRequestLog, startGateway } from '../../local/gateway.ts';

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

type Handler = Parameters<typeof startGateway>[0]['routes'][number]['handler'];

async function gatewayWith(handler: Handler) {
  const logs: GatewayRequestLog[] = [];
  const gateway = await startGateway({
    routes: [{ method: 'POST', path: '/webhooks/{source}', functionName: 'receiver', handler }],
    onRequest: (log) => logs.push(log),
  });
  stops.push(() => gateway.stop());
  const post = (source: string) =>
    fetch(`${gateway.url}/webhooks/${source}`, { method: 'POST', body: '{}' });
  return { logs, post };
}

function failInValidation(): never {
  throw new RangeError('Invalid time value');
}

describe('local gateway 5xx logging', () => {
  it('logs the name, message and first stack frames of what the function threw', async () => {
    const { logs, post } = await gatewayWith(async () => failInValidation());
    const answer = await post('stripe');
    expect(answer.status).toBe(500);
    expect(await answer.json()).toEqual({ message: 'Internal Server Error' });
    expect(logs).toHaveLength(1);
    const [log] = logs as [GatewayRequestLog];
    expect(log.cause).toMatchObject({ name: 'RangeError', message: 'Invalid time value' });
    expect(log.cause?.stack[0]).toMatch(/^at failInValidation .*gateway-errors\.test\.ts/);
    expect(JSON.parse(log.body ?? '')).toEqual({
      error: 'function-failure',
      detail: expect.stringMatching(/^RangeError: Invalid time value \(at failInValidation /),
    });
    const [line] = formatLogLine({ kind: 'request', request: log });
    expect(line).toMatch(/500 in \d+ ms — function-failure: RangeError: Invalid time value/);
  });

  it('names a 5xx the function answered without a reason, and keeps one that gives it', async () => {
    const { logs, post } = await gatewayWith(async (event) =>
      event.pathParameters?.source === 'bare'
        ? { statusCode: 502, body: 'upstream broke' }
        : {
            statusCode: 503,
            body: JSON.stringify({ error: 'queue-unavailable', detail: 'retry later' }),
          },
    );
    expect((await post('bare')).status).toBe(502);
    expect((await post('explained')).status).toBe(503);
    expect(logs.map((l) => JSON.parse(l.body ?? '') as unknown)).toEqual([
      {
        error: 'handler-answer',
        detail: expect.stringContaining(
          'answered 502 without naming an error; its body began: upstream broke',
        ),
      },
      { error: 'queue-unavailable', detail: 'retry later' },
    ]);
  });

  it('logs a gateway failure with its stack too', async () => {
    const logs: GatewayRequestLog[] = [];
    const gateway = await startGateway({
      routes: [],
      local: {
        'GET /_spine/health': () => {
          throw new TypeError("Cannot read properties of undefined (reading 'url')");
        },
      },
      onRequest: (log) => logs.push(log),
    });
    stops.push(() => gateway.stop());
    expect((await fetch(`${gateway.url}/_spine/health`)).status).toBe(500);
    expect(logs[0]?.cause).toMatchObject({
      name: 'TypeError',
      stack: expect.arrayContaining([expect.stringMatching(/^at /)]),
    });
    expect(JSON.parse(logs[0]?.body ?? '')).toMatchObject({ error: 'gateway-failure' });
  });
});
