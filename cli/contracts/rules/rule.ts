/**
 * The shape of a contract rule: a pure function from a linted contract (and what its JSONata
 * expressions read) to findings, placed in the file by lint. One rule a file, so that each can
 * be read, tested with a compliant and a non-compliant contract, and extended on its own.
 */
import { LIFECYCLE_EXPRESSIONS } from '../../../functions/contracts/model.ts';
import type { ContractYaml } from '../contract-file.ts';
import { type ExpressionReads, expressionReads } from '../expression-reads.ts';
import type { Finding } from '../findings.ts';
import type { KeyPath } from '../source-document.ts';

/** One JSONata expression of a contract: the mapping, a lifecycle step's, a reconcile figure's. */
export interface ContractExpression {
  /** Where it is in the contract, e.g. `['target', 'mapping']`. */
  readonly at: KeyPath;
  readonly reads: ExpressionReads;
}

export interface RuleInput {
  /** A contract that passed contracts/contract.schema.json. */
  readonly contract: ContractYaml;
  /** Its expressions that parse (lint reports those that do not). */
  readonly expressions: readonly ContractExpression[];
}

/** A finding before lint gives it a file and a line. */
export interface RuleFinding {
  readonly severity: Finding['severity'];
  readonly rule: string;
  /** The key path the finding is about. */
  readonly at: KeyPath;
  /** Character offset within the expression at `at`, for a finding about part of one. */
  readonly position?: number;
  readonly message: string;
  readonly hint: string;
}

export type ContractRule = (input: RuleInput) => RuleFinding[];

/**
 * A contract as the rules see it: with every JSONata expression that parses and what it reads
 * (the mapping, the lifecycle steps', the reconcile figures'). Lint reports those that do not parse.
 */
export function ruleInput(contract: ContractYaml): RuleInput {
  const { target, reconcile } = contract;
  const sources: [KeyPath, string | undefined][] = [
    [['target', 'mapping'], target.mapping],
    ...(target.lifecycle ?? []).flatMap((step, i) =>
      LIFECYCLE_EXPRESSIONS.map((key): [KeyPath, string | undefined] => [
        ['target', 'lifecycle', i, key],
        step[key],
      ]),
    ),
    [['reconcile', 'sum', 'from'], reconcile.sum?.from],
    [['reconcile', 'currency'], reconcile.currency],
    ...(reconcile.amounts ?? []).map((amount, i): [KeyPath, string] => [
      ['reconcile', 'amounts', i, 'from'],
      amount.from,
    ]),
    [['reconcile', 'state', 'when'], reconcile.state?.when],
  ];
  const expressions = sources.flatMap(([at, expression]) => {
    if (expression === undefined) return [];
    try {
      return [{ at, reads: expressionReads(expression) }];
    } catch {
      return [];
    }
  });
  return { contract, expressions };
}
