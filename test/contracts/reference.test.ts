/**
 * Reference data: crosswalk files lint, mappings use them through `$reference`, `contracts check`
 * keeps entries a contract uses, and an event whose reference cannot be resolved fails for good
 * with the crosswalk entry named.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkContracts } from '../../cli/contracts/check.ts';
import type { Finding } from '../../cli/contracts/findings.ts';
import { lintContracts } from '../../cli/contracts/lint.ts';
import { SourceDocument } from '../../cli/contracts/source-document.ts';
import { loadContractRegistry, mapEvent } from '../../functions/contracts/index.ts';
import { ReferenceNotDeclared, ReferenceNotFound } from '../../functions/errors/index.ts';
import type { Envelope } from '../../functions/ingest/envelope.ts';
import { parseEventJson } from '../../functions/ingest/event-json.ts';
import { type ApplyOutcome, applyEnvelopes } from '../../functions/sync/apply.ts';
import { setUpReferenceData } from '../../local/odoo/reference-setup.ts';
import { type OdooEmulator, startOdooEmulator } from '../../local/odoo/server.ts';
import { loadFixture } from '../support/fixtures.ts';
import { MemoryLineageStore } from '../support/memory-lineage.ts';
import { integrationClient } from '../support/odoo.ts';
import { contractNamed, queuedEnvelope } from '../support/queued-events.ts';
import { syncDependencies } from '../support/sync.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const read = (file: string) => readFileSync(`${ROOT}${file}`, 'utf8');
const REFUND = 'contracts/shopify/refund.v1.yaml';
const CURRENCIES = 'contracts/reference/currencies.yaml';
const TAXES = 'contracts/reference/taxes.yaml';

const committedReference = () =>
  readdirSync(`${ROOT}contracts/reference`).map((name) => `contracts/reference/${name}`);

function edit(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`fixture text not found: ${from}`);
  return text.replace(from, to);
}

/** Lints the committed flows, the refund contract and the crosswalks, with `changed` files replaced. */
function lint(changed: Record<string, string> = {}) {
  const doc = (file: string) => SourceDocument.parse(file, changed[file] ?? read(file));
  const reference = [...new Set([...committedReference(), ...Object.keys(changed)])].filter((f) =>
    f.startsWith('contracts/reference/'),
  );
  return lintContracts({
    flows: doc('contracts/flows.yaml'),
    contracts: [doc(REFUND)],
    reference: reference.map(doc),
  });
}

function only(findings: readonly Finding[], rule: string): Finding {
  const matching = findings.filter((f) => f.rule === rule);
  expect(matching, JSON.stringify(findings, null, 2)).toHaveLength(1);
  return matching[0] as Finding;
}

const lineOf = (text: string, finding: Finding) => text.split('\n')[(finding.line ?? 0) - 1] ?? '';

describe('reference data lint', () => {
  it('passes every committed crosswalk and the contract that uses one', () => {
    const result = lint();
    // Only one contract is linted here, so flows.yaml rightly warns of flows without one.
    expect(result.findings.filter((f) => f.file !== 'contracts/flows.yaml')).toEqual([]);
    expect(result.reference.map((c) => c.crosswalk.crosswalk).sort()).toEqual([
      'companies',
      'countries',
      'currencies',
      'journals',
      'pricelists',
      'service-products',
      'taxes',
    ]);
  });

  it('refuses a model reference data may not point to, suggesting the one meant', () => {
    const text = edit(read(CURRENCIES), 'model: res.currency', 'model: res.curency');
    const finding = only(lint({ [CURRENCIES]: text }).findings, 'reference-model');
    expect(finding.severity).toBe('error');
    expect(finding.message).toContain('"res.curency" is not a model');
    expect(finding.hint).toBe('did you mean "res.currency"?');
    expect(lineOf(text, finding)).toContain('model: res.curency');
  });

  it('refuses a key declared twice, and keys that differ only in case', () => {
    const twice = edit(read(CURRENCIES), '  EUR:\n', '  USD:\n');
    const duplicate = only(lint({ [CURRENCIES]: twice }).findings, 'yaml-syntax');
    expect(duplicate.message).toMatch(/unique/i);

    const cased = edit(read(CURRENCIES), '  EUR:\n', '  usd:\n');
    const finding = only(lint({ [CURRENCIES]: cased }).findings, 'reference-duplicate-key');
    expect(finding.message).toBe('key "usd" differs from "USD" only in case or spacing');
    expect(lineOf(cased, finding)).toContain('usd:');
  });

  it('refuses a find field the model does not have, and a record compared as a value', () => {
    const text = edit(read(TAXES), '      amount_type: percent\n', '      amount_typ: percent\n');
    const finding = only(lint({ [TAXES]: text }).findings, 'reference-field');
    expect(finding.message).toContain('account.tax has no field "amount_typ"');
    expect(finding.hint).toBe('did you mean "amount_type"?');
    expect(lineOf(text, finding)).toContain('amount_typ: percent');

    const record = edit(read(TAXES), '      amount_type: percent\n', '      company_id: 1\n');
    expect(only(lint({ [TAXES]: record }).findings, 'reference-field').hint).toContain(
      'company_id.name',
    );
  });

  it('refuses a mapping that uses an entry or a crosswalk that does not exist, on its line', () => {
    const entry = edit(
      read(REFUND),
      "$reference('currencies', $money[0].currency)",
      "$reference('currencies', 'XTS')",
    );
    const missingEntry = only(lint({ [REFUND]: entry }).findings, 'reference-unknown');
    expect(missingEntry.file).toBe(REFUND);
    expect(missingEntry.message).toContain(
      `currencies entry "XTS", which ${CURRENCIES} does not declare`,
    );
    expect(lineOf(entry, missingEntry)).toContain("$reference('currencies', 'XTS')");

    const crosswalk = edit(read(REFUND), "$reference('currencies'", "$reference('money'");
    const result = lint({ [REFUND]: crosswalk });
    expect(only(result.findings, 'reference-unknown').message).toContain(
      'crosswalk money, which contracts/reference/ does not declare',
    );
    // A contract with an error is not compiled.
    expect(result.contracts).toEqual([]);

    const computed = edit(read(REFUND), "$reference('currencies'", '$reference($string(id)');
    expect(only(lint({ [REFUND]: computed }).findings, 'reference-use').message).toContain(
      'computed crosswalk name',
    );
  });
});

