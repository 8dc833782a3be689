import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ENRICHED_CONTRACT, ENRICHED_FILE } from '../../support/enriched-contract.ts';

const ROOT = new URL('../../../', import.meta.url).pathname;
const SPINE = join(ROOT, 'cli/bin.mjs');
let project: string;

function git(...args: string[]) {
  const result = spawnSync('git', args, { cwd: project, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(result.stderr);
}

function spine(...args: string[]) {
  const result = spawnSync(process.execPath, [SPINE, '--root', project, ...args], {
    cwd: project,
    encoding: 'utf8',
  });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

function change(file: string, from: string, to: string) {
  const path = join(project, file);
  const text = readFileSync(path, 'utf8');
  if (!text.includes(from)) throw new Error(`not found in ${file}: ${from}`);
  writeFileSync(path, text.replace(from, to));
}

const PAYMENT = 'contracts/stripe/payment-intent.v1.yaml';
/** The payment contract's version in the working tree, and the next minor and patch of it. */
const VERSION = /^version: (\d+)\.(\d+)\.(\d+)$/m.exec(readFileSync(join(ROOT, PAYMENT), 'utf8'));
const [, MAJOR, MINOR, PATCH] = (VERSION ?? []).map(Number) as [number, number, number, number];
const CURRENT = `${MAJOR}.${MINOR}.${PATCH}`;
const NEXT_MINOR = `${MAJOR}.${MINOR + 1}.0`;
const NEXT_PATCH = `${MAJOR}.${MINOR}.${PATCH + 1}`;
const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

beforeEach(() => {
  project = mkdtempSync(join(tmpdir(), 'spine-check-'));
  cpSync(join(ROOT, 'contracts'), join(project, 'contracts'), { recursive: true });
  git('init', '-q', '-b', 'main');
  git('add', '.');
  git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', 'contracts');
});

afterEach(() => rmSync(project, { recursive: true, force: true }));

describe('spine contracts check', () => {
  it('passes when nothing changed', () => {
    const { code, out } = spine('contracts', 'check', '--against', 'HEAD');
    expect(code).toBe(0);
    expect(out).toContain('0 breaking');
  });

  it('refuses a removed required field, naming the contract, path and reason, and exits 1', () => {
    change(
      PAYMENT,
      'required: [id, object, amount, amount_received, currency, status, created]',
      'required: [id, object, amount, amount_received, status, created]',
    );
    change(
      PAYMENT,
      `            currency:
              description: ISO 4217 currency code, lower case.
              type: string
              pattern: ^[a-z]{3}$
`,
      '',
    );
    const { code, out } = spine('contracts', 'check', '--against', 'HEAD');
    expect(code).toBe(1);
    expect(out).toMatch(
      new RegExp(
        `BREAKING \\[field-removed\\] stripe\\.payment-intent@${escaped(CURRENT)} \\$\\.data\\.object\\.currency: declared → \\(removed\\)`,
      ),
    );
    expect(out).toContain('payment-intent.v2.yaml');
    expect(out).toContain('refused');
  });

  it('names a removed field even when its removal also breaks a lint rule', () => {
    change(
      PAYMENT,
      'required: [id, object, created, type, data]',
      'required: [id, object, type, data]',
    );
    change(
      PAYMENT,
      `    created:
      description: When the payment succeeded, unix seconds.
      type: integer
`,
      '',
    );
    const { code, out } = spine('contracts', 'check', '--against', 'HEAD');
    expect(code).toBe(1);
    expect(out).toContain('[locator]');
    expect(out).toMatch(
      new RegExp(
        `BREAKING \\[field-removed\\] stripe\\.payment-intent@${escaped(CURRENT)} \\$\\.created`,
      ),
    );
  });

  it('accepts a new optional field', () => {
    change(PAYMENT, `version: ${CURRENT}`, `version: ${NEXT_MINOR}`);
    change(
      PAYMENT,
      `            payment_method:
`,
      `            capture_method:
              description: How the payment was captured (automatic or manual).
              type: string
            payment_method:
`,
    );
    const { code, out } = spine('contracts', 'check', '--against', 'HEAD');
    expect(code, out).toBe(0);
    expect(out).toContain('0 breaking, 0 warnings');
  });

  it('warns when a contract changed but its version did not', () => {
    change(
      PAYMENT,
      '              description: Where the receipt was sent.',
      '              description: The address the receipt was sent to.',
    );
    const { code, out } = spine('contracts', 'check', '--against', 'HEAD');
    expect(code).toBe(0);
    expect(out).toContain('version-not-bumped');
  });

  it('refuses an optional field made required, and a changed external-id template', () => {
    change(
      PAYMENT,
      'required: [id, object, amount, amount_received, currency, status, created]',
      'required: [id, object, amount, amount_received, currency, status, created, customer]',
    );
    change(PAYMENT, 'externalId: stripe_payment_{entityKey}', 'externalId: stripe_pi_{entityKey}');
    const { code, out } = spine('contracts', 'check', '--against', 'HEAD', '--json');
    expect(code).toBe(1);
    const report = JSON.parse(out) as {
      ok: boolean;
      breaking: number;
      changes: { path: string; kind: string; old: string; new: string; why: string }[];
    };
    expect(report.ok).toBe(false);
    expect(report.breaking).toBe(2);
    expect(report.changes).toContainEqual(
      expect.objectContaining({
        path: '$.data.object.customer',
        kind: 'required-added',
        old: 'optional',
        new: 'required',
      }),
    );
    expect(report.changes).toContainEqual(
      expect.objectContaining({
        path: 'target.externalId',
        old: 'stripe_payment_{entityKey}',
        new: 'stripe_pi_{entityKey}',
      }),
    );
    expect(report.changes.find((c) => c.path === 'target.externalId')?.why).toContain('duplicates');
  });

  it('accepts a breaking change published as a new major beside the deprecated old one', () => {
    const v2 = readFileSync(join(project, PAYMENT), 'utf8')
      .replace(`version: ${CURRENT}`, 'version: 2.0.0')
      .replace(
        'customer:\n              description: The Stripe customer (cus_...) who paid, if the payment is linked to one.\n              type: [string, "null"]',
        'customer:\n              description: The Stripe customer (cus_...) who paid.\n              type: string',
      );
    writeFileSync(join(project, 'contracts/stripe/payment-intent.v2.yaml'), v2);
    change(PAYMENT, 'status: active', 'status: deprecated');
    change(PAYMENT, `version: ${CURRENT}`, `version: ${NEXT_PATCH}`);
    const { code, out } = spine('contracts', 'check', '--against', 'HEAD');
    expect(code, out).toBe(0);
    expect(out).not.toContain('major-not-needed');
    expect(out).toContain('0 breaking');
  });

  it('warns about a major version bump for a compatible change', () => {
    const v2 = readFileSync(join(project, PAYMENT), 'utf8').replace(
      `version: ${CURRENT}`,
      'version: 2.0.0',
    );
    writeFileSync(join(project, 'contracts/stripe/payment-intent.v2.yaml'), v2);
    change(PAYMENT, 'status: active', 'status: deprecated');
    change(PAYMENT, `version: ${CURRENT}`, `version: ${NEXT_PATCH}`);
    const { code, out } = spine('contracts', 'check', '--against', 'HEAD');
    expect(code, out).toBe(0);
    expect(out).toMatch(
      new RegExp(
        `warning \\[major-not-needed\\] stripe\\.payment-intent@2\\.0\\.0 version: ${escaped(CURRENT)} → 2\\.0\\.0`,
      ),
    );
    expect(out).toContain('a minor version in place');
  });

  it('refuses removing an active contract', () => {
    rmSync(join(project, 'contracts/shopify/refund.v1.yaml'));
    const { code, out } = spine('contracts', 'check', '--against', 'HEAD');
    expect(code).toBe(1);
    expect(out).toContain('contract-removed');
    expect(out).toContain('mark it deprecated first');
  });

  it('says what to pass when the ref does not exist, and exits 2', () => {
    const { code, err } = spine('contracts', 'check', '--against', 'no-such-branch');
    expect(code).toBe(2);
    expect(err).toContain('"no-such-branch" is not a commit');
  });

  it('compares with the last commit when told --against auto outside CI', () => {
    change(PAYMENT, 'pattern: ^pi_', 'pattern: ^pi_[A-Za-z0-9]+$');
    const { code, out } = spine('contracts', 'check', '--against', 'auto');
    expect(code).toBe(1);
    expect(out).toContain('pattern-tightened');
  });
});

describe('spine contracts check: enrich', () => {
  /** The enriched contract as committed, and its working copy at the next minor. */
  function commitEnriched(text = ENRICHED_CONTRACT) {
    writeFileSync(join(project, ENRICHED_FILE), text);
    git('add', '.');
    git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', 'enriched');
    change(ENRICHED_FILE, 'version: 1.0.0', 'version: 1.1.0');
  }
  const label = 'hubspot\\.contact-enriched@1\\.1\\.0';

  it('refuses a property no longer fetched, and accepts one more', () => {
    commitEnriched();
    change(
      ENRICHED_FILE,
      'properties: [email, firstname, lastname, phone]',
      'properties: [email, firstname, lastname, jobtitle]',
    );
    change(
      ENRICHED_FILE,
      '        "email": $p.email,\n        "phone": $contact.properties.phone\n',
      '        "email": $p.email\n',
    );
    const { code, out } = spine('contracts', 'check', '--against', 'HEAD');
    expect(code, out).toBe(1);
    expect(out).toMatch(
      new RegExp(
        `BREAKING \\[enrich-property-removed\\] ${label} enrich\\.properties: phone → \\(not fetched\\)`,
      ),
    );
    expect(out).toContain('contact-enriched.v2.yaml');
    expect(out).not.toContain('jobtitle');
    expect(out).toContain('1 breaking');
  });

  it('judges enrich.schema as the event schema, naming paths from $contact', () => {
    commitEnriched();
    change(
      ENRICHED_FILE,
      'required: [id, properties, updatedAt]',
      'required: [id, properties, updatedAt, archived]',
    );
    const { code, out } = spine('contracts', 'check', '--against', 'HEAD');
    expect(code, out).toBe(1);
    expect(out).toMatch(
      new RegExp(
        `BREAKING \\[required-added\\] ${label} \\$contact\\.archived: optional → required`,
      ),
    );
    expect(out).toContain(
      'fetched hubspot.contact objects without this field, valid before, are now rejected',
    );
  });

  it('refuses another object name, and another id', () => {
    commitEnriched();
    change(ENRICHED_FILE, '  as: contact', '  as: person');
    change(ENRICHED_FILE, '$p := $contact.properties', '$p := $person.properties');
    change(ENRICHED_FILE, '$contact.properties.phone', '$person.properties.phone');
    change(ENRICHED_FILE, '  id: { path: $.objectId }', '  id: { path: $.eventId }');
    const { code, out } = spine('contracts', 'check', '--against', 'HEAD');
    expect(code, out).toBe(1);
    expect(out).toMatch(
      new RegExp(`BREAKING \\[enrich-as-changed\\] ${label} enrich\\.as: \\$contact → \\$person`),
    );
    expect(out).toMatch(
      /BREAKING \[enrich-id-changed\] .* enrich\.id: \{"path":"\$\.objectId"\} → \{"path":"\$\.eventId"\}/,
    );
    expect(out).not.toMatch(/ error \[/);
  });

  it('warns that enrichment added needs the vendor credential, and refuses it removed', () => {
    const start = ENRICHED_CONTRACT.indexOf('enrich:\n');
    const plain =
      `${ENRICHED_CONTRACT.slice(0, start)}${ENRICHED_CONTRACT.slice(ENRICHED_CONTRACT.indexOf('target:\n'))}`.replace(
        / {2}mapping: \|\n( {4}.*\n)+/,
        '  mapping: |\n    {}\n',
      );
    commitEnriched(plain);
    writeFileSync(
      join(project, ENRICHED_FILE),
      ENRICHED_CONTRACT.replace('version: 1.0.0', 'version: 1.1.0'),
    );
    const added = spine('contracts', 'check', '--against', 'HEAD');
    expect(added.code, added.out).toBe(0);
    expect(added.out).toContain('warning [enrich-added]');
    expect(added.out).toContain('spine/<env>/sources/hubspot');

    commitEnriched();
    writeFileSync(join(project, ENRICHED_FILE), plain.replace('version: 1.0.0', 'version: 1.1.0'));
    const removed = spine('contracts', 'check', '--against', 'HEAD');
    expect(removed.code, removed.out).toBe(1);
    expect(removed.out).toContain('BREAKING [enrich-removed]');
  });
});

describe('spine contracts build and lint on a project', () => {
  it('writes the registry and validators, then reports them up to date', () => {
    const first = spine('contracts', 'build', '--json');
    expect(first.code).toBe(0);
    const result = JSON.parse(first.out) as {
      ok: boolean;
      written: string[];
      contracts: string[];
      flows: { name: string; fifo: boolean }[];
    };
    expect(result.written.sort()).toEqual([
      'functions/contracts/compiled/registry.ts',
      'functions/contracts/compiled/validators.d.ts',
      'functions/contracts/compiled/validators.js',
    ]);
    expect(result.contracts).toContain('stripe.customer@1.1.0');
    expect(result.flows).toContainEqual(expect.objectContaining({ name: 'payments', fifo: false }));
    expect(spine('contracts', 'build').out).toContain('output already up to date');
  });

  it("writes an enriched contract's object validator beside its event validator", () => {
    writeFileSync(join(project, ENRICHED_FILE), ENRICHED_CONTRACT);
    const { code, out } = spine('contracts', 'build');
    expect(code, out).toBe(0);
    const compiled = (name: string) =>
      readFileSync(join(project, 'functions/contracts/compiled', name), 'utf8');
    expect(compiled('validators.d.ts')).toContain(
      'export declare const hubspot_contact_enriched_v1: PrecompiledValidator;\nexport declare const hubspot_contact_enriched_v1_enrich: PrecompiledValidator;',
    );
    expect(compiled('validators.js')).toMatch(/export const hubspot_contact_enriched_v1_enrich\b/);
    expect(compiled('registry.ts')).toContain('"validator": "hubspot_contact_enriched_v1_enrich"');
  });

  it('refuses to build a broken contract and writes nothing', () => {
    change(PAYMENT, '"amount": $fromMinorUnits', '"amount": $fromMinorUnits((');
    const { code, out } = spine('contracts', 'build');
    expect(code).toBe(1);
    expect(out).toMatch(/contracts\/stripe\/payment-intent\.v1\.yaml:\d+ error \[mapping-syntax\]/);
    expect(out).toContain('nothing was written');
    expect(existsSync(join(project, 'functions/contracts/compiled'))).toBe(false);
  });

  it('prints lint findings as JSON', () => {
    change(PAYMENT, '              x-pii: hash\n', '');
    const { code, out } = spine('contracts', 'lint', '--json');
    expect(code).toBe(0);
    const report = JSON.parse(out) as {
      ok: boolean;
      findings: { rule: string; severity: string; line: number }[];
    };
    expect(report.ok).toBe(true);
    expect(report.findings).toEqual([
      expect.objectContaining({
        rule: 'personal-data',
        severity: 'warning',
        line: expect.any(Number),
      }),
    ]);
  });
});
