import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Finding } from '../../../cli/contracts/findings.ts';
import { lintContracts } from '../../../cli/contracts/lint.ts';
import { SourceDocument } from '../../../cli/contracts/source-document.ts';
import { ENRICHED_CONTRACT, ENRICHED_FILE } from '../../support/enriched-contract.ts';

const ROOT = new URL('../../../', import.meta.url).pathname;
const read = (file: string) => readFileSync(`${ROOT}${file}`, 'utf8');
const FILE = 'contracts/stripe/customer.v1.yaml';
const CUSTOMER = read(FILE);
const flows = SourceDocument.parse('contracts/flows.yaml', read('contracts/flows.yaml'));

function edit(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`fixture text not found: ${from}`);
  return text.replace(from, to);
}

// The committed crosswalks, which contracts' mappings use through $reference.
const reference = readdirSync(`${ROOT}contracts/reference`).map((name) =>
  SourceDocument.parse(`contracts/reference/${name}`, read(`contracts/reference/${name}`)),
);

function lint(...files: [string, string][]) {
  return lintContracts({
    flows,
    contracts: files.map(([file, text]) => SourceDocument.parse(file, text)),
    reference,
  });
}

/** The text of the line a finding points at, so tests check the line really is the culprit. */
function lineText(text: string, finding: Finding | undefined): string {
  if (!finding?.line) throw new Error(`finding has no line: ${JSON.stringify(finding)}`);
  return text.split('\n')[finding.line - 1] ?? '';
}

function only(findings: readonly Finding[], rule: string): Finding {
  const matching = findings.filter((f) => f.rule === rule);
  expect(matching, JSON.stringify(findings, null, 2)).toHaveLength(1);
  return matching[0] as Finding;
}