describe('contracts check and reference data', () => {
  const sources = (changed: Record<string, string | null> = {}) => {
    const doc = (file: string) => SourceDocument.parse(file, changed[file] ?? read(file));
    return {
      root: ROOT,
      flows: doc('contracts/flows.yaml'),
      contracts: [doc(REFUND)],
      reference: committedReference()
        .filter((f) => changed[f] !== null)
        .map(doc),
    };
  };

  it('refuses removing an entry a contract still uses, naming the contract and entry', () => {
    const head = sources({
      [CURRENCIES]: edit(
        read(CURRENCIES),
        '  USD:\n    find: { name: USD }\n',
        '  XUS:\n    find: { name: USD }\n',
      ),
    });
    const report = checkContracts(sources(), head);
    expect(report.ok).toBe(false);
    expect(report.changes).toContainEqual(
      expect.objectContaining({
        severity: 'break',
        kind: 'reference-entry-removed',
        contract: expect.stringMatching(/^shopify\.refund@/),
        path: 'currencies.entries["USD"]',
        file: CURRENCIES,
      }),
    );
  });

  it('refuses removing a crosswalk a contract uses, and lets unused reference data go', () => {
    const removed = checkContracts(sources(), sources({ [CURRENCIES]: null }));
    expect(removed.ok).toBe(false);
    expect(removed.changes.map((c) => c.kind)).toContain('reference-crosswalk-removed');

    const unused = checkContracts(sources(), sources({ [TAXES]: null }));
    expect(unused.changes).toEqual([]);
    expect(unused.ok).toBe(true);
  });
});

describe('$reference in a mapping', () => {
  const refund = contractNamed('shopify.refund');
  const event = (currency: string) =>
    parseEventJson(
      loadFixture('shopify/refunds-create').raw.replaceAll(
        '"currency":"USD"',
        `"currency":"${currency}"`,
      ),
    );
  const context = { entityKey: '929361464', eventId: 'e1', source: 'shopify' };

  it('turns a declared code into a relation that carries its crosswalk entry', async () => {
    const values = await mapEvent(refund, event('USD'), context);
    expect(values.currency_id).toEqual({
      '@model': 'res.currency',
      '@match': { name: 'USD' },
      '@reference': {
        entry: 'currencies/USD',
        create: 'Activate the currency USD (US Dollar) in Accounting > Configuration > Currencies.',
      },
    });
  });

  it('fails permanently on a code the crosswalk does not declare, naming crosswalk and key', async () => {
    const error = await mapEvent(refund, event('XTS'), context).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReferenceNotDeclared);
    const declared = error as ReferenceNotDeclared;
    expect(declared.retryable).toBe(false);
    expect(declared.code).toBe('reference-not-declared');
    expect(declared.message).toContain('crosswalk currencies has no entry "XTS"');
    expect(declared.hint).toContain(`declare "XTS" in ${CURRENCIES}`);
  });

  it('names the declared key a code differs from only in case', async () => {
    const error = (await mapEvent(refund, event('usd'), context).catch(
      (e: unknown) => e,
    )) as ReferenceNotDeclared;
    expect(error).toBeInstanceOf(ReferenceNotDeclared);
    expect(error.message).toContain('no entry "usd" (it has "USD")');
  });

  it('is bundled with the contract that uses it, and the whole reference data with the registry', () => {
    expect(Object.keys(refund.target.references)).toEqual(['currencies', 'journals']);
    expect(Object.keys(contractNamed('shopify.order').target.references).sort()).toEqual([
      'companies',
      'pricelists',
      'service-products',
      'taxes',
    ]);
    expect(loadContractRegistry().compiled.reference.taxes?.model).toBe('account.tax');
  });
});

