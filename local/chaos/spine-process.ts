/**
 * `spine local` in a child process, so a chaos run can kill -9 it mid-traffic and start it
 * again on the same state folder and ports, as a crashed host comes back.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

const ROOT = new URL('../../', import.meta.url).pathname;
const SPINE = join(ROOT, 'cli/bin.mjs');

export interface RuntimeHealth {
  readonly status: string;
  readonly gateway: string;
  readonly sqs: string;
  readonly dynamodb: string;
  readonly secretsmanager: string;
  readonly odoo: { readonly url: string; readonly db: string; readonly login: string };
  readonly flows: readonly {
    readonly name: string;
    readonly fifo: boolean;
    readonly queueUrl: string;
    readonly deadLetterQueueUrl: string;
    readonly parkingQueueUrl: string;
  }[];
}

export interface RuntimePorts {
  readonly gateway: number;
  readonly sqs: number;
  readonly dynamodb: number;
  readonly secretsManager: number;
  readonly odoo: number;
  /** The vendor API emulators (HubSpot, Stripe). */
  readonly hubspot: number;
  readonly stripe: number;
}

/** The compressed clock the runtime was started with, as far as this `spine local` takes one. */
export interface RuntimeClock {
  /** Flags passed to `spine local`. */
  readonly args: readonly string[];
  /** The worker's timeout in seconds (Lambda's default of 30 when the flag is missing). */
  readonly workerTimeoutSeconds: number;
  /** What this `spine local` could not be told, for the report. */
  readonly missing: readonly string[];
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Seven ports nothing listens on now; kept for the restart, so queue URLs stay the same. */
export async function freeRuntimePorts(): Promise<RuntimePorts> {
  const ports = new Set<number>();
  while (ports.size < 7) ports.add(await freePort());
  const [gateway, sqs, dynamodb, secretsManager, odoo, hubspot, stripe] = [...ports] as number[];
  return {
    gateway: gateway as number,
    sqs: sqs as number,
    dynamodb: dynamodb as number,
    secretsManager: secretsManager as number,
    odoo: odoo as number,
    hubspot: hubspot as number,
    stripe: stripe as number,
  };
}

function run(args: readonly string[]): Promise<string> {
  const child = spawn(process.execPath, [SPINE, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  return new Promise((resolve) => child.once('close', () => resolve(output)));
}

/**
 * The clock a chaos run wants — short worker timeout, short visibility timeout, few receives —
 * for the flags this `spine local` knows (read from its --help). Without them a failed batch
 * waits Lambda's 30 s before its retry, and an Odoo stall cannot outlast the worker.
 */
export async function runtimeClock(wanted: {
  workerTimeoutSeconds: number;
  visibilityTimeoutSeconds: number;
  maxReceiveCount: number;
}): Promise<RuntimeClock> {
  const help = await run(['local', '--help']);
  const args: string[] = [];
  const missing: string[] = [];
  const flag = (name: string, value: number) => {
    if (help.includes(name)) args.push(name, String(value));
    else missing.push(name);
  };
  flag('--worker-timeout', wanted.workerTimeoutSeconds);
  flag('--visibility-timeout', wanted.visibilityTimeoutSeconds);
  flag('--max-receive-count', wanted.maxReceiveCount);
  return {
    args,
    workerTimeoutSeconds: missing.includes('--worker-timeout') ? 30 : wanted.workerTimeoutSeconds,
    missing,
  };
}

export class SpineProcess {
  private child: ChildProcess | undefined;
  private readonly log: WriteStream;
  health: RuntimeHealth | undefined;

  constructor(
    private readonly dataDir: string,
    private readonly ports: RuntimePorts,
    private readonly clock: RuntimeClock,
  ) {
    this.log = createWriteStream(join(dataDir, 'chaos-runtime.log'), { flags: 'a' });
  }

  get gatewayUrl(): string {
    return `http://127.0.0.1:${this.ports.gateway}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts `spine local` and waits until its gateway answers health. */
  async start(timeoutMs = 180_000): Promise<RuntimeHealth> {
    const child = spawn(
      process.execPath,
      [
        SPINE,
        'local',
        '--data',
        this.dataDir,
        '--port',
        String(this.ports.gateway),
        ...this.clock.args,
      ],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          SPINE_SQS_PORT: String(this.ports.sqs),
          SPINE_DYNAMODB_PORT: String(this.ports.dynamodb),
          SPINE_SECRETS_MANAGER_PORT: String(this.ports.secretsManager),
          SPINE_ODOO_PORT: String(this.ports.odoo),
          SPINE_HUBSPOT_PORT: String(this.ports.hubspot),
          SPINE_STRIPE_PORT: String(this.ports.stripe),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.child = child;
    this.log.write(
      `\n--- chaos: started spine local, pid ${child.pid}, at ${new Date().toISOString()}\n`,
    );
    child.stdout?.pipe(this.log, { end: false });
    child.stderr?.pipe(this.log, { end: false });
    let exited: number | null | undefined;
    child.once('exit', (code) => {
      exited = code;
    });
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (exited !== undefined)
        throw new Error(
          `spine local exited with ${exited} while starting; see ${join(this.dataDir, 'chaos-runtime.log')}`,
        );
      try {
        const response = await fetch(`${this.gatewayUrl}/_spine/health`);
        if (response.status === 200) {
          this.health = (await response.json()) as RuntimeHealth;
          return this.health;
        }
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`spine local did not answer health within ${timeoutMs / 1000} s`);
  }

  /** kill -9: no shutdown, no flush, whatever was in flight is cut. */
  async kill9(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    this.log.write(`--- chaos: kill -9 of pid ${child.pid} at ${new Date().toISOString()}\n`);
  }

  /** Ctrl-C, then kill -9 if it does not stop in time. */
  async stop(graceMs = 20_000): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    }
    this.child = undefined;
  }

  /** Synchronous last resort for process exit handlers. */
  killNow(): void {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }

  async close(): Promise<void> {
    await this.stop();
    await new Promise((resolve) => this.log.end(resolve));
  }
}

/** Runs a `spine` subcommand against the runtime (replay, reconcile) and returns what it said. */
export async function runSpineCommand(
  args: readonly string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [SPINE, ...args], {
    cwd: ROOT,
    env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'ERROR' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}