describe('contracts lint', () => {
  it('passes every committed contract without errors or warnings', () => {
    const files = readdirSync(`${ROOT}contracts`, { withFileTypes: true })
      // contracts/reference/ holds crosswalks, not contracts (test/contracts/reference.test.ts).
      .filter((d) => d.isDirectory() && d.name !== 'reference')
      .flatMap((d) =>
        readdirSync(`${ROOT}contracts/${d.name}`).map((f) => `contracts/${d.name}/${f}`),
      );
    const result = lint(...files.map((f) => [f, read(f)] as [string, string]));
    expect(result.findings).toEqual([]);
    expect(result.contracts).toHaveLength(files.length);
  });

  it('reports a YAML syntax error with its line', () => {
    const text = edit(CUSTOMER, '  team: revenue-operations', '  team: [revenue-operations');
    const finding = only(lint([FILE, text]).findings, 'yaml-syntax');
    expect(finding.severity).toBe('error');
    // YAML notices an unclosed [ on the line after it; the report names that line.
    const line = finding.line ?? 0;
    expect(
      text
        .split('\n')
        .slice(line - 2, line)
        .join('\n'),
    ).toContain('team: [revenue-operations');
  });

  it('reports an invalid JSON Schema keyword value with its path and line', () => {
    const text = edit(
      CUSTOMER,
      '      type: string\n      pattern: ^evt_',
      '      type: strin\n      pattern: ^evt_',
    );
    const finding = only(lint([FILE, text]).findings, 'schema-invalid');
    expect(finding.path).toBe('schema.properties.id.type');
    expect(finding.message).toContain('"string"');
    expect(lineText(text, finding)).toContain('type: strin');
  });

  it('suggests the keyword meant by a misspelt one', () => {
    const text = edit(
      CUSTOMER,
      '      description: Always "event".',
      '      desciption: Always "event".',
    );
    const finding = only(lint([FILE, text]).findings, 'schema-keyword');
    expect(finding.hint).toBe('did you mean "description"?');
    expect(lineText(text, finding)).toContain('desciption');
  });

  it('reports a JSONata mapping that does not parse, on the line of the mistake', () => {
    const text = edit(CUSTOMER, '"city": $c.address.city,', '"city": $c.address.city(,');
    const finding = only(lint([FILE, text]).findings, 'mapping-syntax');
    expect(finding.path).toBe('target.mapping');
    expect(lineText(text, finding)).toContain('$c.address.city(,');
  });

  it('refuses a mapping that writes a field the allowlist does not hold', () => {
    const text = edit(
      CUSTOMER,
      '"customer_rank": 1\n',
      '"customer_rank": 1,\n        "vat": $c.tax_id\n',
    );
    const finding = only(lint([FILE, text]).findings, 'write-allowlist');
    expect(finding.message).toContain('"vat"');
    expect(finding.hint).toContain('target.write');
    expect(lineText(text, finding)).toContain('"vat"');
  });

  it('refuses a mapping whose fields cannot be known without running it', () => {
    const text = edit(
      CUSTOMER,
      '"customer_rank": 1\n',
      '"customer_rank": 1,\n        $c.id: true\n',
    );
    expect(only(lint([FILE, text]).findings, 'mapping-shape').message).toContain('computed');
  });

  it('refuses two contracts that claim the same source and event type, naming both files', () => {
    const other = edit(
      edit(CUSTOMER, 'id: stripe.customer', 'id: stripe.customer-copy'),
      'stripe_customer_{entityKey}',
      'stripe_copy_{entityKey}',
    );
    const findings = lint(
      [FILE, CUSTOMER],
      ['contracts/stripe/customer-copy.v1.yaml', other],
    ).findings;
    const duplicates = findings.filter((f) => f.rule === 'duplicate-route');
    expect(duplicates.map((f) => f.message)).toEqual([
      expect.stringContaining('"customer.created" is also routed by stripe.customer'),
      expect.stringContaining('"customer.updated" is also routed by stripe.customer'),
    ]);
    expect(duplicates[0]?.message).toContain(FILE);
    expect(duplicates[0]?.file).toBe('contracts/stripe/customer-copy.v1.yaml');
  });

  it('requires a description on every field', () => {
    const text = edit(
      CUSTOMER,
      '\n                  description: Two-letter ISO country code.',
      '',
    );
    const finding = only(lint([FILE, text]).findings, 'field-description');
    expect(finding.message).toContain('$.data.object.address.country');
  });

  it('warns about a personal-looking field without x-pii, and only warns', () => {
    const text = edit(
      CUSTOMER,
      '              type: [string, "null"]\n              x-pii: hash\n',
      '              type: [string, "null"]\n',
    );
    const result = lint([FILE, text]);
    const finding = only(result.findings, 'personal-data');
    expect(finding.severity).toBe('warning');
    expect(finding.message).toContain('$.data.object.email');
    expect(result.contracts).toHaveLength(1);
  });

  it('suggests the key meant by an unknown top-level key', () => {
    const text = edit(CUSTOMER, 'flow: customers', 'flwo: customers');
    const findings = lint([FILE, text]).findings.filter((f) => f.rule === 'contract-format');
    expect(findings.map((f) => f.hint)).toContain('did you mean "flow"?');
    expect(findings.map((f) => f.message)).toContain('missing required key "flow"');
  });

  it('refuses a flow that flows.yaml does not declare, listing the known ones', () => {
    const finding = only(
      lint([FILE, edit(CUSTOMER, 'flow: customers', 'flow: crm')]).findings,
      'flow-unknown',
    );
    expect(finding.hint).toContain('customers, orders, payments');
  });

  it('refuses a locator that points at a field the schema does not declare', () => {
    const text = edit(
      CUSTOMER,
      'entityKey: { path: $.data.object.id }',
      'entityKey: { path: $.data.object.uid }',
    );
    expect(only(lint([FILE, text]).findings, 'locator').message).toContain('$.data.object.uid');
  });

  it('refuses a version whose major does not match the file name', () => {
    const finding = only(
      lint([FILE, edit(CUSTOMER, 'version: 1.1.0', 'version: 2.0.0')]).findings,
      'file-name',
    );
    expect(finding.hint).toContain('customer.v2.yaml');
  });

  it('refuses a create-only field outside the allowlist', () => {
    const text = edit(
      CUSTOMER,
      'createOnly: [name, phone, customer_rank]',
      'createOnly: [name, phone, customer_rank, vat]',
    );
    expect(only(lint([FILE, text]).findings, 'ownership').message).toContain('"vat"');
  });

  describe('target.lifecycle', () => {
    const PAYMENT_FILE = 'contracts/stripe/payment-intent.v1.yaml';
    const PAYMENT = read(PAYMENT_FILE);
    const STEPS = `  lifecycle:
    - step: post
    - step: reconcile`;

    it('refuses reconcile before post, on the line of the step', () => {
      const text = edit(
        PAYMENT,
        STEPS,
        `  lifecycle:
    - step: reconcile
      with: '{ "@model": "account.move", "@externalId": "stripe_invoice_x" }'
    - step: post
    - step: reconcile`,
      );
      const findings = lint([PAYMENT_FILE, text]).findings.filter((f) => f.rule === 'lifecycle');
      expect(findings.map((f) => f.message)).toEqual([
        'reconcile comes before post, but only posted entries are reconciled',
        'step reconcile appears twice',
      ]);
      expect(lineText(text, findings[0])).toContain('step: reconcile');
    });

    it('refuses a lifecycle on a model that is not posted', () => {
      const text = edit(CUSTOMER, '  mapping: |', '  lifecycle:\n    - step: post\n  mapping: |');
      expect(only(lint([FILE, text]).findings, 'lifecycle').message).toContain('res.partner');
    });

    it('refuses a reconcile step without its counterpart, and a JSONata that does not parse', () => {
      const missing = lint([
        PAYMENT_FILE,
        edit(PAYMENT, `${STEPS}\n      with: >-`, `${STEPS}\n      total: >-`),
      ]);
      expect(only(missing.findings, 'contract-format').message).toContain('"with"');
      const broken = lint([
        PAYMENT_FILE,
        edit(
          PAYMENT,
          STEPS,
          '  lifecycle:\n    - step: post\n      total: amount (\n    - step: reconcile',
        ),
      ]);
      expect(only(broken.findings, 'mapping-syntax').path).toBe('target.lifecycle[0].total');
    });

    describe('on an order', () => {
      const ORDER_FILE = 'contracts/shopify/order.v1.yaml';
      const ORDER = read(ORDER_FILE);
      const orderSteps = (steps: string) =>
        ORDER.replace(/ {2}lifecycle:\n( {4}.*\n| {6}.*\n)+/, `  lifecycle:\n${steps}\n`);

      it('passes the committed totals, cancel and confirm steps', () => {
        expect(lint([ORDER_FILE, ORDER]).findings.filter((f) => f.rule === 'lifecycle')).toEqual(
          [],
        );
      });

      it('refuses confirm before totals, and post on an order', () => {
        const text = orderSteps(
          '    - step: confirm\n    - step: totals\n      total: $number(total_price)\n    - step: post',
        );
        const findings = lint([ORDER_FILE, text]).findings.filter((f) => f.rule === 'lifecycle');
        expect(findings.map((f) => f.message)).toEqual([
          'confirm comes before totals, but an order is confirmed only once its totals match',
          'step post on sale.order: it moves account.move and account.payment only',
        ]);
        expect(lineText(text, findings[0])).toContain('step: confirm');
      });

      it('refuses a key on a step that does not read it', () => {
        const text = orderSteps('    - step: confirm\n      tax: $number(total_tax)');
        expect(only(lint([ORDER_FILE, text]).findings, 'lifecycle').message).toBe(
          '"tax" belongs to totals, not confirm',
        );
      });

      it('refuses totals on a payment', () => {
        const text = edit(
          PAYMENT,
          STEPS,
          STEPS.replace('  lifecycle:', '  lifecycle:\n    - step: totals\n      total: "1"'),
        );
        expect(only(lint([PAYMENT_FILE, text]).findings, 'lifecycle').message).toBe(
          'step totals on account.payment: it moves sale.order only',
        );
      });
    });
  });
});

