/**
 * One deployment environment from cdk.json (`context.environments.<name>`), checked so that a
 * malformed entry fails synth naming the key and what it expects.
 */
import type { CompiledRegistry } from '../functions/contracts/model.ts';

export interface SpineEnvironment {
  readonly name: string;
  readonly account: string;
  readonly region: string;
  readonly odoo: {
    readonly url: string;
    readonly database: string;
    readonly protocol: 'json2' | 'jsonrpc' | 'auto';
  };
  readonly alarmEmail: string;
  readonly logRetentionDays: number;
  /** How long lineage is kept, in days (the lineage items' TTL): a year's audit and reconciliation. */
  readonly lineageRetentionDays: number;
  /** Active X-Ray tracing on every function; off unless someone reads the traces. */
  readonly tracing: boolean;
  readonly removalPolicy: 'destroy' | 'retain';
  /** Maximum concurrent worker invocations per flow (the event source mapping's MaximumConcurrency, 2–1000). */
  readonly concurrency: Readonly<Record<string, number>>;
  readonly replay: { readonly maxReplays: number; readonly ratePerSecond: number };
  /** What this environment's Odoo takes from all of Spine at once (cdk.json `odooBudget`). */
  readonly odooBudget: { readonly ratePerSecond: number; readonly maxConcurrentCalls: number };
  /**
   * Each Lambda container's share of the budget (its Odoo guard's limits): the budget divided
   * over every container that may call Odoo at once, so that together they never exceed it.
   */
  readonly odooLimits: { readonly ratePerSecond: number; readonly maxConcurrency: number };
  /** The Odoo outage that events wait out in their queue before any is dead-lettered, in minutes. */
  readonly odooOutageToleranceMinutes: number;
  /** The account's concurrent executions quota in this region (Service Quotas L-B99A9384). */
  readonly lambdaConcurrencyQuota: number;
  /** Where the team reads docs/runbook.md (an https URL); alarm descriptions link to its sections. */
  readonly runbookUrl?: string;
  /** The webhook API's own domain, with an ACM certificate in the environment's region. */
  readonly customDomain?: { readonly domainName: string; readonly certificateArn: string };
  /** The monthly AWS Budget of the environment's costs (tagged spine:environment), in USD. */
  readonly budget: { readonly monthlyUsd: number };
}

/** cdk.json does not describe the chosen environment well enough to synthesise it. */
export class EnvironmentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EnvironmentError';
  }

  static at(path: string, expected: string, received: unknown): EnvironmentError {
    return new EnvironmentError(
      `cdk.json context.environments.${path}: expected ${expected}, got ${JSON.stringify(received)}`,
    );
  }
}

const KEYS = [
  'account',
  'region',
  'odoo',
  'alarmEmail',
  'logRetentionDays',
  'lineageRetentionDays',
  'tracing',
  'removalPolicy',
  'concurrency',
  'replay',
  'odooBudget',
  'odooOutageToleranceMinutes',
  'lambdaConcurrencyQuota',
  'runbookUrl',
  'customDomain',
  'budget',
];
const NESTED_KEYS: Record<string, string[]> = {
  odoo: ['url', 'database', 'protocol'],
  replay: ['maxReplays', 'ratePerSecond'],
  odooBudget: ['ratePerSecond', 'maxConcurrentCalls'],
  customDomain: ['domainName', 'certificateArn'],
  budget: ['monthlyUsd'],
};

/** What a month may cost when cdk.json gives no budget: a few million events, with room. */
export const DEFAULT_MONTHLY_BUDGET_USD = 100;

const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
  3653,
];

