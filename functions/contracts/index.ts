/**
 * The contract runtime. `loadContractRegistry` reads the registry compiled by
 * `spine contracts build`; the rest works on any compiled registry, which is what tests use.
 */

import { compiledRegistry } from './compiled/registry.ts';
import * as validators from './compiled/validators.js';
import { ContractRegistry } from './registry.ts';

let loaded: ContractRegistry | undefined;

/** The registry bundled with this build, created once per process (module scope, not per event). */
export function loadContractRegistry(): ContractRegistry {
  loaded ??= new ContractRegistry(compiledRegistry, validators);
  return loaded;
}

export { type Delivery, readLocator, readLocatorString, toEpochMillis } from './locator.ts';
export {
  externalIdFor,
  type MappingContext,
  mapEvent,
  type OdooValues,
  reconcileMeasure,
} from './mapping.ts';
export { minimise } from './minimise.ts';
export type * from './model.ts';
export { mask, pseudonymise, type RedactionKey, redact } from './redaction.ts';
export { type ReferenceRelation, type ReferenceTag, referenceRelation } from './reference.ts';
export {
  checkReferenceData,
  describeFind,
  type ReferenceCheckReport,
  type ReferenceResolution,
  type ReferenceStatus,
} from './reference-check.ts';
export { ContractRegistry, type SourceProfile } from './registry.ts';
