import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateSecretCommand,
  RotateSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { SQSRecord } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import {
  formatLogLine,
  inEventOrder,
  jsonLogLine,
  type LocalLogLine,
} from '../../cli/commands/local.ts';
import { signatureHeaders } from '../../local/demo/sign.ts';
import { loadFixture } from '../support/fixtures.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

describe('spine local', () => {
  it('starts every piece, answers health, takes a signed webhook, and stops cleanly on Ctrl-C', {
    timeout: 90_000,
  }, async () => {
    const data = mkdtempSync(join(tmpdir(), 'spine-local-'));
    const base = 20_000 + Math.floor(Math.random() * 20_000);
    const env = {
      ...process.env,
      PORT: String(base),
      SPINE_SQS_PORT: String(base + 1),
      SPINE_DYNAMODB_PORT: String(base + 2),
      SPINE_SECRETS_MANAGER_PORT: String(base + 3),
      SPINE_ODOO_PORT: String(base + 4),
      SPINE_HUBSPOT_PORT: String(base + 5),
      SPINE_STRIPE_PORT: String(base + 6),
    };
    const child = spawn(process.execPath, [join(ROOT, 'cli/bin.mjs'), 'local', '--data', data], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    try {
      const gateway = `http://127.0.0.1:${base}`;
      let health: Record<string, unknown> | undefined;
      for (let i = 0; i < 300 && !health; i++) {
        try {
          const response = await fetch(`${gateway}/_spine/health`);
          if (response.status === 200) health = (await response.json()) as Record<string, unknown>;
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      expect(health).toMatchObject({
        status: 'ok',
        sqs: `http://127.0.0.1:${base + 1}`,
        dynamodb: `http://127.0.0.1:${base + 2}`,
        secretsmanager: `http://127.0.0.1:${base + 3}`,
        odoo: { url: `http://127.0.0.1:${base + 4}`, db: 'spine' },
      });
      expect(output).toContain('Spine is running locally.');
      const secret = /stripe\s+\S+\s+secret (\S+)/.exec(output)?.[1] as string;
      const fixture = loadFixture('stripe/customer.created');
      const response = await fetch(`${gateway}/webhooks/stripe`, {
        method: 'POST',
        headers: {
          ...fixture.headers,
          ...signatureHeaders({ scheme: 'stripe', secret, body: fixture.raw, url: '' }),
        },
        body: fixture.raw,
      });
      expect(response.status).toBe(202);
      for (
        let i = 0;
        i < 100 && !output.includes('processed customers  evt_1QkZ7sLkdIwHu7ix4n5nGBQX');
        i++
      )
        await new Promise((r) => setTimeout(r, 100));
      expect(output).toMatch(/received\s+\/webhooks\/stripe 202/);
      expect(output).toMatch(/queued\s+customers\s+evt_1QkZ7sLkdIwHu7ix4n5nGBQX customer\.created/);
      expect(output).toContain('processed customers  evt_1QkZ7sLkdIwHu7ix4n5nGBQX');
      // In the order it happened: the request came in, then its event was queued, then applied.
      expect(output.search(/received\s+\/webhooks\/stripe/)).toBeLessThan(
        output.search(/queued\s+customers/),
      );
      expect(output.search(/queued\s+customers/)).toBeLessThan(output.indexOf('processed'));
      // A rotation that cannot run is said out loud, not only kept in .spine/.
      const secrets = new SecretsManagerClient({
        endpoint: `http://127.0.0.1:${base + 3}`,
        region: 'us-east-1',
        credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
      });
      await secrets.send(new CreateSecretCommand({ Name: 'probe', SecretString: 'v1' }));
      await secrets.send(
        new RotateSecretCommand({ SecretId: 'probe', RotationLambdaARN: 'no-such-rotation' }),
      );
      for (let i = 0; i < 100 && !output.includes('rotation  probe'); i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(output).toMatch(
        /rotation {2}probe\s+failed: no local rotation handler for no-such-rotation/,
      );
      child.kill('SIGINT');
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code).toBe(0);
      expect(output).toContain('stopped; state kept in .spine/');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(data, { recursive: true, force: true });
    }
  });
});

const FREE_PORTS = {
  PORT: '0',
  SPINE_SQS_PORT: '0',
  SPINE_DYNAMODB_PORT: '0',
  SPINE_SECRETS_MANAGER_PORT: '0',
  SPINE_ODOO_PORT: '0',
  SPINE_HUBSPOT_PORT: '0',
  SPINE_STRIPE_PORT: '0',
};

describe('spine local refuses a bad port before starting anything', () => {
  for (const [args, env, message] of [
    [['--port', 'abc'], {}, '--port must be a whole number from 0 to 65535, got "abc"'],
    [
      [],
      { SPINE_SQS_PORT: '70000' },
      'SPINE_SQS_PORT must be a whole number from 0 to 65535, got "70000"',
    ],
  ] as const) {
    it(`${args.join(' ') || Object.keys(env).join(' ')}: exits 2 with "${message}"`, async () => {
      const data = join(mkdtempSync(join(tmpdir(), 'spine-local-')), 'state');
      const child = spawn(
        process.execPath,
        [join(ROOT, 'cli/bin.mjs'), 'local', '--data', data, ...args],
        {
          cwd: ROOT,
          // Free ports for the rest, so a regression never takes the well-known ones.
          env: { ...process.env, ...FREE_PORTS, ...env },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let output = '';
      child.stdout.on('data', (chunk) => (output += chunk));
      child.stderr.on('data', (chunk) => (output += chunk));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code).toBe(2);
      expect(output.trim()).toBe(`spine: ${message}`);
      // Nothing started: the state folder the runtime creates first is not there.
      expect(existsSync(data)).toBe(false);
    });
  }
});

const envelope = (id: string) => JSON.stringify({ id, type: 'customer.created' });
const record = (messageId: string, id: string, receives: number) =>
  ({
    messageId,
    body: envelope(id),
    attributes: { ApproximateReceiveCount: String(receives) },
  }) as unknown as SQSRecord;
const request = (accepted: string[]): LocalLogLine => ({
  kind: 'request',
  request: {
    requestId: 'r1',
    method: 'POST',
    path: '/webhooks/stripe',
    status: 202,
    ms: 40,
    body: JSON.stringify({ accepted }),
  },
});
const queued = (id: string): LocalLogLine => ({
  kind: 'queued',
  flow: 'customers',
  messageId: `m-${id}`,
  event: { id, type: 'customer.created' },
});

describe('spine local log lines', () => {
  it('prints a request before the events it queued, though the queue reports them first', () => {
    const printed: string[] = [];
    const output = inEventOrder((line, at) => printed.push(...formatLogLine(line, at)));
    output.push(queued('evt_1'));
    output.push(queued('evt_2'));
    expect(printed).toEqual([]);
    output.push(request(['evt_1', 'evt_2']));
    expect(printed.map((l) => l.split(/\s+/).slice(1, 3).join(' '))).toEqual([
      'received /webhooks/stripe',
      'queued customers',
      'queued customers',
    ]);
    expect(printed[1]).toContain('evt_1');
    expect(printed[2]).toContain('evt_2');
  });

  it('prints a queued line before the worker finishes the event, and on its own when no request comes', () => {
    vi.useFakeTimers();
    try {
      const printed: string[] = [];
      const output = inEventOrder((line, at) => printed.push(...formatLogLine(line, at)), 500);
      output.push(queued('evt_1'));
      output.push({
        kind: 'batch',
        flow: 'customers',
        outcome: {
          functionName: 'worker',
          records: [record('m-evt_1', 'evt_1', 1)],
          failed: [],
          ms: 12,
        },
      });
      expect(printed.map((l) => l.split(/\s+/)[1])).toEqual(['queued', 'processed']);
      output.push(queued('evt_replayed'));
      expect(printed).toHaveLength(2);
      vi.advanceTimersByTime(500);
      expect(printed[2]).toMatch(/queued\s+customers\s+evt_replayed/);
    } finally {
      vi.useRealTimers();
    }
  });

  it('says a failure on the last receive goes to the DLQ, and earlier ones are retried', () => {
    const at = new Date('2026-01-02T03:04:05Z');
    const lines = formatLogLine(
      {
        kind: 'batch',
        flow: 'customers',
        outcome: {
          functionName: 'worker',
          records: [record('m1', 'evt_early', 2), record('m2', 'evt_last', 5)],
          failed: ['m1', 'm2'],
          error: new Error('Odoo said no'),
          ms: 30,
        },
      },
      at,
      5,
    );
    expect(lines).toEqual([
      '03:04:05 failed    customers  evt_early (receive 2 of 5: Odoo said no; retried after the visibility timeout)',
      '03:04:05 failed    customers  evt_last (receive the last of 5: Odoo said no; dead-lettered to the customers DLQ after the visibility timeout)',
    ]);
  });

  it('gives every --json line a timestamp and names a batch by its events', () => {
    const at = new Date('2026-01-02T03:04:05.000Z');
    expect(
      jsonLogLine(
        {
          kind: 'batch',
          flow: 'customers',
          outcome: {
            functionName: 'worker',
            records: [record('m1', 'evt_1', 1), record('m2', 'evt_2', 1)],
            failed: ['m2'],
            ms: 30,
          },
        },
        at,
      ),
    ).toEqual({
      timestamp: '2026-01-02T03:04:05.000Z',
      kind: 'batch',
      flow: 'customers',
      ms: 30,
      events: ['evt_1', 'evt_2'],
      failed: ['evt_2'],
    });
    // A request line carries the time it arrived, before anything it queued.
    expect(jsonLogLine(request(['evt_1']), at)).toMatchObject({
      timestamp: '2026-01-02T03:04:04.960Z',
      kind: 'request',
    });
    expect(jsonLogLine(queued('evt_1'), at)).toMatchObject({
      timestamp: '2026-01-02T03:04:05.000Z',
      kind: 'queued',
    });
  });

  it('prints a failed rotation with the secret, the step and the error', () => {
    expect(
      formatLogLine(
        {
          kind: 'rotation-failed',
          failure: {
            secretName: 'spine/local/odoo',
            secretArn: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:spine/local/odoo-abc',
            versionId: 'v2',
            step: 'testSecret',
            error: 'login refused',
          },
        },
        new Date('2026-01-02T03:04:05Z'),
      ),
    ).toEqual([
      '03:04:05 rotation  spine/local/odoo failed at testSecret: login refused — AWSCURRENT is unchanged; version v2 stays AWSPENDING and the next RotateSecret retries it',
    ]);
  });
});

/** Runs `spine local` on free ports until it exits; its exit code and everything it printed. */
async function spineLocal(args: readonly string[]) {
  const child = spawn(process.execPath, [join(ROOT, 'cli/bin.mjs'), 'local', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...FREE_PORTS },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, output };
}

describe('spine local refuses a worker clock AWS would refuse, before starting anything', () => {
  for (const [args, message] of [
    [
      ['--worker-timeout', '0'],
      '--worker-timeout must be a whole number of seconds from 1 to 900, got "0"',
    ],
    [
      ['--visibility-timeout', '1.5'],
      '--visibility-timeout must be a whole number of seconds from 1 to 43200, got "1.5"',
    ],
    [
      ['--max-receive-count', 'many'],
      '--max-receive-count must be a whole number from 1 to 1000, got "many"',
    ],
    [
      ['--worker-timeout', '10', '--visibility-timeout', '5'],
      '--visibility-timeout (5 s) must be at least --worker-timeout (10 s), as AWS requires of a queue that feeds a Lambda function: otherwise a message is delivered again while an invocation still works on it',
    ],
    [
      ['--worker-timeout', '60'],
      '--visibility-timeout (30 s) must be at least --worker-timeout (60 s), as AWS requires of a queue that feeds a Lambda function: otherwise a message is delivered again while an invocation still works on it',
    ],
  ] as const) {
    it(`${args.join(' ')}: exits 2 with "${message}"`, async () => {
      const data = join(mkdtempSync(join(tmpdir(), 'spine-local-')), 'state');
      const { code, output } = await spineLocal(['--data', data, ...args]);
      expect(code).toBe(2);
      expect(output.trim()).toBe(`spine: ${message}`);
      expect(existsSync(data)).toBe(false);
    });
  }

  it('--help says what each clock flag is for', async () => {
    const { code, output } = await spineLocal(['--help']);
    expect(code).toBe(0);
    const help = output.replace(/\s+/g, ' ');
    expect(help).toMatch(
      /--worker-timeout <seconds> the workers' Lambda timeout: an invocation still running then is stopped/,
    );
    expect(help).toMatch(
      /--visibility-timeout <seconds> how long a received message stays hidden .* at least the worker timeout, as AWS requires/,
    );
    expect(help).toMatch(
      /--max-receive-count <n> receives of a message before its flow queue moves it to the DLQ/,
    );
    expect(help).toContain('Compress the clock for an outage drill');
  });
});

describe('spine local log lines for a worker past its timeout', () => {
  it('says the invocation was stopped, with the function, the batch size and the timeout, then what became of each event', () => {
    const lines = formatLogLine(
      {
        kind: 'batch',
        flow: 'payments',
        outcome: {
          functionName: 'spine-local-worker-payments',
          records: [record('m1', 'evt_1', 1), record('m2', 'evt_2', 3)],
          failed: ['m1', 'm2'],
          error: new Error('Task timed out after 2 seconds'),
          timedOut: { timeoutSeconds: 2, stopped: true },
          ms: 2001,
        },
      },
      new Date('2026-01-02T03:04:05Z'),
      3,
    );
    expect(lines).toEqual([
      '03:04:05 timeout   payments   spine-local-worker-payments stopped at its 2 s timeout with a batch of 2; the batch returns to the queue after the visibility timeout',
      '03:04:05 failed    payments   evt_1 (receive 1 of 3: Task timed out after 2 seconds; retried after the visibility timeout)',
      '03:04:05 failed    payments   evt_2 (receive the last of 3: Task timed out after 2 seconds; dead-lettered to the payments DLQ after the visibility timeout)',
    ]);
  });
});
