/**
 * `spine reconcile`: does Odoo hold what lineage says was applied, and book what the vendor
 * charged? A table and the finance view per currency, or --json.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type Command, Option } from 'commander';
import { findProjectRoot } from '../contracts/project.ts';
import { defaultGatewayUrl, GATEWAY_OPTION_HELP, readLocalHealth } from '../local-runtime.ts';
import { printError, printLine } from './output.ts';

interface ReconcileOptions {
  day?: string;
  contract?: string[];
  json?: boolean;
  env?: string;
  /** The former name of --env, still taken. */
  stage?: string;
  gateway?: string;
}

export function registerReconcileCommand(program: Command): void {
  program
    .command('reconcile')
    .description(
      'compare, per contract and day, what lineage says was applied with what Odoo holds',
    )
    .option('--day <yyyy-mm-dd>', 'the day of the events (default: today, UTC)')
    .option('--contract <id...>', 'only these contracts (default: every contract that counts)')
    .option('--gateway <url>', GATEWAY_OPTION_HELP)
    .option(
      '--env <name>',
      'a deployed environment of cdk.json (dev, staging, prod) instead of the running spine local',
    )
    .addOption(new Option('--stage <name>', 'the former name of --env').hideHelp())
    .option('--json', 'print the reports as JSON')
    .addHelpText(
      'after',
      `
Without --env it reads the running \`spine local\` (start it with \`npm start\`; --gateway finds
one on another port). With --env it reads that environment in AWS, with credentials from the
default AWS provider chain.

Each report gives matched records, events missing in Odoo, records unexpected in Odoo, sum
differences (the contract's reconcile.sum field), and fields whose value in Odoo is not what the
entity's newest applied event wrote, with the event ids behind them. A field changed in Odoo by
a person after Spine wrote it is reported too: that is drift. Values are compared through keyed
fingerprints (the redaction key), never printed, since they may be personal.

The finance view follows, for contracts whose reconcile part declares what the vendor said
(currency, amounts, state): per contract and currency, the vendor's count and totals against
Odoo's (never two currencies added together), unposted invoices, unmatched payments and
unconfirmed paid orders, then each record whose amount, tax, currency or state differs, with the
event ids and both figures. --json carries the same (currencies, financeDifferences, figures).
Without --day, when nothing was applied today, it names the days lineage holds applied events of.
Exit status: 0 when everything matches, 1 when anything differs.`,
    )
    .action(async (options: ReconcileOptions, command: Command) => {
      const day = options.day ?? new Date().toISOString().slice(0, 10);
      // Checked before looking for a runtime: a typo is told at once, whatever is running.
      try {
        (await import('../../functions/reconcile/reconcile.ts')).assertReconcileDay(day);
      } catch {
        throw new Error(`--day takes a calendar date as YYYY-MM-DD, got "${day}"`);
      }
      if (options.env && options.stage && options.env !== options.stage)
        throw new Error(
          `--stage is the former name of --env; got --env ${options.env} and --stage ${options.stage}`,
        );
      const envName = options.env ?? options.stage;
      if (envName && options.gateway)
        throw new Error(
          '--env reconciles a deployed environment and --gateway a spine local; give one or the other',
        );
      const deployed = envName
        ? await (await import('../deployed-environment.ts')).readDeployedEnvironment(
            command.optsWithGlobals<{ root?: string }>().root ?? findProjectRoot(),
            envName,
          )
        : undefined;
      const stage = deployed?.name ?? 'local';
      const [
        { loadContractRegistry },
        { DynamoDbLineageStore },
        { OdooClient },
        { reconcileContractDay },
        { fieldFingerprint },
        names,
      ] = await Promise.all([
        import('../../functions/contracts/index.ts'),
        import('../../functions/lineage/dynamodb-store.ts'),
        import('../../functions/odoo/client.ts'),
        import('../../functions/reconcile/reconcile.ts'),
        import('../../functions/reconcile/fingerprint.ts'),
        import('../../functions/platform/names.ts'),
      ]);
      const local = deployed
        ? undefined
        : await readLocalHealth(
            options.gateway ?? defaultGatewayUrl(),
            ', or pass --env <name> for a deployed environment',
          );
      const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
      // A deployed environment: its region from cdk.json, credentials from the default chain.
      const dynamo = new DynamoDBClient(
        local
          ? { endpoint: local.dynamodb, region: 'us-east-1', credentials }
          : { region: deployed?.region },
      );
      const secrets = new SecretsManagerClient(
        local
          ? { endpoint: local.secretsmanager, region: 'us-east-1', credentials }
          : { region: deployed?.region },
      );
      const credential = JSON.parse(
        (await secrets.send(new GetSecretValueCommand({ SecretId: names.odooSecretName(stage) })))
          .SecretString ?? '{}',
      ) as {
        url: string;
        database: string;
        login: string;
        password?: string;
        apiKey?: string;
      };
      // A deployed environment's Odoo is cdk.json's: its secret holds only the credential.
      const odoo = await OdooClient.connect({
        url: deployed?.odoo.url ?? credential.url,
        database: deployed?.odoo.database ?? credential.database,
        login: credential.login,
        secret: (credential.apiKey ?? credential.password) as string,
      });
      // The worker's key: without it counts and sums are still proven, values are not compared.
      const key = await secrets
        .send(new GetSecretValueCommand({ SecretId: names.redactionKeySecretName(stage) }))
        .then((answer) => (JSON.parse(answer.SecretString ?? '{}') as { key?: string }).key)
        .catch((error: unknown) => {
          printError(`redaction key unreadable (${(error as Error).message}): values not compared`);
          return undefined;
        });
      const fingerprint = key
        ? fieldFingerprint({ secret: Buffer.from(key, 'base64') })
        : undefined;
      const lineage = new DynamoDbLineageStore(dynamo, names.lineageTableName(stage));
      const registry = loadContractRegistry();
      const contracts = registry.contracts.filter(
        (c) => c.reconcile.count && (!options.contract || options.contract.includes(c.id)),
      );
      if (options.contract && contracts.length === 0)
        throw new Error(
          `no contract ${options.contract.join(', ')}; known: ${registry.contracts.map((c) => c.id).join(', ')}`,
        );
      const reports = [];
      for (const contract of contracts)
        reports.push(
          await reconcileContractDay(contract, day, {
            lineage,
            odoo,
            ...(fingerprint ? { fingerprint } : {}),
          }),
        );
      // Lineage files events under the day they happened at the vendor, rarely today's in a demo.
      const nothingToday = !options.day && reports.every((r) => r.applied.count === 0);
      const daysHint = nothingToday
        ? await lineage
            .appliedDays({ contracts: contracts.map((c) => c.id) })
            .then(({ days, complete }) => {
              const found = Object.entries(days).sort(([a], [b]) => b.localeCompare(a));
              if (found.length === 0)
                return `nothing was applied on ${day} (UTC), and lineage holds no applied events${complete ? '' : ' among the entries read'}`;
              const listed = found
                .slice(0, 10)
                .map(([d, n]) => `${d} (${n})`)
                .join(', ');
              return `nothing was applied on ${day} (UTC); lineage holds applied events on ${listed}${found.length > 10 ? ', ...' : ''}${complete ? '' : ' (from the first entries read)'}: pass --day ${found[0]?.[0]}`;
            })
            .catch(
              (error: unknown) =>
                `nothing was applied on ${day} (UTC); pass --day <yyyy-mm-dd> for another day (the days in lineage could not be listed: ${(error as Error).message})`,
            )
        : undefined;
      if (options.json) {
        printLine(JSON.stringify(reports, null, 2));
        if (daysHint) printError(daysHint);
      } else if (daysHint) printLine(daysHint);
      else {
        const rows = reports.map((r) => [
          r.contract,
          String(r.applied.count),
          String(r.odoo.count),
          String(r.matched),
          String(r.missing.length),
          String(r.unexpected.length),
          String(r.differences.length),
          String(r.valueDifferences.length),
          `${r.values.checked}/${r.values.checked + r.values.unchecked}`,
          r.applied.sum !== undefined ? `${r.applied.sum} / ${r.odoo.sum}` : '',
          r.ok ? 'ok' : 'MISMATCH',
        ]);
        const header = [
          'contract',
          'applied',
          'odoo',
          'matched',
          'missing',
          'unexpected',
          'different',
          'fields differ',
          'values checked',
          'sum (applied / odoo)',
          '',
        ];
        const widths = header.map((h, i) =>
          Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)),
        );
        printLine(`reconciliation for ${day}`);
        for (const row of [header, ...rows])
          printLine(
            row
              .map((c, i) => c.padEnd(widths[i] ?? 0))
              .join('  ')
              .trimEnd(),
          );
        for (const r of reports) {
          for (const m of r.missing)
            printLine(
              `  ${r.contract}: missing in Odoo ${m.externalId} (events ${m.eventIds.join(', ')})`,
            );
          for (const u of r.unexpected)
            printLine(
              `  ${r.contract}: unexpected in Odoo ${r.model} ${u.recordId} (${u.externalId}), not in lineage`,
            );
          // A field the finance view reports with its currency is not told twice.
          const told = new Set(r.financeDifferences.map((f) => `${f.recordId}|${f.field}`));
          for (const d of r.differences.filter((x) => !told.has(`${x.recordId}|${x.field}`)))
            printLine(
              `  ${r.contract}: ${r.model} ${d.recordId} ${d.field} is ${String(d.actual)} in Odoo, ${d.expected} applied (events ${d.eventIds.join(', ')})`,
            );
          for (const v of r.valueDifferences)
            printLine(
              `  ${r.contract}: ${r.model} ${v.recordId} (${v.externalId}) ${v.field} differs from what event ${v.eventId} wrote (a stale overwrite, or changed in Odoo since)`,
            );
        }
        for (const line of (await import('./finance-view.ts')).financeView(reports))
          printLine(line);
      }
      process.exitCode = reports.every((r) => r.ok) ? 0 : 1;
    });
}
