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
  readonly removalPolicy: 'destroy' | 'retain';
  /** Maximum concurrent worker invocations per flow (the event source mapping's MaximumConcurrency, 2–1000). */
  readonly concurrency: Readonly<Record<string, number>>;
  readonly replay: { readonly maxReplays: number; readonly ratePerSecond: number };
  readonly odooLimits: { readonly ratePerSecond: number; readonly maxConcurrency: number };
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
  'removalPolicy',
  'concurrency',
  'replay',
  'odooLimits',
];
const NESTED_KEYS: Record<string, string[]> = {
  odoo: ['url', 'database', 'protocol'],
  replay: ['maxReplays', 'ratePerSecond'],
  odooLimits: ['ratePerSecond', 'maxConcurrency'],
};

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
  const limits = (env.odooLimits ?? {}) as Record<string, unknown>;
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
    logRetentionDays: retention,
    removalPolicy: removal,
    concurrency: Object.fromEntries(
      flows.map((flow) => [flow, (concurrency[flow] as number | undefined) ?? 2]),
    ),
    replay: {
      maxReplays: number('replay.maxReplays', replay.maxReplays ?? 3, 1, 100),
      ratePerSecond: number('replay.ratePerSecond', replay.ratePerSecond ?? 0, 0, 1000),
    },
    odooLimits: {
      ratePerSecond: number('odooLimits.ratePerSecond', limits.ratePerSecond ?? 20, 1, 1000),
      maxConcurrency: number('odooLimits.maxConcurrency', limits.maxConcurrency ?? 4, 1, 100),
    },
  };
}
