/**
 * Compares two versions of an event schema and names every change that matters to a consumer,
 * with which direction of compatibility it breaks.
 *
 * backward: the new schema accepts every event the old one accepted, and keeps every field a
 * consumer may read. forward: the old schema accepts every event the new one accepts.
 */
import {
  isSchemaObject,
  type JsonSchema,
  propertiesOf,
  requiredOf,
  resolveSchema,
  typesOf,
} from './json-schema.ts';

export interface SchemaChange {
  /** Where in the event, e.g. `$.data.object.email`. */
  readonly path: string;
  readonly kind: string;
  readonly old: string;
  readonly new: string;
  readonly breaksBackward: boolean;
  readonly breaksForward: boolean;
  /** Why it matters to a producer or consumer. */
  readonly why: string;
}

const show = (value: unknown): string => (value === undefined ? '(none)' : JSON.stringify(value));

const LOWER_LIMITS = [
  'minimum',
  'exclusiveMinimum',
  'minLength',
  'minItems',
  'minProperties',
  'minContains',
];
const UPPER_LIMITS = [
  'maximum',
  'exclusiveMaximum',
  'maxLength',
  'maxItems',
  'maxProperties',
  'maxContains',
];

/** True when `a` contains `t`, counting integer as a kind of number. */
function allowsType(types: Set<string>, t: string): boolean {
  return types.has(t) || (t === 'integer' && types.has('number'));
}

