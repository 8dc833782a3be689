/**
 * Finding the running `spine local` for commands that work against it (replay, reconcile):
 * its gateway answers GET /_spine/health with every local endpoint.
 */

export interface LocalFlow {
  readonly name: string;
  readonly fifo: boolean;
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly parkingQueueUrl: string;
}

export interface LocalHealth {
  readonly status: string;
  readonly sqs: string;
  readonly dynamodb: string;
  readonly secretsmanager: string;
  readonly flows: readonly LocalFlow[];
}

export const GATEWAY_OPTION_HELP =
  'the gateway of the running spine local (default: $SPINE_GATEWAY_URL, else http://127.0.0.1:$PORT, else http://127.0.0.1:3000)';

/** Where `spine local` listens unless told otherwise: the same variables it reads at start. */
export function defaultGatewayUrl(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SPINE_GATEWAY_URL) return env.SPINE_GATEWAY_URL;
  return `http://127.0.0.1:${env.PORT || 3000}`;
}

/**
 * Reads the health of the spine local at `gateway`; the error says how to start one or which
 * flag points elsewhere. `otherwise` names a way around the local runtime (such as --env).
 */
export async function readLocalHealth(gateway: string, otherwise = ''): Promise<LocalHealth> {
  const base = gateway.replace(/\/+$/, '');
  if (!/^https?:\/\/[^/\s]+/.test(base))
    throw new Error(`--gateway takes a URL such as http://127.0.0.1:3000, got "${gateway}"`);
  const howTo = `start it with \`npm start\` (or \`spine local\`), or pass --gateway <url> if it listens elsewhere${otherwise}`;
  let response: Response;
  try {
    response = await fetch(`${base}/_spine/health`);
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const reason = cause?.code ?? cause?.message ?? (error as Error).message;
    throw new Error(`no spine local answers at ${base} (${reason}); ${howTo}`);
  }
  let health: Partial<LocalHealth> | undefined;
  try {
    health = (await response.json()) as Partial<LocalHealth>;
  } catch {
    health = undefined;
  }
  if (health?.status === 'starting')
    throw new Error(`the spine local at ${base} is still starting; try again in a moment`);
  if (
    !response.ok ||
    typeof health?.sqs !== 'string' ||
    typeof health.dynamodb !== 'string' ||
    typeof health.secretsmanager !== 'string' ||
    !Array.isArray(health.flows)
  ) {
    throw new Error(
      `${base}/_spine/health answered ${response.status} but not as a spine local does; ${howTo}`,
    );
  }
  return health as LocalHealth;
}
