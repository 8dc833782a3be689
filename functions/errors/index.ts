export { ConfigurationError } from './configuration-error.ts';
export { ContractViolation, type Violation } from './contract-violation.ts';
export { MappingError } from './mapping-error.ts';
export { ReferenceNotDeclared } from './reference-not-declared.ts';
export { ReferenceNotFound } from './reference-not-found.ts';
export { RelationNotFound } from './relation-not-found.ts';
export { SignatureError, type SignatureFailure } from './signature-error.ts';
export { SpineError } from './spine-error.ts';
export { TotalsDiffer } from './totals-differ.ts';