describe('contracts lint: what the vendor said (reconcile)', () => {
  const INVOICE_FILE = 'contracts/stripe/invoice-paid.v1.yaml';
  const INVOICE = read(INVOICE_FILE);

  it('passes the committed currency, amounts and state', () => {
    expect(lint([INVOICE_FILE, INVOICE]).findings.filter((f) => f.severity === 'error')).toEqual(
      [],
    );
  });

  it('refuses a currency, an amount or a state condition that does not parse, each on its line', () => {
    const text = edit(
      edit(
        edit(
          INVOICE,
          '  currency: $uppercase(data.object.currency)',
          '  currency: $uppercase(data.object.currency',
        ),
        'from: "$fromMinorUnits(data.object.total, data.object.currency)"',
        'from: "$fromMinorUnits(data.object.total, "',
      ),
      '    when: $type(data.object.payment_intent) = "string"',
      '    when: $type(data.object.payment_intent) = ',
    );
    const findings = lint([INVOICE_FILE, text]).findings.filter((f) => f.rule === 'mapping-syntax');
    expect(findings.map((f) => f.path)).toEqual([
      'reconcile.currency',
      'reconcile.amounts[0].from',
      'reconcile.state.when',
    ]);
    expect(lineText(text, findings[0])).toContain('currency: $uppercase');
    expect(lineText(text, findings[2])).toContain('when:');
  });

  it('refuses an amount field compared twice', () => {
    const text = edit(INVOICE, '    - field: amount_tax', '    - field: amount_total');
    expect(only(lint([INVOICE_FILE, text]).findings, 'reconcile').message).toBe(
      'reconcile.amounts names "amount_total" twice',
    );
  });
});