export function diffSchemas(
  oldRoot: JsonSchema,
  newRoot: JsonSchema,
  options: {
    /** What the schema describes, in the plural, for the reasons given: `fetched objects`. */
    readonly subject?: string;
  } = {},
): SchemaChange[] {
  const subject = options.subject ?? 'events';
  const changes: SchemaChange[] = [];
  const add = (change: SchemaChange) => changes.push(change);

  const compare = (oldNode: JsonSchema, newNode: JsonSchema, path: string, depth: number) => {
    if (depth > 32) return;
    const o = resolveSchema(oldNode, oldRoot);
    const n = resolveSchema(newNode, newRoot);

    // Types.
    const oldTypes = typesOf(o);
    const newTypes = typesOf(n);
    // Without `type`, const and enum imply the types; those are compared as values below.
    const listsValues = (s: JsonSchema) => 'const' in s || Array.isArray(s.enum);
    if (o.type !== undefined || n.type !== undefined || (!listsValues(o) && !listsValues(n))) {
      const removed = [...oldTypes].filter((t) => newTypes.size > 0 && !allowsType(newTypes, t));
      const added = [...newTypes].filter((t) => oldTypes.size > 0 && !allowsType(oldTypes, t));
      if (oldTypes.size === 0 && newTypes.size > 0) {
        add({
          path,
          kind: 'type-added',
          old: 'any',
          new: [...newTypes].join(' | '),
          breaksBackward: true,
          breaksForward: false,
          why: 'values of other types that used to pass are now rejected',
        });
      } else if (newTypes.size === 0 && oldTypes.size > 0) {
        add({
          path,
          kind: 'type-removed',
          old: [...oldTypes].join(' | '),
          new: 'any',
          breaksBackward: false,
          breaksForward: true,
          why: 'consumers of the old version may receive values of a type they do not expect',
        });
      } else if (removed.length > 0 || added.length > 0) {
        add({
          path,
          kind: 'type-changed',
          old: [...oldTypes].join(' | '),
          new: [...newTypes].join(' | '),
          breaksBackward: removed.length > 0,
          breaksForward: added.length > 0,
          why:
            removed.length > 0
              ? `${subject} carrying ${removed.join(' or ')} here are now rejected, and code reading the old type breaks`
              : `the field may now be ${added.join(' or ')}, which consumers of the old version do not expect`,
        });
      }
    }

    // Constant and enumerated values.
    if (show(o.const) !== show(n.const)) {
      add({
        path,
        kind: 'const-changed',
        old: show(o.const),
        new: show(n.const),
        breaksBackward: 'const' in n,
        breaksForward: 'const' in o,
        why:
          'const' in n
            ? `${subject} with the old value are now rejected`
            : 'values other than the old constant can now arrive',
      });
    }
    const oldEnum = Array.isArray(o.enum) ? o.enum.map(show) : undefined;
    const newEnum = Array.isArray(n.enum) ? n.enum.map(show) : undefined;
    if (oldEnum && newEnum) {
      const dropped = oldEnum.filter((v) => !newEnum.includes(v));
      const gained = newEnum.filter((v) => !oldEnum.includes(v));
      if (dropped.length > 0) {
        add({
          path,
          kind: 'enum-narrowed',
          old: `[${oldEnum.join(', ')}]`,
          new: `[${newEnum.join(', ')}]`,
          breaksBackward: true,
          breaksForward: false,
          why: `${subject} with ${dropped.join(', ')} are now rejected`,
        });
      }
      if (gained.length > 0) {
        add({
          path,
          kind: 'enum-widened',
          old: `[${oldEnum.join(', ')}]`,
          new: `[${newEnum.join(', ')}]`,
          breaksBackward: false,
          breaksForward: true,
          why: `consumers of the old version do not know ${gained.join(', ')}`,
        });
      }
    } else if (newEnum && !oldEnum) {
      add({
        path,
        kind: 'enum-added',
        old: '(any value)',
        new: `[${newEnum.join(', ')}]`,
        breaksBackward: true,
        breaksForward: false,
        why: 'values outside the new list that used to pass are now rejected',
      });
    } else if (oldEnum && !newEnum) {
      add({
        path,
        kind: 'enum-removed',
        old: `[${oldEnum.join(', ')}]`,
        new: '(any value)',
        breaksBackward: false,
        breaksForward: true,
        why: 'consumers of the old version may receive values outside the old list',
      });
    }

    // Pattern and format: a new or different one can only be assumed tighter.
    for (const keyword of ['pattern', 'format'] as const) {
      const before = o[keyword];
      const after = n[keyword];
      if (show(before) === show(after)) continue;
      if (after !== undefined) {
        add({
          path,
          kind: `${keyword}-tightened`,
          old: show(before),
          new: show(after),
          breaksBackward: true,
          breaksForward: before !== undefined,
          why: `values that matched ${before === undefined ? 'no constraint' : `the old ${keyword}`} may now be rejected`,
        });
      } else {
        add({
          path,
          kind: `${keyword}-removed`,
          old: show(before),
          new: '(none)',
          breaksBackward: false,
          breaksForward: true,
          why: `consumers of the old version may receive values outside the old ${keyword}`,
        });
      }
    }

    // Numeric and size limits.
    for (const keyword of [...LOWER_LIMITS, ...UPPER_LIMITS]) {
      const before = typeof o[keyword] === 'number' ? (o[keyword] as number) : undefined;
      const after = typeof n[keyword] === 'number' ? (n[keyword] as number) : undefined;
      if (before === after) continue;
      const lower = LOWER_LIMITS.includes(keyword);
      const tighter =
        before === undefined || (after !== undefined && (lower ? after > before : after < before));
      if (after !== undefined && tighter) {
        add({
          path,
          kind: 'limit-tightened',
          old: `${keyword} ${show(before)}`,
          new: `${keyword} ${after}`,
          breaksBackward: true,
          breaksForward: false,
          why: 'values within the old limit are now rejected',
        });
      } else {
        add({
          path,
          kind: 'limit-loosened',
          old: `${keyword} ${show(before)}`,
          new: `${keyword} ${show(after)}`,
          breaksBackward: false,
          breaksForward: true,
          why: 'consumers of the old version may receive values outside the old limit',
        });
      }
    }
    if (o.multipleOf !== n.multipleOf) {
      add({
        path,
        kind: 'multiple-of-changed',
        old: show(o.multipleOf),
        new: show(n.multipleOf),
        breaksBackward: n.multipleOf !== undefined,
        breaksForward: o.multipleOf !== undefined,
        why: 'values valid under the old step may be rejected',
      });
    }
    if (o.uniqueItems !== true && n.uniqueItems === true) {
      add({
        path,
        kind: 'unique-items-added',
        old: 'duplicates allowed',
        new: 'uniqueItems',
        breaksBackward: true,
        breaksForward: false,
        why: 'arrays with repeated items are now rejected',
      });
    }

    // Composition cannot be compared branch by branch with confidence.
    for (const keyword of ['anyOf', 'oneOf', 'allOf', 'not', 'if']) {
      if (JSON.stringify(o[keyword]) !== JSON.stringify(n[keyword])) {
        add({
          path,
          kind: 'composition-changed',
          old: `${keyword} ${o[keyword] === undefined ? '(none)' : '…'}`,
          new: `${keyword} ${n[keyword] === undefined ? '(none)' : '…'}`,
          breaksBackward: true,
          breaksForward: true,
          why: `a changed ${keyword} cannot be proven compatible`,
        });
      }
    }

    // Personal data markings: not a compatibility matter, but worth a reviewer's eye.
    if (o['x-pii'] !== n['x-pii']) {
      add({
        path,
        kind: 'x-pii-changed',
        old: show(o['x-pii']),
        new: show(n['x-pii']),
        breaksBackward: false,
        breaksForward: false,
        why:
          n['x-pii'] === undefined || n['x-pii'] === 'none'
            ? 'this value will now appear unredacted in logs and lineage'
            : 'logs and lineage will show this value differently',
      });
    }

    // Object members.
    const oldProps = propertiesOf(o, oldRoot);
    const newProps = propertiesOf(n, newRoot);
    const oldRequired = requiredOf(o, oldRoot);
    const newRequired = requiredOf(n, newRoot);
    const child = (name: string) =>
      /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? `${path}.${name}` : `${path}['${name}']`;
    for (const [name, before] of oldProps) {
      const after = newProps.get(name);
      if (!after) {
        add({
          path: child(name),
          kind: 'field-removed',
          old: 'declared',
          new: '(removed)',
          breaksBackward: true,
          breaksForward: oldRequired.has(name),
          why: 'minimising now drops this field, so mappings and consumers that read it get nothing',
        });
        continue;
      }
      if (!oldRequired.has(name) && newRequired.has(name)) {
        add({
          path: child(name),
          kind: 'required-added',
          old: 'optional',
          new: 'required',
          breaksBackward: true,
          breaksForward: false,
          why: `${subject} without this field, valid before, are now rejected`,
        });
      } else if (oldRequired.has(name) && !newRequired.has(name)) {
        add({
          path: child(name),
          kind: 'required-removed',
          old: 'required',
          new: 'optional',
          breaksBackward: false,
          breaksForward: true,
          why: 'consumers of the old version rely on this field being present',
        });
      }
      compare(before.schema, after.schema, child(name), depth + 1);
    }
    for (const [name] of newProps) {
      if (oldProps.has(name)) continue;
      const required = newRequired.has(name);
      add({
        path: child(name),
        kind: required ? 'required-field-added' : 'field-added',
        old: '(absent)',
        new: required ? 'required' : 'optional',
        breaksBackward: required,
        breaksForward: o.additionalProperties === false,
        why: required
          ? `${subject} without this new field, valid before, are now rejected`
          : o.additionalProperties === false
            ? 'the old schema refuses unknown fields'
            : 'compatible: a new optional field',
      });
    }
    const oldOpen = o.additionalProperties !== false;
    const newOpen = n.additionalProperties !== false;
    if (oldOpen && !newOpen) {
      add({
        path,
        kind: 'additional-properties-closed',
        old: 'open',
        new: 'additionalProperties: false',
        breaksBackward: true,
        breaksForward: false,
        why: `${subject} carrying any undeclared field are now rejected; vendors add fields without notice`,
      });
    } else if (!oldOpen && newOpen) {
      add({
        path,
        kind: 'additional-properties-opened',
        old: 'additionalProperties: false',
        new: 'open',
        breaksBackward: false,
        breaksForward: true,
        why: 'consumers of the old version refuse undeclared fields',
      });
    }
    if (isSchemaObject(o.additionalProperties) && isSchemaObject(n.additionalProperties)) {
      compare(o.additionalProperties, n.additionalProperties, `${path}[*]`, depth + 1);
    }

    // Array items.
    if (isSchemaObject(o.items) && isSchemaObject(n.items)) {
      compare(o.items, n.items, `${path}[*]`, depth + 1);
    } else if (isSchemaObject(n.items) && !isSchemaObject(o.items)) {
      add({
        path: `${path}[*]`,
        kind: 'items-constrained',
        old: '(any items)',
        new: 'items schema',
        breaksBackward: true,
        breaksForward: false,
        why: 'array items that used to pass may now be rejected',
      });
    }
  };

  compare(oldRoot, newRoot, '$', 0);
  return changes;
}
