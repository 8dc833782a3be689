import { SpineError } from './spine-error.ts';

/**
 * A mapping asked a crosswalk for a vendor code it does not declare (an order in a currency, or
 * with a tax, nobody mapped to Odoo). Permanent: guessing a record would book the money wrongly.
 */
export class ReferenceNotDeclared extends SpineError {
  readonly retryable = false;
  readonly code = 'reference-not-declared';

  constructor(
    readonly contract: string,
    /** `currencies`, `taxes`, ... */
    readonly crosswalk: string,
    readonly key: string,
    /** Where the crosswalk is declared, or undefined when no crosswalk has that name. */
    readonly file: string | undefined,
    /** A declared key that differs only in case or spacing, offered as what was probably meant. */
    readonly nearest?: string,
  ) {
    super(
      file
        ? `${contract}: crosswalk ${crosswalk} has no entry ${JSON.stringify(key)}${nearest ? ` (it has ${JSON.stringify(nearest)})` : ''}`
        : `${contract}: the mapping names crosswalk ${crosswalk}, which contracts/reference/ does not declare`,
      !file
        ? `add contracts/reference/${crosswalk}.yaml or correct the crosswalk name in the mapping, build and deploy, then replay the event`
        : nearest
          ? `keys are exact: make the mapping build ${JSON.stringify(nearest)} (a compatible minor version of the contract), build and deploy, then replay the event`
          : `declare ${JSON.stringify(key)} in ${file} with the Odoo record it stands for, create that record in Odoo (\`spine reference check\` says what is missing), build and deploy, then replay the event`,
    );
  }
}
