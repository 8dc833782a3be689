/**
 * `enrich-binding`: the name the expressions read the fetched object by (`enrich.as`) is a
 * plain identifier that hides nothing the expressions already have ($entityKey, $reference,
 * $string, ...), and no expression hides it by binding the same name itself.
 */
import { isPredefined, MAPPING_BINDINGS } from '../expression-bindings.ts';
import type { ContractRule, RuleFinding } from './rule.ts';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A name for the object that hides nothing: the object part of its kind, e.g. `contact`. */
function suggestedName(object: string): string {
  const name = object.split('.').at(-1) ?? '';
  return IDENTIFIER.test(name) && !isPredefined(name) ? name : 'fetched';
}

export const enrichBinding: ContractRule = ({ contract, expressions }) => {
  const enrich = contract.enrich;
  if (!enrich) return [];
  const as = enrich.as;
  const error = (message: string, hint: string): RuleFinding => ({
    severity: 'error',
    rule: 'enrich-binding',
    at: ['enrich', 'as'],
    message,
    hint,
  });
  if (!IDENTIFIER.test(as))
    return [
      error(
        `enrich.as "${as}" is not a plain identifier`,
        `write letters, digits and _ (not first), without the $: as: ${suggestedName(enrich.object)} is read as $${suggestedName(enrich.object)}`,
      ),
    ];
  if (isPredefined(as))
    return [
      error(
        `enrich.as "${as}" would hide $${as}, which ${MAPPING_BINDINGS.has(as) ? 'Spine binds for every expression' : 'is a JSONata function'}`,
        `choose another name, e.g. as: ${suggestedName(enrich.object)}`,
      ),
    ];
  return expressions
    .filter((expression) => expression.reads.bound.has(as))
    .map((expression) => ({
      severity: 'error',
      rule: 'enrich-binding',
      at: expression.at,
      message: `the expression binds $${as} itself, which hides the fetched ${enrich.object}`,
      hint: `rename the local variable, or read the fetched object as $${as} directly`,
    }));
};
