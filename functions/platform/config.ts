/**
 * The Lambdas' configuration, from environment variables set by the CDK stack (or the local
 * runtime). Only this module reads the environment.
 */
import { ConfigurationError } from '../errors/configuration-error.ts';
import { type OdooAddress, readOdooAddress } from './odoo-address.ts';

export interface FlowQueues {
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly parkingQueueUrl?: string;
  readonly fifo: boolean;
}

export interface SpineConfig {
  readonly stage: string;
  readonly flows: Readonly<Record<string, FlowQueues>>;
  readonly idempotencyTable: string;
  readonly lineageTable: string;
  readonly odooSecret: string;
  /** Where Odoo is (SPINE_ODOO_URL, _DATABASE, _PROTOCOL); what is unset is read from the secret. */
  readonly odoo: Partial<OdooAddress>;
  readonly redactionSecret: string;
  readonly webhookSecretPrefix: string;
  /** Calls per second and calls in flight to Odoo, per Lambda container (the guard's limits). */
  readonly odooRatePerSecond: number;
  readonly odooMaxConcurrency: number;
  /**
   * How long Odoo may still run a request its caller gave up on (its `limit_time_real`): claims
   * outlive an invocation's deadline by this much. @default 120
   */
  readonly odooRequestLimitSeconds: number;
  /** The flow queue's redrive limit, for the worker: its last delivery is dead-lettered with a reason. */
  readonly maxReceiveCount?: number;
  /** How long lineage items are kept, in days (their TTL). @default 400 */
  readonly lineageRetentionDays: number;
  /** Active X-Ray tracing: the Tracer captures the AWS clients (SPINE_TRACING=active). @default false */
  readonly tracing: boolean;
  /**
   * The longest an Odoo call may take, in seconds; the invocation's deadline cuts it shorter.
   * @default 30
   */
  readonly odooTimeoutSeconds: number;
  /** How long Odoo is left alone once its circuit opens, in seconds. @default 30 */
  readonly odooCircuitOpenSeconds: number;
  /** Further attempts of a failed Odoo call within an invocation. @default 4 */
  readonly odooRetries: number;
  /**
   * Where the vendors' APIs are, when not at their public addresses (SPINE_HUBSPOT_API_URL,
   * SPINE_STRIPE_API_URL): the local emulators.
   */
  readonly vendorApiUrls: Readonly<Partial<Record<'hubspot' | 'stripe', string>>>;
  /**
   * This container's share of each vendor's rate limit (SPINE_HUBSPOT_RATE_LIMIT,
   * SPINE_STRIPE_RATE_LIMIT: `<calls>/<milliseconds>`), set at synth so that every container
   * that may call the vendor at once stays within its limit together.
   */
  readonly vendorRateLimits: Readonly<
    Partial<Record<'hubspot' | 'stripe', { readonly max: number; readonly intervalMs: number }>>
  >;
  /** How long a retried event stays hidden, doubling per receive up to the cap. @default 30 and 900 */
  readonly redelivery: { readonly baseSeconds: number; readonly capSeconds: number };
}

/** The settings every Spine Lambda needs; the CDK stack sets them all. */
export const REQUIRED_SETTINGS = [
  'SPINE_STAGE',
  'SPINE_FLOWS',
  'SPINE_IDEMPOTENCY_TABLE',
  'SPINE_LINEAGE_TABLE',
  'SPINE_ODOO_SECRET',
  'SPINE_REDACTION_SECRET',
  'SPINE_WEBHOOK_SECRET_PREFIX',
] as const;

