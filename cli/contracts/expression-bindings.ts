/**
 * The variables every contract expression may read without binding them: what
 * functions/contracts/mapping.ts passes to each evaluation, and JSONata's own functions.
 * A contract's `enrich.as` must hide none of them.
 */

/** Spine's functions, registered or bound by functions/contracts/mapping.ts. */
export const SPINE_FUNCTIONS: ReadonlySet<string> = new Set([
  'reference',
  'fromMinorUnits',
  'isoDate',
  'odooDatetime',
]);

/** Everything `evaluateExpression` in functions/contracts/mapping.ts binds: values and functions. */
export const MAPPING_BINDINGS: ReadonlySet<string> = new Set([
  'entityKey',
  'eventId',
  'source',
  'account',
  ...SPINE_FUNCTIONS,
]);

/** JSONata 2's function library (its static frame, with `$now` and `$millis`). */
export const JSONATA_FUNCTIONS: ReadonlySet<string> = new Set(
  [
    'sum count max min average string substring substringBefore substringAfter lowercase',
    'uppercase length trim pad match contains replace split join formatNumber formatBase',
    'formatInteger parseInteger number floor ceil round abs sqrt power random boolean not map',
    'zip filter single reduce sift keys lookup append exists spread merge reverse each error',
    'assert type sort shuffle distinct base64encode base64decode encodeUrlComponent encodeUrl',
    'decodeUrlComponent decodeUrl eval toMillis fromMillis clone now millis',
  ]
    .join(' ')
    .split(' '),
);

/** Whether `$name` means something in every expression, before any `enrich.as`. */
export function isPredefined(name: string): boolean {
  return MAPPING_BINDINGS.has(name) || JSONATA_FUNCTIONS.has(name);
}