/** Picks and checks `-c env=<name>`; the error lists the known environments. */
export function readEnvironment(
  environments: unknown,
  name: unknown,
  registry: CompiledRegistry,
): SpineEnvironment {
  if (!environments || typeof environments !== 'object')
    throw new EnvironmentError(
      `cdk.json context.environments: expected a map of environment names to settings, got ${JSON.stringify(environments)}`,
    );
  const known = Object.keys(environments).sort();
  if (typeof name !== 'string' || name === '') {
    throw new EnvironmentError(
      `choose an environment with -c env=<name>; cdk.json knows ${known.join(', ')}`,
    );
  }
  const raw = (environments as Record<string, unknown>)[name];
  if (!raw || typeof raw !== 'object')
    throw new EnvironmentError(`unknown environment "${name}"; cdk.json knows ${known.join(', ')}`);
  const env = raw as Record<string, unknown>;
  const at = (key: string) => `${name}.${key}`;
  // A misspelt key would otherwise be ignored, and its setting silently left at the default.
  const unknownKey = (where: Record<string, unknown>, keys: string[], prefix: string) => {
    const extra = Object.keys(where).find((key) => !keys.includes(key));
    if (extra !== undefined)
      throw EnvironmentError.at(
        at(`${prefix}${extra}`),
        `one of the known keys (${keys.join(', ')})`,
        extra,
      );
  };
  unknownKey(env, KEYS, '');
  for (const [key, keys] of Object.entries(NESTED_KEYS)) {
    const value = env[key];
    if (value === undefined) continue;
    if (!value || typeof value !== 'object' || Array.isArray(value))
      throw EnvironmentError.at(at(key), `an object with ${keys.join(', ')}`, value);
    unknownKey(value as Record<string, unknown>, keys, `${key}.`);
  }
  const text = (key: string, pattern: RegExp, expected: string, value: unknown = env[key]) => {
    if (typeof value !== 'string' || !pattern.test(value))
      throw EnvironmentError.at(at(key), expected, value);
    return value;
  };
  const number = (key: string, value: unknown, min: number, max: number) => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
      throw EnvironmentError.at(at(key), `a whole number from ${min} to ${max}`, value);
    return value;
  };
  const odoo = (env.odoo ?? {}) as Record<string, unknown>;
  const concurrency = (env.concurrency ?? {}) as Record<string, unknown>;
  if (!concurrency || typeof concurrency !== 'object' || Array.isArray(concurrency))
    throw EnvironmentError.at(
      at('concurrency'),
      'a map of flow name to maximum concurrency',
      concurrency,
    );
  const flows = registry.flows.map((f) => f.name);
  for (const [flow, value] of Object.entries(concurrency)) {
    if (!flows.includes(flow))
      throw EnvironmentError.at(
        at(`concurrency.${flow}`),
        `a flow that a contract declares (${flows.join(', ')})`,
        flow,
      );
    number(`concurrency.${flow}`, value, 2, 1000);
  }
  const replay = (env.replay ?? {}) as Record<string, unknown>;
  const budget = (env.odooBudget ?? {}) as Record<string, unknown>;
  const retention = number('logRetentionDays', env.logRetentionDays, 1, 3653);
  if (!LOG_RETENTION_DAYS.includes(retention))
    throw EnvironmentError.at(
      at('logRetentionDays'),
      `one of CloudWatch's retention periods (${LOG_RETENTION_DAYS.join(', ')})`,
      retention,
    );
  const protocol = odoo.protocol ?? 'auto';
  if (!['json2', 'jsonrpc', 'auto'].includes(String(protocol)))
    throw EnvironmentError.at(at('odoo.protocol'), 'json2, jsonrpc or auto', protocol);
  const removal = env.removalPolicy;
  if (removal !== 'destroy' && removal !== 'retain')
    throw EnvironmentError.at(at('removalPolicy'), '"destroy" or "retain"', removal);
  const domain = env.customDomain as Record<string, unknown> | undefined;
  const region = String(env.region).replace(/[^a-z0-9-]/g, '');
  return {
    name,
    account: text('account', /^\d{12}$/, 'a 12-digit AWS account id'),
    region: text('region', /^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'an AWS region such as eu-west-1'),
    odoo: {
      url: text('odoo.url', /^https:\/\/[^\s/]+/, 'the https URL of Odoo', odoo.url),
      database: text('odoo.database', /^\S+$/, 'the Odoo database name', odoo.database),
      protocol: protocol as SpineEnvironment['odoo']['protocol'],
    },
    alarmEmail: text('alarmEmail', /^[^\s@]+@[^\s@]+\.[^\s@]+$/, 'an e-mail address for alarms'),
    ...(env.runbookUrl === undefined
      ? {}
      : {
          runbookUrl: text(
            'runbookUrl',
            /^https:\/\/[^\s#]+$/,
            'the https URL of docs/runbook.md as the team reads it, without a #section',
          ),
        }),
    ...(domain === undefined
      ? {}
      : {
          customDomain: {
            domainName: text(
              'customDomain.domainName',
              /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
              'a lower-case domain name such as hooks.example.com',
              domain.domainName,
            ),
            // A regional API takes a certificate of its own region only.
            certificateArn: text(
              'customDomain.certificateArn',
              new RegExp(`^arn:aws[a-z-]*:acm:${region}:\\d{12}:certificate/[0-9a-f-]{36}$`),
              `the ARN of an ACM certificate in ${region}, the environment's region`,
              domain.certificateArn,
            ),
          },
        }),
    budget: {
      monthlyUsd: number(
        'budget.monthlyUsd',
        (env.budget as Record<string, unknown> | undefined)?.monthlyUsd ??
          DEFAULT_MONTHLY_BUDGET_USD,
        1,
        1_000_000,
      ),
    },
    logRetentionDays: retention,
    lineageRetentionDays: number('lineageRetentionDays', env.lineageRetentionDays ?? 400, 1, 3653),
    tracing: (() => {
      if (env.tracing !== undefined && typeof env.tracing !== 'boolean')
        throw EnvironmentError.at(at('tracing'), 'true or false', env.tracing);
      return env.tracing === true;
    })(),
    removalPolicy: removal,
    concurrency: Object.fromEntries(
      flows.map((flow) => [flow, (concurrency[flow] as number | undefined) ?? 2]),
    ),
    replay: {
      maxReplays: number('replay.maxReplays', replay.maxReplays ?? 3, 1, 100),
      ratePerSecond: number('replay.ratePerSecond', replay.ratePerSecond ?? 0, 0, 1000),
    },
    ...shareOdooBudget(
      name,
      {
        ratePerSecond: number('odooBudget.ratePerSecond', budget.ratePerSecond ?? 20, 1, 10_000),
        maxConcurrentCalls: number(
          'odooBudget.maxConcurrentCalls',
          budget.maxConcurrentCalls ?? 8,
          1,
          1000,
        ),
      },
      flows.map((flow) => (concurrency[flow] as number | undefined) ?? 2),
      number('lambdaConcurrencyQuota', env.lambdaConcurrencyQuota ?? 1000, 10, 1_000_000),
    ),
    odooOutageToleranceMinutes: number(
      'odooOutageToleranceMinutes',
      env.odooOutageToleranceMinutes ?? 180,
      1,
      // The flow queue keeps an event 4 days: a longer wait would lose it there.
      3 * 24 * 60,
    ),
  };
}

