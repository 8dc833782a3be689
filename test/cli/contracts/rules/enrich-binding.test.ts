import { describe, expect, it } from 'vitest';
import { enrichBinding } from '../../../../cli/contracts/rules/enrich-binding.ts';
import { CONTACT, input } from './contracts.ts';

describe('enrich-binding', () => {
  it('Compliance 1 – a plain name the expressions read as $contact', () => {
    expect(
      enrichBinding(input({ enrich: CONTACT, mapping: '{ "email": $contact.properties.email }' })),
    ).toEqual([]);
  });

  it('Compliance 2 – local variables of other names', () => {
    const mapping = '( $p := $contact.properties; { "email": $p.email } )';
    expect(enrichBinding(input({ enrich: CONTACT, mapping }))).toEqual([]);
  });

  it('Noncompliance 1 – a name that is not an identifier', () => {
    const [finding] = enrichBinding(
      input({ enrich: { ...CONTACT, as: '$contact' }, mapping: '{}' }),
    );
    expect(finding).toMatchObject({
      rule: 'enrich-binding',
      at: ['enrich', 'as'],
      message: 'enrich.as "$contact" is not a plain identifier',
    });
    expect(finding?.hint).toContain('as: contact is read as $contact');
  });

  it("Noncompliance 2 – a name that hides Spine's bindings or JSONata's functions", () => {
    const source = enrichBinding(input({ enrich: { ...CONTACT, as: 'source' }, mapping: '{}' }));
    expect(source.map((f) => [f.message, f.hint])).toEqual([
      [
        'enrich.as "source" would hide $source, which Spine binds for every expression',
        'choose another name, e.g. as: contact',
      ],
    ]);
    const string = enrichBinding(input({ enrich: { ...CONTACT, as: 'string' }, mapping: '{}' }));
    expect(string[0]?.message).toBe(
      'enrich.as "string" would hide $string, which is a JSONata function',
    );
  });

  it('Noncompliance 3 – an expression that binds the name itself, hiding the fetched object', () => {
    const mapping = '( $contact := { "x": 1 }; { "email": $contact.x } )';
    const [finding, ...rest] = enrichBinding(input({ enrich: CONTACT, mapping }));
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({
      at: ['target', 'mapping'],
      message: 'the expression binds $contact itself, which hides the fetched hubspot.contact',
    });
  });
});
