import { describe, expect, it } from 'vitest';
import type { JsonSchema } from '../../../cli/contracts/json-schema.ts';
import { diffSchemas } from '../../../cli/contracts/schema-diff.ts';

const object = (properties: Record<string, JsonSchema>, extra: JsonSchema = {}): JsonSchema => ({
  type: 'object',
  properties,
  ...extra,
});
const email: JsonSchema = { type: 'string', description: 'e-mail' };

/** [name, old schema, new schema, breaks backward?, breaks forward?, change kind expected] */
const PAIRS: [string, JsonSchema, JsonSchema, boolean, boolean, string | undefined][] = [
  ['identical schemas', object({ email }), object({ email }), false, false, undefined],
  [
    'optional field added',
    object({ email }),
    object({ email, phone: { type: 'string' } }),
    false,
    false,
    'field-added',
  ],
  [
    'required field added',
    object({ email }),
    object({ email, phone: { type: 'string' } }, { required: ['phone'] }),
    true,
    false,
    'required-field-added',
  ],
  [
    'optional field removed',
    object({ email, phone: { type: 'string' } }),
    object({ email }),
    true,
    false,
    'field-removed',
  ],
  [
    'required field removed',
    object({ email }, { required: ['email'] }),
    object({}),
    true,
    true,
    'field-removed',
  ],
  [
    'type changed string → integer',
    object({ id: { type: 'string' } }),
    object({ id: { type: 'integer' } }),
    true,
    true,
    'type-changed',
  ],
  [
    'type widened integer → number',
    object({ n: { type: 'integer' } }),
    object({ n: { type: 'number' } }),
    false,
    true,
    'type-changed',
  ],
  [
    'type narrowed number → integer',
    object({ n: { type: 'number' } }),
    object({ n: { type: 'integer' } }),
    true,
    false,
    'type-changed',
  ],
  [
    'null no longer allowed',
    object({ e: { type: ['string', 'null'] } }),
    object({ e: { type: 'string' } }),
    true,
    false,
    'type-changed',
  ],
  [
    'null now allowed',
    object({ e: { type: 'string' } }),
    object({ e: { type: ['string', 'null'] } }),
    false,
    true,
    'type-changed',
  ],
  [
    'id widened to integer or string',
    object({ id: { type: 'integer' } }),
    object({ id: { type: ['integer', 'string'] } }),
    false,
    true,
    'type-changed',
  ],
  [
    'optional made required',
    object({ email }),
    object({ email }, { required: ['email'] }),
    true,
    false,
    'required-added',
  ],
  [
    'required made optional',
    object({ email }, { required: ['email'] }),
    object({ email }),
    false,
    true,
    'required-removed',
  ],
  [
    'enum narrowed',
    object({ s: { enum: ['a', 'b'] } }),
    object({ s: { enum: ['a'] } }),
    true,
    false,
    'enum-narrowed',
  ],
  [
    'enum widened',
    object({ s: { enum: ['a'] } }),
    object({ s: { enum: ['a', 'b'] } }),
    false,
    true,
    'enum-widened',
  ],
  [
    'enum added to a free string',
    object({ s: { type: 'string' } }),
    object({ s: { type: 'string', enum: ['a'] } }),
    true,
    false,
    'enum-added',
  ],
  [
    'pattern added',
    object({ s: { type: 'string' } }),
    object({ s: { type: 'string', pattern: '^cus_' } }),
    true,
    false,
    'pattern-tightened',
  ],
  [
    'pattern changed',
    object({ s: { type: 'string', pattern: '^cus_' } }),
    object({ s: { type: 'string', pattern: '^cus_[A-Z]' } }),
    true,
    true,
    'pattern-tightened',
  ],
  [
    'pattern removed',
    object({ s: { type: 'string', pattern: '^cus_' } }),
    object({ s: { type: 'string' } }),
    false,
    true,
    'pattern-removed',
  ],
  [
    'format added',
    object({ s: { type: 'string' } }),
    object({ s: { type: 'string', format: 'date-time' } }),
    true,
    false,
    'format-tightened',
  ],
  [
    'format removed',
    object({ s: { type: 'string', format: 'email' } }),
    object({ s: { type: 'string' } }),
    false,
    true,
    'format-removed',
  ],
  [
    'additionalProperties closed',
    object({ email }),
    object({ email }, { additionalProperties: false }),
    true,
    false,
    'additional-properties-closed',
  ],
  [
    'additionalProperties opened',
    object({ email }, { additionalProperties: false }),
    object({ email }),
    false,
    true,
    'additional-properties-opened',
  ],
  [
    'maxLength lowered',
    object({ s: { type: 'string', maxLength: 50 } }),
    object({ s: { type: 'string', maxLength: 20 } }),
    true,
    false,
    'limit-tightened',
  ],
  [
    'maxLength raised',
    object({ s: { type: 'string', maxLength: 20 } }),
    object({ s: { type: 'string', maxLength: 50 } }),
    false,
    true,
    'limit-loosened',
  ],
  [
    'minimum added',
    object({ n: { type: 'integer' } }),
    object({ n: { type: 'integer', minimum: 0 } }),
    true,
    false,
    'limit-tightened',
  ],
  [
    'const changed',
    object({ t: { const: 'a' } }),
    object({ t: { const: 'b' } }),
    true,
    true,
    'const-changed',
  ],
  [
    'description changed only',
    object({ email }),
    object({ email: { ...email, description: 'billing e-mail' } }),
    false,
    false,
    undefined,
  ],
  [
    'nested field removed in an array item',
    object({
      lines: {
        type: 'array',
        items: object({ sku: { type: 'string' }, qty: { type: 'integer' } }),
      },
    }),
    object({ lines: { type: 'array', items: object({ qty: { type: 'integer' } }) } }),
    true,
    false,
    'field-removed',
  ],
  [
    'field removed behind a $ref',
    {
      type: 'object',
      $defs: { a: object({ city: { type: 'string' }, zip: { type: 'string' } }) },
      properties: { address: { $ref: '#/$defs/a' } },
    },
    {
      type: 'object',
      $defs: { a: object({ city: { type: 'string' } }) },
      properties: { address: { $ref: '#/$defs/a' } },
    },
    true,
    false,
    'field-removed',
  ],
  [
    'anyOf changed',
    object({ v: { anyOf: [{ type: 'string' }] } }),
    object({ v: { anyOf: [{ type: 'integer' }] } }),
    true,
    true,
    'composition-changed',
  ],
];

