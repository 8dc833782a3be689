import { describe, expect, it } from 'vitest';
import { enrichUndeclared } from '../../../../cli/contracts/rules/enrich-undeclared.ts';
import { CONTACT, input, PAYMENT_INTENT } from './contracts.ts';

describe('enrich-undeclared', () => {
  it('Compliance 1 – members enrich.schema declares, read directly, through an alias and $lookup', () => {
    const mapping = `(
      $p := $contact.properties;
      { "email": $p.email, "name": $join([$p.firstname, $contact.properties.lastname], " "),
        "phone": $lookup($p, "phone"), "ref": $contact.id }
    )`;
    expect(enrichUndeclared(input({ enrich: CONTACT, mapping }))).toEqual([]);
  });

  it('Compliance 2 – inside an expandable field, through either branch of its anyOf', () => {
    const mapping = '{ "fee": $intent.latest_charge.balance_transaction.fee }';
    expect(enrichUndeclared(input({ system: 'stripe', enrich: PAYMENT_INTENT, mapping }))).toEqual(
      [],
    );
  });

  it('Noncompliance 1 – a property the schema does not declare, with the one meant', () => {
    const mapping = '{\n  "phone": $contact.properties.fone\n}';
    const [finding, ...rest] = enrichUndeclared(input({ enrich: CONTACT, mapping }));
    expect(rest).toEqual([]);
    expect(finding).toEqual({
      severity: 'error',
      rule: 'enrich-undeclared',
      at: ['target', 'mapping'],
      position: mapping.indexOf('$contact') + '$contact'.length,
      message: 'reads $contact.properties.fone, which enrich.schema does not declare',
      hint: 'did you mean $contact.properties.phone? Members enrich.schema does not declare are dropped before mapping',
    });
  });

  it('Noncompliance 2 – a member of the object itself, in a lifecycle step', () => {
    const findings = enrichUndeclared(
      input({
        enrich: CONTACT,
        mapping: '{}',
        lifecycle: [{ step: 'confirm', when: '$contact.createdAt' }],
      }),
    );
    expect(findings.map((f) => [f.at, f.message])).toEqual([
      [
        ['target', 'lifecycle', 0, 'when'],
        'reads $contact.createdAt, which enrich.schema does not declare',
      ],
    ]);
  });
});