/**
 * The functions that call Odoo besides the workers, one container each at most: the scheduled
 * reconciliation and the credential rotation (their reserved concurrency is 1).
 */
export const ODOO_CALLERS_BESIDE_WORKERS = 2;

/** Concurrency Lambda keeps unreserved in every account and region. */
const LAMBDA_UNRESERVED_MINIMUM = 100;

/**
 * Divides the Odoo budget over every container that may call Odoo at once (each flow's worker
 * cap, reconciliation and rotation) and checks that the account can reserve that concurrency.
 */
function shareOdooBudget(
  name: string,
  budget: SpineEnvironment['odooBudget'],
  flowCaps: readonly number[],
  quota: number,
): Pick<SpineEnvironment, 'odooBudget' | 'odooLimits' | 'lambdaConcurrencyQuota'> {
  const containers = flowCaps.reduce((sum, cap) => sum + cap, 0) + ODOO_CALLERS_BESIDE_WORKERS;
  const reservable = quota - LAMBDA_UNRESERVED_MINIMUM;
  if (containers > reservable)
    throw new EnvironmentError(
      `cdk.json context.environments.${name}: the flows' concurrency (${flowCaps.join(' + ')}) and ${ODOO_CALLERS_BESIDE_WORKERS} for reconciliation and rotation reserve ${containers} concurrent executions, but an account with lambdaConcurrencyQuota ${quota} can reserve ${Math.max(0, reservable)} (Lambda keeps ${LAMBDA_UNRESERVED_MINIMUM} unreserved): lower concurrency.<flow>, or ask AWS for a higher "Concurrent executions" quota (Service Quotas L-B99A9384) and set lambdaConcurrencyQuota to it`,
    );
  const ratePerSecond = Math.floor((budget.ratePerSecond / containers) * 100) / 100;
  const maxConcurrency = Math.floor(budget.maxConcurrentCalls / containers);
  if (ratePerSecond < 1 || maxConcurrency < 1)
    throw new EnvironmentError(
      `cdk.json context.environments.${name}.odooBudget: ${budget.ratePerSecond} calls/s and ${budget.maxConcurrentCalls} concurrent calls, shared by the ${containers} containers that may call Odoo at once (the flows' concurrency ${flowCaps.join(' + ')}, plus reconciliation and rotation), leave ${ratePerSecond} calls/s and ${maxConcurrency} concurrent calls each, and each needs at least 1 of both: raise the budget (if Odoo can take it) or lower concurrency.<flow>`,
    );
  return {
    odooBudget: budget,
    odooLimits: { ratePerSecond, maxConcurrency },
    lambdaConcurrencyQuota: quota,
  };
}