describe('applying an event whose reference cannot be resolved', () => {
  let emulator: OdooEmulator;
  let lineage: MemoryLineageStore;

  beforeEach(async () => {
    emulator = await startOdooEmulator();
    lineage = new MemoryLineageStore();
    // What the refund needs besides its currency: the order it refunds (its partner is the
    // order's) and the journal of its gateway.
    const admin = emulator.admin.uid;
    const create = (model: string, values: Record<string, unknown>) =>
      (emulator.orm.call(admin, model, 'create', [[values]], {}) as number[])[0];
    const order = create('sale.order', { partner_id: create('res.partner', { name: 'Buyer' }) });
    create('ir.model.data', {
      module: 'spine',
      name: 'shopify_order_820982911946154508',
      model: 'sale.order',
      res_id: order,
    });
    const { journals } = contractNamed('shopify.refund').target.references;
    if (journals) setUpReferenceData(emulator.orm, admin, { journals });
  });
  afterEach(() => emulator.stop());

  async function apply(envelope: Envelope): Promise<ApplyOutcome> {
    const client = await integrationClient(emulator);
    const [outcome] = await applyEnvelopes([envelope], syncDependencies(client, lineage));
    return outcome as ApplyOutcome;
  }

  const refundEnvelope = (currency: string) => {
    const fixture = loadFixture('shopify/refunds-create');
    return queuedEnvelope(
      contractNamed('shopify.refund'),
      parseEventJson(
        fixture.raw.replaceAll('"currency":"USD"', `"currency":"${currency}"`),
      ) as Record<string, unknown>,
      { id: `refund-${currency}`, subject: '929361464', type: 'refunds/create' },
    );
  };

  it('fails permanently when Odoo has no record for the entry, naming it and what to create', async () => {
    // The currency is renamed away, as an operator might: the entry's find matches nothing.
    const admin = emulator.admin.uid;
    const [usd] = emulator.orm.call(admin, 'res.currency', 'search', [[['name', '=', 'USD']]], {
      context: { active_test: false },
    }) as number[];
    emulator.orm.call(admin, 'res.currency', 'write', [[usd], { name: 'XUS' }], {});

    const outcome = await apply(refundEnvelope('USD'));

    expect(outcome.kind).toBe('failed');
    if (outcome.kind !== 'failed') return;
    expect(outcome.retryable).toBe(false);
    expect(outcome.error).toBeInstanceOf(ReferenceNotFound);
    expect(outcome.error.message).toContain(
      'no res.currency record for reference data currencies/USD',
    );
    expect((outcome.error as ReferenceNotFound).hint).toContain(
      'Activate the currency USD (US Dollar) in Accounting > Configuration > Currencies.',
    );
    const [failed] = (await lineage.byEvent('shopify', 'refund-USD')).filter(
      (e) => e.stage === 'failed',
    );
    expect(failed?.error).toMatchObject({ code: 'reference-not-found', retryable: false });
  });

  it('fails permanently, before touching Odoo, on a currency no crosswalk entry declares', async () => {
    const outcome = await apply(refundEnvelope('XTS'));

    expect(outcome.kind).toBe('failed');
    if (outcome.kind !== 'failed') return;
    expect(outcome.retryable).toBe(false);
    expect(outcome.error).toBeInstanceOf(ReferenceNotDeclared);
    const [failed] = (await lineage.byEvent('shopify', 'refund-XTS')).filter(
      (e) => e.stage === 'failed',
    );
    expect(failed?.error).toMatchObject({ code: 'reference-not-declared', retryable: false });
    expect(failed?.error?.message).toContain('crosswalk currencies has no entry "XTS"');
  });

  it('applies the refund when the entry resolves', async () => {
    const outcome = await apply(refundEnvelope('USD'));
    expect(outcome).toMatchObject({ kind: 'applied', model: 'account.payment' });
  });
});
