/**
 * The contract registry as the Lambdas see it: route an incoming event to its contract and
 * validate it with the validator compiled for that contract at build time.
 */
import { ConfigurationError } from '../errors/configuration-error.ts';
import type { Violation } from '../errors/contract-violation.ts';
import { pointerToJsonPath } from './json-path.ts';
import type {
  CompiledContract,
  CompiledFlow,
  CompiledRegistry,
  CompiledSource,
  PrecompiledValidator,
} from './model.ts';

/** What the receiver must know about a source before it can choose a contract. */
/** How much of a violation's path is kept. */
const MAX_PATH_CHARS = 200;

export type SourceProfile = Pick<CompiledSource, 'system' | 'signature' | 'batch' | 'eventType'>;

export class ContractRegistry {
  private readonly routes = new Map<string, CompiledContract>();
  private readonly sources = new Map<string, SourceProfile>();
  private readonly byId = new Map<string, CompiledContract[]>();

  constructor(
    readonly compiled: CompiledRegistry,
    private readonly validators: Readonly<Record<string, PrecompiledValidator | undefined>>,
  ) {
    for (const contract of compiled.contracts) {
      for (const name of [
        contract.validator,
        ...(contract.enrich ? [contract.enrich.validator] : []),
      ])
        if (!validators[name])
          throw new ConfigurationError(
            `the compiled validators have no ${name} for ${contract.id}@${contract.version}`,
            'run `npm run contracts:build` (or `spine contracts build`) and redeploy',
          );
      const { system, signature, batch, eventType } = contract.source;
      this.sources.set(system, { system, signature, batch, eventType });
      // An active major owns its routes; a deprecated one only keeps routes nobody else claims.
      for (const event of contract.source.events) {
        const key = routeKey(system, event);
        const current = this.routes.get(key);
        if (!current || (current.status === 'deprecated' && contract.status === 'active')) {
          this.routes.set(key, contract);
        }
      }
      const versions = this.byId.get(contract.id) ?? [];
      versions.push(contract);
      this.byId.set(contract.id, versions);
    }
  }

  get contracts(): readonly CompiledContract[] {
    return this.compiled.contracts;
  }

  /** Every crosswalk of contracts/reference/, by name. */
  get reference(): CompiledRegistry['reference'] {
    return this.compiled.reference;
  }

  get flows(): readonly CompiledFlow[] {
    return this.compiled.flows;
  }

  flow(name: string): CompiledFlow | undefined {
    return this.compiled.flows.find((f) => f.name === name);
  }

  /** The source's signature scheme and routing rule, or undefined for a source no contract names. */
  source(system: string): SourceProfile | undefined {
    return this.sources.get(system);
  }

  /** The contract that owns (source, event type), or undefined: the event is ignored, not an error. */
  route(system: string, eventType: string): CompiledContract | undefined {
    return this.routes.get(routeKey(system, eventType));
  }

  /** A contract by `id`, `id@major` or `id@x.y.z` (the newest major when none is given). */
  contract(reference: string): CompiledContract | undefined {
    const [id = '', version] = reference.split('@');
    const versions = this.byId.get(id) ?? [];
    if (!version) return [...versions].sort((a, b) => b.major - a.major)[0];
    return versions.find((c) => c.version === version || String(c.major) === version.split('.')[0]);
  }

  /** Every way `event` fails its contract; empty when it is valid. */
  validate(contract: CompiledContract, event: unknown): Violation[] {
    return violationsOf(this.validators[contract.validator] as PrecompiledValidator, event, '$');
  }

  /**
   * Every way an object fetched for `contract`'s enrichment fails `enrich.schema`; empty when it
   * is valid. Paths start at the name the expressions read it by: `$contact.properties.email`.
   */
  validateEnriched(contract: CompiledContract, object: unknown): Violation[] {
    const enrich = contract.enrich;
    if (!enrich)
      throw new ConfigurationError(
        `${contract.id}@${contract.version} fetches no vendor object, so there is nothing to validate`,
        'validate fetched objects only for contracts with an enrich part',
      );
    return violationsOf(
      this.validators[enrich.validator] as PrecompiledValidator,
      object,
      `$${enrich.as}`,
    );
  }
}

/**
 * Ajv's errors as violations: a JSON path from `root`, the keyword, and a message made of the
 * schema's words only (allowed values, never the value received), so reports hold no personal data.
 */
function violationsOf(validator: PrecompiledValidator, value: unknown, root: string): Violation[] {
  try {
    if (validator(value)) return [];
  } catch (error) {
    // A value the generated code cannot walk (a stack overflow on deep nesting) is a reason to
    // quarantine it, not to fail the delivery.
    return [
      {
        path: root,
        keyword: 'validation',
        message: `could not be validated (${error instanceof Error ? `${error.name}: ${error.message}` : String(error)})`,
      },
    ];
  }
  return (validator.errors ?? []).map((error) => {
    const missing = error.keyword === 'required' ? String(error.params.missingProperty) : undefined;
    const base = `${root}${pointerToJsonPath(error.instancePath).slice(1)}`;
    const path = missing
      ? /^[A-Za-z_$][\w$]*$/.test(missing)
        ? `${base}.${missing}`
        : `${base}['${missing}']`
      : base;
    const allowed = error.params.allowedValues ?? error.params.allowedValue;
    return {
      // Paths are made of the vendor's keys: a key of kilobytes would fill every report.
      path: path.length > MAX_PATH_CHARS ? `${path.slice(0, MAX_PATH_CHARS)}…` : path,
      keyword: error.keyword,
      message: missing
        ? 'is required but missing'
        : `${error.message ?? 'is not valid'}${allowed !== undefined ? ` ${JSON.stringify(allowed)}` : ''}`,
    };
  });
}

function routeKey(system: string, eventType: string): string {
  return `${system}\u0000${eventType}`;
}
