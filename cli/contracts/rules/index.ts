/** The contract rules written one a file (rules/*.ts); lint runs them after its own checks. */
import { enrichBinding } from './enrich-binding.ts';
import { enrichFetch } from './enrich-fetch.ts';
import { enrichObject } from './enrich-object.ts';
import { enrichThin } from './enrich-thin.ts';
import { enrichUndeclared } from './enrich-undeclared.ts';
import type { ContractRule } from './rule.ts';
import { unboundVariable } from './unbound-variable.ts';

export type { ContractExpression, ContractRule, RuleFinding, RuleInput } from './rule.ts';
export { ruleInput } from './rule.ts';

/** Rules over the contract and what its expressions read. */
export const CONTRACT_RULES: readonly ContractRule[] = [
  unboundVariable,
  enrichObject,
  enrichBinding,
  enrichThin,
];

/** Rules that also read `enrich.schema`, run only once it is a usable JSON Schema. */
export const ENRICH_SCHEMA_RULES: readonly ContractRule[] = [enrichUndeclared, enrichFetch];
