/**
 * `spine reference check` against the Odoo of a spine local on ports of its own, found with
 * --gateway only, for a project whose crosswalks the test writes (--root).
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRuntime } from '../support/local-runtime.ts';
import { runSpine } from './run-spine.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
type Runtime = Awaited<ReturnType<typeof startTestRuntime>>;
let runtime: Runtime;
let project: string;

const JOURNAL_HINT =
  'Create a Bank journal named "Stripe EUR" with Short Code STEUR and Currency EUR in Accounting > Configuration > Journals.';

function writeCrosswalk(name: string, text: string): void {
  writeFileSync(join(project, 'contracts/reference', `${name}.yaml`), text);
}

/** The admin's ORM call on the emulated Odoo behind the runtime. */
function odoo(model: string, method: string, positional: unknown[], named = {}): unknown {
  const emulator = runtime.odooEmulator;
  if (!emulator) throw new Error('the runtime has no emulated Odoo');
  return emulator.orm.call(emulator.admin.uid, model, method, positional, named);
}

const check = (...args: string[]) =>
  runSpine(['--root', project, 'reference', 'check', '--gateway', runtime.gatewayUrl, ...args]);

beforeAll(async () => {
  runtime = await startTestRuntime();
  project = mkdtempSync(join(tmpdir(), 'spine-reference-'));
  mkdirSync(join(project, 'contracts/reference'), { recursive: true });
  cpSync(join(ROOT, 'contracts/flows.yaml'), join(project, 'contracts/flows.yaml'));
  writeCrosswalk(
    'currencies',
    `crosswalk: currencies
description: Currencies the tests book in.
model: res.currency
key: ISO 4217 code
entries:
  EUR:
    find: { name: EUR }
    create: Activate the currency EUR in Accounting > Configuration > Currencies.
`,
  );
  writeCrosswalk(
    'journals',
    `crosswalk: journals
description: Journals Stripe payments are posted in.
model: account.journal
key: <source>:<payment method>:<currency>
entries:
  stripe:card:EUR:
    find: { code: STEUR }
    create: ${JOURNAL_HINT}
`,
  );
  // Whatever the emulator seeds, the test decides: EUR active, no journal STEUR yet.
  const [eur] = odoo('res.currency', 'search', [[['name', '=', 'EUR']]], {
    context: { active_test: false },
  }) as number[];
  odoo('res.currency', 'write', [[eur], { active: true }]);
  const journals = odoo('account.journal', 'search', [[['code', '=', 'STEUR']]]) as number[];
  if (journals.length > 0) odoo('account.journal', 'unlink', [journals]);
}, 60_000);

afterAll(async () => {
  await runtime?.dispose();
  if (project) rmSync(project, { recursive: true, force: true });
});

describe('spine reference check', { timeout: 60_000 }, () => {
  it('names a missing entry with what to create in Odoo, and exits 1', async () => {
    const run = await check();

    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^ {2}resolved\s+EUR → res\.currency \d+$/m);
    expect(run.stdout).toContain(
      '  MISSING      stripe:card:EUR: no account.journal record has code = "STEUR"',
    );
    expect(run.stdout).toContain(`      what to do: ${JOURNAL_HINT}`);
    expect(run.stdout).toContain('2 entries: 1 resolved, 1 missing, 0 inactive');
    // Progress, one line per crosswalk, on stderr.
    expect(run.stderr).toContain('checked journals (2/2 entries)');
  });

  it('names an archived record as inactive, and exits 1', async () => {
    const [eur] = odoo('res.currency', 'search', [[['name', '=', 'EUR']]]) as number[];
    odoo('res.currency', 'write', [[eur], { active: false }]);
    try {
      const run = await check('--crosswalk', 'currencies');
      expect(run.code).toBe(1);
      expect(run.stdout).toContain(`  INACTIVE     EUR: res.currency ${eur} is archived`);
      expect(run.stdout).toContain(`unarchive res.currency ${eur} in Odoo`);
    } finally {
      odoo('res.currency', 'write', [[eur], { active: true }]);
    }
  });

  it('exits 0 once every entry resolves, and --json gives each entry with its record', async () => {
    const [journal] = odoo('account.journal', 'create', [
      [{ name: 'Stripe EUR', code: 'STEUR', type: 'bank' }],
    ]) as number[];

    const run = await check('--json');

    expect(run.code, run.stdout).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({
      ok: true,
      checked: 2,
      counts: { resolved: 2, missing: 0, inactive: 0, ambiguous: 0, unresolvable: 0 },
      odoo: { url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) },
    });
    expect(report.entries).toContainEqual({
      crosswalk: 'journals',
      key: 'stripe:card:EUR',
      model: 'account.journal',
      find: { code: 'STEUR' },
      status: 'resolved',
      recordId: journal,
    });
  });

  it('refuses a crosswalk that does not lint, naming the file and line', async () => {
    writeCrosswalk('broken', 'crosswalk: broken\ndescription: x\n');
    try {
      const run = await check();
      expect(run.code).toBe(1);
      expect(run.stdout).toContain('contracts/reference/broken.yaml');
      expect(run.stdout).toContain('reference check refused');
    } finally {
      rmSync(join(project, 'contracts/reference/broken.yaml'));
    }
  });

  it('teaches the statuses, the flags and the exit codes in --help', async () => {
    const run = await runSpine(['reference', 'check', '--help']);
    expect(run.code).toBe(0);
    for (const text of ['--gateway', '--env', '--json', 'inactive', 'Exit status: 0'])
      expect(run.stdout).toContain(text);
  });
});