export function readConfig(env: NodeJS.ProcessEnv = process.env): SpineConfig {
  const missing = REQUIRED_SETTINGS.filter((name) => !env[name]);
  if (missing.length > 0) {
    throw new ConfigurationError(
      `missing environment variables: ${missing.join(', ')}`,
      'deploy with the Spine CDK stack, or run under `spine local`, which set them',
    );
  }
  let flows: Record<string, FlowQueues>;
  try {
    flows = JSON.parse(env.SPINE_FLOWS as string) as Record<string, FlowQueues>;
  } catch {
    throw new ConfigurationError(
      'SPINE_FLOWS is not JSON',
      'expected {"<flow>": {"queueUrl", "deadLetterQueueUrl", "fifo"}}',
    );
  }
  return {
    stage: env.SPINE_STAGE as string,
    flows,
    idempotencyTable: env.SPINE_IDEMPOTENCY_TABLE as string,
    lineageTable: env.SPINE_LINEAGE_TABLE as string,
    odooSecret: env.SPINE_ODOO_SECRET as string,
    odoo: readOdooAddress(env),
    redactionSecret: env.SPINE_REDACTION_SECRET as string,
    webhookSecretPrefix: env.SPINE_WEBHOOK_SECRET_PREFIX as string,
    odooRatePerSecond: positive(env, 'SPINE_ODOO_RATE_PER_SECOND', 20),
    odooMaxConcurrency: positive(env, 'SPINE_ODOO_MAX_CONCURRENCY', 4),
    odooRequestLimitSeconds: positive(env, 'SPINE_ODOO_REQUEST_LIMIT_SECONDS', 120),
    lineageRetentionDays: positive(env, 'SPINE_LINEAGE_RETENTION_DAYS', 400),
    tracing: env.SPINE_TRACING === 'active',
    ...(env.SPINE_MAX_RECEIVE_COUNT
      ? { maxReceiveCount: positive(env, 'SPINE_MAX_RECEIVE_COUNT', 5) }
      : {}),
    odooTimeoutSeconds: positive(env, 'SPINE_ODOO_TIMEOUT_SECONDS', 30),
    odooCircuitOpenSeconds: positive(env, 'SPINE_ODOO_CIRCUIT_OPEN_SECONDS', 30),
    odooRetries: env.SPINE_ODOO_RETRIES === '0' ? 0 : positive(env, 'SPINE_ODOO_RETRIES', 4),
    redelivery: {
      baseSeconds: positive(env, 'SPINE_REDELIVERY_BASE_SECONDS', 30),
      capSeconds: positive(env, 'SPINE_REDELIVERY_CAP_SECONDS', 900),
    },
    vendorRateLimits: {
      ...(env.SPINE_HUBSPOT_RATE_LIMIT
        ? { hubspot: rateLimit(env, 'SPINE_HUBSPOT_RATE_LIMIT') }
        : {}),
      ...(env.SPINE_STRIPE_RATE_LIMIT ? { stripe: rateLimit(env, 'SPINE_STRIPE_RATE_LIMIT') } : {}),
    },
    vendorApiUrls: {
      ...(env.SPINE_HUBSPOT_API_URL ? { hubspot: env.SPINE_HUBSPOT_API_URL } : {}),
      ...(env.SPINE_STRIPE_API_URL ? { stripe: env.SPINE_STRIPE_API_URL } : {}),
    },
  };
}

/** `<calls>/<milliseconds>`, both positive whole numbers: `25/10000`. */
function rateLimit(env: NodeJS.ProcessEnv, name: string): { max: number; intervalMs: number } {
  const match = /^(\d+)\/(\d+)$/.exec(env[name] ?? '');
  const [max, intervalMs] = [Number(match?.[1]), Number(match?.[2])];
  if (!match || max < 1 || intervalMs < 1)
    throw new ConfigurationError(
      `${name} must be <calls>/<milliseconds>, e.g. 25/10000, got "${env[name]}"`,
      "unset it to use the vendor's whole documented limit",
    );
  return { max, intervalMs };
}

function positive(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0)
    throw new ConfigurationError(
      `${name} must be a positive number, got "${raw}"`,
      `unset it to use ${fallback}`,
    );
  return value;
}