describe('diffSchemas: breaking and non-breaking pairs', () => {
  it.each(PAIRS)('%s', (_, before, after, backward, forward, kind) => {
    const changes = diffSchemas(before, after);
    expect(changes.some((c) => c.breaksBackward)).toBe(backward);
    expect(changes.some((c) => c.breaksForward)).toBe(forward);
    if (kind) expect(changes.map((c) => c.kind)).toContain(kind);
    else expect(changes).toEqual([]);
  });

  it('names the JSON path, the old and new value and why it breaks', () => {
    const [change] = diffSchemas(
      object({ data: object({ email: { type: ['string', 'null'] } }) }),
      object({ data: object({ email: { type: 'string' } }) }),
    );
    expect(change).toMatchObject({
      path: '$.data.email',
      old: 'string | null',
      new: 'string',
      breaksBackward: true,
    });
    expect(change?.why).toMatch(/null.*rejected/);
  });

  it('notes a personal data marking that was removed', () => {
    const changes = diffSchemas(
      object({ email: { ...email, 'x-pii': 'hash' } }),
      object({ email }),
    );
    expect(changes).toContainEqual(
      expect.objectContaining({ kind: 'x-pii-changed', path: '$.email', breaksBackward: false }),
    );
  });

  it('says what the schema describes in its reasons: events, or objects fetched', () => {
    const [before, after] = [object({ email }), object({ email }, { required: ['email'] })];
    expect(diffSchemas(before, after)[0]?.why).toBe(
      'events without this field, valid before, are now rejected',
    );
    expect(diffSchemas(before, after, { subject: 'fetched objects' })[0]?.why).toBe(
      'fetched objects without this field, valid before, are now rejected',
    );
  });
});
