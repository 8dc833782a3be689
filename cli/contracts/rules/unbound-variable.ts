/**
 * `unbound-variable`: every variable an expression reads without binding it is one Spine binds
 * ($entityKey, $reference, ...), a JSONata function, or the fetched object (`enrich.as`).
 * JSONata reads an unknown variable as nothing, so a misspelt `$entitykey` or a `$contact`
 * without an `enrich` part would quietly write empty values.
 */
import { closest } from '../did-you-mean.ts';
import {
  isPredefined,
  JSONATA_FUNCTIONS,
  MAPPING_BINDINGS,
  SPINE_FUNCTIONS,
} from '../expression-bindings.ts';
import type { ContractRule, RuleFinding } from './rule.ts';

export const unboundVariable: ContractRule = ({ contract, expressions }) => {
  const as = contract.enrich?.as;
  const known = [...MAPPING_BINDINGS, ...JSONATA_FUNCTIONS, ...(as ? [as] : [])];
  const findings: RuleFinding[] = [];
  for (const expression of expressions) {
    const reported = new Set<string>();
    for (const read of expression.reads.reads) {
      const name = read.variable;
      if (name === as || isPredefined(name) || reported.has(name)) continue;
      reported.add(name);
      const suggestion = closest(name, known);
      const hint = suggestion
        ? `did you mean $${suggestion}?`
        : read.called
          ? `Spine's functions are $${[...SPINE_FUNCTIONS].join(', $')}; the rest are JSONata's (https://docs.jsonata.org)`
          : as
            ? `the fetched ${contract.enrich?.object} is $${as} (enrich.as); bind any other variable with := before reading it`
            : `to read an object the event only names, declare enrich (object, id, as: ${name}, schema); or bind $${name} with := before reading it`;
      findings.push({
        severity: 'error',
        rule: 'unbound-variable',
        at: expression.at,
        position: read.position,
        message: read.called
          ? `calls $${name}, which is not a function the expression has`
          : as
            ? `reads $${name}, which nothing binds (the fetched object is $${as})`
            : `reads $${name}, which nothing binds: the contract has no enrich part`,
        hint,
      });
    }
  }
  return findings;
};