describe('contracts lint: enrich', () => {
  const withMapping = (mapping: string) =>
    edit(
      ENRICHED_CONTRACT,
      ENRICHED_CONTRACT.slice(
        ENRICHED_CONTRACT.indexOf('  mapping: |'),
        ENRICHED_CONTRACT.indexOf('  write: '),
      ),
      `  mapping: |\n${mapping.replace(/^/gm, '    ')}\n`,
    );

  it('passes an enriched thin contract without errors or warnings', () => {
    const result = lint([ENRICHED_FILE, ENRICHED_CONTRACT]);
    // Linted alone, it leaves the other flows without a contract; that is flows.yaml's to say.
    expect(result.findings.filter((f) => f.file === ENRICHED_FILE)).toEqual([]);
    expect(result.contracts).toHaveLength(1);
  });

  it('refuses a property read but not fetched, and one not declared, each on the line of its read', () => {
    const text = withMapping(
      '{\n  "email": $contact.properties.email,\n  "function": $contact.properties.jobtitle\n}',
    );
    const findings = lint([ENRICHED_FILE, text]).findings;
    const fetch = only(findings, 'enrich-fetch');
    expect(fetch.message).toBe(
      'reads $contact.properties.jobtitle, but enrich.properties does not fetch "jobtitle"',
    );
    expect(fetch.hint).toContain('add jobtitle to enrich.properties');
    expect(lineText(text, fetch)).toContain('"function": $contact.properties.jobtitle');
    const undeclared = only(findings, 'enrich-undeclared');
    expect(undeclared.path).toBe('target.mapping');
    expect(lineText(text, undeclared)).toContain('jobtitle');
  });

  it('refuses $contact in a contract without enrich, on the line of the read', () => {
    const start = ENRICHED_CONTRACT.indexOf('enrich:\n');
    const text =
      ENRICHED_CONTRACT.slice(0, start) +
      ENRICHED_CONTRACT.slice(ENRICHED_CONTRACT.indexOf('target:\n'));
    const findings = lint([ENRICHED_FILE, text]).findings;
    const finding = only(findings, 'unbound-variable');
    expect(finding.message).toBe(
      'reads $contact, which nothing binds: the contract has no enrich part',
    );
    expect(lineText(text, finding)).toContain('$p := $contact.properties');
  });

  it('checks enrich.schema as it checks the event schema, with paths from $contact', () => {
    const misspelt = edit(
      ENRICHED_CONTRACT,
      '      archived: { type: boolean }',
      '      archived: { typ: boolean }',
    );
    const keyword = only(lint([ENRICHED_FILE, misspelt]).findings, 'schema-keyword');
    expect(keyword.path).toBe('enrich.schema.properties.archived.typ');
    expect(keyword.hint).toBe('did you mean "type"?');
    const unmarked = edit(
      ENRICHED_CONTRACT,
      '          phone: { type: [string, "null"], x-pii: hash }',
      '          phone: { type: [string, "null"] }',
    );
    const result = lint([ENRICHED_FILE, unmarked]);
    const personal = only(result.findings, 'personal-data');
    expect(personal.severity).toBe('warning');
    expect(personal.message).toBe(
      'field $contact.properties.phone looks like a phone number but has no x-pii',
    );
    expect(lineText(unmarked, personal)).toContain('phone: { type: [string, "null"] }');
    expect(result.contracts).toHaveLength(1);
  });

  it('refuses an enrich.id the event schema does not declare', () => {
    const text = edit(
      ENRICHED_CONTRACT,
      '  id: { path: $.objectId }',
      '  id: { path: $.object_id }',
    );
    const finding = only(lint([ENRICHED_FILE, text]).findings, 'locator');
    expect(finding.path).toBe('enrich.id.path');
    expect(finding.message).toBe(
      'enrich.id points to $.object_id, which the schema does not declare',
    );
  });

  it('refuses an unknown object, a bad name and a header id, and warns about an event that is not thin', () => {
    const unknown = lint([
      ENRICHED_FILE,
      edit(ENRICHED_CONTRACT, 'object: hubspot.contact', 'object: hubspot.deal'),
    ]).findings;
    expect(only(unknown, 'enrich-object').message).toBe(
      'enrich.object "hubspot.deal" is not a vendor object Spine can fetch',
    );
    const named = lint([
      ENRICHED_FILE,
      edit(ENRICHED_CONTRACT, 'as: contact', 'as: eventId'),
    ]).findings;
    expect(only(named, 'enrich-binding').message).toContain('would hide $eventId');
    const header = lint([
      ENRICHED_FILE,
      edit(ENRICHED_CONTRACT, '  id: { path: $.objectId }', '  id: { header: x-object-id }'),
    ]).findings;
    expect(header.filter((f) => f.rule === 'contract-format').map((f) => f.message)).toEqual([
      'missing required key "path" in enrich.id',
      'unknown key "header"',
    ]);
    const notThin = lint([ENRICHED_FILE, edit(ENRICHED_CONTRACT, '  thin: true\n', '')]);
    const warning = only(notThin.findings, 'enrich-thin');
    expect(warning.severity).toBe('warning');
    expect(notThin.contracts).toHaveLength(1);
  });
});
