/**
 * `spine reference check`: resolves every crosswalk entry of contracts/reference/ against a
 * live Odoo (the running `spine local`'s, or a deployed environment's) before events need them,
 * and names each record Odoo lacks with what to create.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Command } from 'commander';
import type {
  ReferenceCheckReport,
  ReferenceResolution,
} from '../../functions/contracts/reference-check.ts';
import { compileCrosswalk } from '../contracts/compile.ts';
import { formatFinding, hasErrors } from '../contracts/findings.ts';
import { findProjectRoot, readReferenceData } from '../contracts/project.ts';
import { lintReferenceData } from '../contracts/reference-lint.ts';
import { defaultGatewayUrl, GATEWAY_OPTION_HELP, readLocalHealth } from '../local-runtime.ts';
import { printError, printJson, printLine } from './output.ts';

interface ReferenceCheckOptions {
  gateway?: string;
  env?: string;
  crosswalk?: string[];
  json?: boolean;
}

interface OdooCredential {
  url: string;
  database: string;
  login: string;
  password?: string;
  apiKey?: string;
  protocol?: 'json2' | 'jsonrpc' | 'auto';
}

/** The Odoo credential Spine's workers use: from the local Secrets Manager, or the environment's. */
async function odooCredential(
  root: string,
  options: ReferenceCheckOptions,
): Promise<{ credential: OdooCredential; where: string }> {
  if (options.env && options.gateway)
    throw new Error(
      '--env checks a deployed environment and --gateway a spine local; give one or the other',
    );
  const names = await import('../../functions/platform/names.ts');
  if (options.env) {
    const { readDeployedEnvironment } = await import('../deployed-environment.ts');
    const deployed = await readDeployedEnvironment(root, options.env);
    const secrets = new SecretsManagerClient({ region: deployed.region });
    const answer = await secrets.send(
      new GetSecretValueCommand({ SecretId: names.odooSecretName(deployed.name) }),
    );
    // Where Odoo is comes from cdk.json: the deployed secret holds only the credential.
    return {
      credential: {
        ...(JSON.parse(answer.SecretString ?? '{}') as OdooCredential),
        ...deployed.odoo,
      },
      where: `environment ${deployed.name}`,
    };
  }
  const gateway = options.gateway ?? defaultGatewayUrl();
  const health = await readLocalHealth(
    gateway,
    ', or pass --env <name> to check a deployed environment',
  );
  const secrets = new SecretsManagerClient({
    endpoint: health.secretsmanager,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const answer = await secrets.send(
    new GetSecretValueCommand({ SecretId: names.odooSecretName('local') }),
  );
  return {
    credential: JSON.parse(answer.SecretString ?? '{}') as OdooCredential,
    where: `the spine local at ${gateway.replace(/\/+$/, '')}`,
  };
}

const LABEL: Record<ReferenceResolution['status'], string> = {
  resolved: 'resolved',
  missing: 'MISSING',
  inactive: 'INACTIVE',
  ambiguous: 'AMBIGUOUS',
  unresolvable: 'UNRESOLVABLE',
};

function printReport(report: ReferenceCheckReport, odoo: string, where: string): void {
  printLine(`reference data against ${odoo} (Odoo of ${where})`);
  let crosswalk: string | undefined;
  for (const entry of report.entries) {
    if (entry.crosswalk !== crosswalk) {
      crosswalk = entry.crosswalk;
      printLine(`${entry.crosswalk} (${entry.model})`);
    }
    const head = `  ${LABEL[entry.status].padEnd(12)} ${entry.key}`;
    if (entry.status === 'resolved') {
      printLine(`${head} → ${entry.model} ${entry.recordId}`);
      continue;
    }
    printLine(`${head}: ${entry.detail ?? ''}`);
    if (entry.action) printLine(`      what to do: ${entry.action}`);
  }
  const { counts } = report;
  printLine(
    `${report.checked} entries: ${counts.resolved} resolved, ${counts.missing} missing, ${counts.inactive} inactive, ${counts.ambiguous} ambiguous, ${counts.unresolvable} unresolvable${report.ok ? '' : ' — events that need the others will be dead-lettered'}`,
  );
}

export function registerReferenceCommand(program: Command): void {
  const reference = program
    .command('reference')
    .description('reference data: the crosswalks from vendor codes to Odoo records')
    .addHelpText(
      'after',
      `
A crosswalk (contracts/reference/<name>.yaml) maps vendor codes to Odoo records: taxes,
journals, currencies, countries, companies, service products. Mappings use it as
$reference('<name>', key). An event whose code has no entry fails (reference-not-declared);
one whose entry finds no record in Odoo fails (reference-not-found): both are dead-lettered
with the entry named, never booked against a guessed record.

Examples:
  spine reference check                        against the running spine local
  spine reference check --env prod --json      against a deployed environment, for scripts`,
    );

  reference
    .command('check')
    .description('resolve every crosswalk entry against a live Odoo and name each record to create')
    .option('--gateway <url>', GATEWAY_OPTION_HELP)
    .option(
      '--env <name>',
      'a deployed environment of cdk.json (dev, staging, prod) instead of the running spine local',
    )
    .option('--crosswalk <name...>', 'only these crosswalks (default: every one)')
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      `
Each entry is searched for with its find keys, exactly as events search (archived records
included), using the Odoo credential Spine's workers use: the local Secrets Manager's for
\`spine local\` (start it with \`npm start\`; --gateway finds one on another port), or the
environment's secret in AWS with --env (credentials from the default AWS provider chain).

Every entry is reported as one of:
  resolved      exactly one active record: events will find it
  missing       no record: the entry's "create" says what to create in Odoo
  inactive      the record is archived: unarchive it (Odoo ships currencies archived)
  ambiguous     several records match: events would take the first; narrow the entry's find
  unresolvable  this Odoo lacks the model or a find field, or refused the search

Progress goes to stderr, one line per crosswalk.
Exit status: 0 when every entry is resolved, 1 when any is not (or a crosswalk does not
lint), 2 when Odoo cannot be reached or the flags are wrong.

Examples:
  spine reference check
  spine reference check --crosswalk taxes journals
  spine reference check --gateway http://127.0.0.1:3100 --json | jq '.entries[] | select(.status != "resolved")'`,
    )
    .action(async (options: ReferenceCheckOptions, command: Command) => {
      const root = command.optsWithGlobals<{ root?: string }>().root ?? findProjectRoot();
      const lint = lintReferenceData(readReferenceData(root));
      if (hasErrors(lint.findings)) {
        if (options.json) printJson({ ok: false, findings: lint.findings });
        else {
          for (const finding of lint.findings) printLine(formatFinding(finding));
          printLine('reference check refused: fix the crosswalks first (`spine contracts lint`)');
        }
        process.exitCode = 1;
        return;
      }
      const known = lint.crosswalks.map((c) => c.crosswalk.crosswalk);
      const unknown = (options.crosswalk ?? []).filter((name) => !known.includes(name));
      if (unknown.length > 0)
        throw new Error(
          `no crosswalk ${unknown.join(', ')} in contracts/reference/; known: ${known.join(', ') || '(none)'}`,
        );
      const crosswalks = lint.crosswalks
        .map(compileCrosswalk)
        .filter((c) => !options.crosswalk || options.crosswalk.includes(c.name));

      const { credential, where } = await odooCredential(root, options);
      const [{ OdooClient }, { checkReferenceData }] = await Promise.all([
        import('../../functions/odoo/client.ts'),
        import('../../functions/contracts/reference-check.ts'),
      ]);
      const odoo = await OdooClient.connect({
        url: credential.url,
        database: credential.database,
        login: credential.login,
        secret: (credential.apiKey ?? credential.password) as string,
        ...(credential.protocol ? { protocol: credential.protocol } : {}),
      });
      const report = await checkReferenceData(odoo, crosswalks, {
        onProgress: ({ crosswalk, done, total }) =>
          printError(`checked ${crosswalk} (${done}/${total} entries)`),
      });
      const target = `${credential.url} database ${credential.database}`;
      if (options.json)
        printJson({ ...report, odoo: { url: credential.url, database: credential.database } });
      else printReport(report, target, where);
      process.exitCode = report.ok ? 0 : 1;
    });
}
