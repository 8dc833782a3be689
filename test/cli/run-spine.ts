/** Runs the `spine` command as a user does, with an environment of the test's choosing. */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

const ROOT = new URL('../../', import.meta.url).pathname;

export interface SpineRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Without PORT or SPINE_GATEWAY_URL, so that nothing but the flags finds a runtime. */
export function runSpine(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<SpineRun> {
  const base = { ...process.env };
  for (const name of [
    'PORT',
    'SPINE_GATEWAY_URL',
    'AWS_PROFILE',
    'AWS_REGION',
    'AWS_DEFAULT_REGION',
  ])
    delete base[name];
  const child = spawn(process.execPath, [join(ROOT, 'cli/bin.mjs'), ...args], {
    cwd: ROOT,
    env: { ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

/** A port nothing listens on. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
