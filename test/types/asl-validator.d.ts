// asl-validator ships no types: this is the part of its API the template tests use.
declare module 'asl-validator' {
  interface AslValidation {
    readonly isValid: boolean;
    errorsText(separator?: string): string;
  }

  export default function aslValidator(definition: unknown): AslValidation;
}
