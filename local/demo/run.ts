/**
 * `npm run demo`: sends every vendor's sample webhook, signed with that vendor's scheme, to the
 * running `spine local`, then prints where each landed in Odoo.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  loadContractRegistry,
  readLocator,
  toEpochMillis,
} from '../../functions/contracts/index.ts';
import { DynamoDbLineageStore } from '../../functions/lineage/dynamodb-store.ts';
import { OdooClient } from '../../functions/odoo/client.ts';
import { lineageTableName, odooSecretName } from '../../functions/platform/names.ts';
import { STAGE } from '../runtime.ts';
import { seedVendorObjects } from '../vendors/seed.ts';
import { type SignOptions, signatureHeaders } from './sign.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const gateway = process.env.SPINE_GATEWAY_URL ?? `http://127.0.0.1:${process.env.PORT ?? 3000}`;
const fixtures = new URL('../../test/fixtures/', import.meta.url).pathname;

interface Health {
  status: string;
  dynamodb: string;
  secretsmanager: string;
  sources: { source: string; url: string }[];
  vendorApis?: { hubspot?: { url: string; emulated: boolean; credential: string } };
}

async function health(): Promise<Health> {
  try {
    const response = await fetch(`${gateway}/_spine/health`);
    if (response.ok) return (await response.json()) as Health;
  } catch {
    // not running
  }
  process.stderr.write(
    `spine demo: nothing answers at ${gateway}/_spine/health; start Spine first with \`npm start\` (or set SPINE_GATEWAY_URL)\n`,
  );
  process.exit(2);
}

const info = await health();
const secrets = new SecretsManagerClient({
  endpoint: info.secretsmanager,
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});
const secretOf = async (source: string) =>
  (
    JSON.parse(
      (
        await secrets.send(
          new GetSecretValueCommand({ SecretId: `spine/${STAGE}/webhooks/${source}` }),
        )
      ).SecretString ?? '{}',
    ) as { current: string }
  ).current;
const registry = loadContractRegistry();

// What the thin webhooks name, put where enrichment reads it: the emulated vendor APIs.
const hubspotApi = info.vendorApis?.hubspot;
if (hubspotApi?.emulated) {
  const { token } = JSON.parse(
    (await secrets.send(new GetSecretValueCommand({ SecretId: hubspotApi.credential })))
      .SecretString ?? '{}',
  ) as { token: string };
  const seeded = await seedVendorObjects(fixtures, { hubspot: { url: hubspotApi.url, token } });
  process.stdout.write(
    `seeded the HubSpot emulator with contact${seeded.hubspotContacts.length === 1 ? '' : 's'} ${seeded.hubspotContacts.join(', ')} (what its webhooks name)\n`,
  );
}

interface Delivery {
  source: string;
  file: string;
  body: string;
  headers: Record<string, string>;
  flow: string;
  /** The event's own day (its contract's occurredAt), by which reconciliation finds it. */
  day?: string;
}

// Customers first, then orders, then payments: a payment refers to its customer.
const FLOW_ORDER = ['customers', 'orders', 'payments'];
const deliveries: Delivery[] = [];
function dayOf(source: string, type: string, event: unknown, headers: Record<string, string>) {
  const contract = registry.route(source, type);
  const millis =
    contract && toEpochMillis(readLocator(contract.source.occurredAt, { event, headers }));
  return millis === undefined || !contract
    ? {}
    : { day: new Date(millis).toISOString().slice(0, 10) };
}
for (const source of readdirSync(fixtures).sort()) {
  const profile = registry.source(source);
  if (!profile) continue;
  for (const file of readdirSync(join(fixtures, source))
    .filter((f) => f.endsWith('.json') && !f.endsWith('.headers.json'))
    .sort()) {
    const body = readFileSync(join(fixtures, source, file), 'utf8');
    const headersFile = join(fixtures, source, file.replace(/\.json$/, '.headers.json'));
    const headers: Record<string, string> = existsSync(headersFile)
      ? JSON.parse(readFileSync(headersFile, 'utf8'))
      : { 'content-type': 'application/json' };
    const first = profile.batch === 'array' ? (JSON.parse(body) as unknown[])[0] : JSON.parse(body);
    const type = String(readLocator(profile.eventType, { event: first, headers }));
    deliveries.push({
      source,
      file,
      body,
      headers,
      flow: registry.route(source, type)?.flow ?? 'payments',
      ...dayOf(source, type, first, headers),
    });
  }
}
// HubSpot property changes only apply to partners that exist: they follow the other customers;
// a refund closes against its original payment or order: it follows the other payments.
const wave = (d: Delivery) =>
  FLOW_ORDER.indexOf(d.flow) * 2 + (d.source === 'hubspot' || d.file.includes('refund') ? 1 : 0);
deliveries.sort((a, b) => wave(a) - wave(b));

const sent: { source: string; file: string; status: number; body: string }[] = [];
let previousWave = deliveries[0] ? wave(deliveries[0]) : 0;
for (const delivery of deliveries) {
  if (wave(delivery) !== previousWave) await new Promise((r) => setTimeout(r, 2000));
  previousWave = wave(delivery);
  const { source, file, body, headers } = delivery;
  const url = `${gateway}/webhooks/${source}`;
  const profile = registry.source(source);
  const signed = signatureHeaders({
    scheme: profile?.signature as SignOptions['scheme'],
    secret: await secretOf(source),
    body,
    url,
    headers,
  });
  const response = await fetch(url, { method: 'POST', headers: { ...headers, ...signed }, body });
  const text = await response.text();
  sent.push({ source, file, status: response.status, body: text });
  process.stdout.write(
    `${response.status} ${delivery.flow.padEnd(9)} ${source}/${file}  ${text}\n`,
  );
}

// Wait until every accepted event has an outcome in lineage: one that waited for another (a
// refund for its payment, an order for a product another order was creating) is retried a
// visibility timeout later. Then show what Odoo holds under Spine's external ids.
const lineage = new DynamoDbLineageStore(
  new DynamoDBClient({
    endpoint: info.dynamodb,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  }),
  lineageTableName(STAGE),
);
const OUTCOMES = new Set(['applied', 'skipped', 'skipped-stale', 'dead-lettered', 'parked']);
const accepted = sent.flatMap((s) => {
  const answer = JSON.parse(s.body) as { accepted?: string[] };
  return (answer.accepted ?? []).map((id) => ({ source: s.source, id }));
});
const deadline = Date.now() + 2 * 60_000;
for (let reported = -1; ; ) {
  const pending = [];
  for (const event of accepted)
    if (!(await lineage.byEvent(event.source, event.id)).some((e) => OUTCOMES.has(e.stage)))
      pending.push(event);
  if (pending.length === 0 || Date.now() > deadline) {
    if (pending.length > 0)
      process.stdout.write(
        `\n${pending.length} events still without an outcome; follow them with \`npx spine lineage event <source> <id>\`: ${pending.map((e) => `${e.source} ${e.id}`).join(', ')}\n`,
      );
    break;
  }
  if (pending.length !== reported)
    process.stdout.write(
      `waiting for ${pending.length} event${pending.length === 1 ? '' : 's'} to land (a retry waits the visibility timeout)…\n`,
    );
  reported = pending.length;
  await new Promise((r) => setTimeout(r, 1000));
}
const credential = JSON.parse(
  (await secrets.send(new GetSecretValueCommand({ SecretId: odooSecretName(STAGE) })))
    .SecretString ?? '{}',
) as { url: string; database: string; login: string; password?: string; apiKey?: string };
const odoo = await OdooClient.connect({
  url: credential.url,
  database: credential.database,
  login: credential.login,
  secret: (credential.apiKey ?? credential.password) as string,
});
const spineRecords = () =>
  odoo.searchRead('ir.model.data', [['module', '=', 'spine']], {
    fields: ['name', 'model', 'res_id'],
    order: 'id',
  });
const references = await spineRecords();
/** What finance reads on each document: its amounts in its currency, and how far it went. */
const FINANCE: Readonly<Record<string, readonly string[]>> = {
  'sale.order': ['amount_total', 'amount_tax', 'currency_id', 'state'],
  'account.move': ['amount_total', 'amount_tax', 'currency_id', 'state', 'payment_state'],
  'account.payment': ['amount', 'currency_id', 'state', 'journal_id'],
};
const money = (record: Record<string, unknown>) => {
  const currency = Array.isArray(record.currency_id) ? String(record.currency_id[1]) : '';
  const total = record.amount_total ?? record.amount;
  const parts = [
    typeof total === 'number' ? `${total.toFixed(2)} ${currency}` : '',
    typeof record.amount_tax === 'number' ? `tax ${record.amount_tax.toFixed(2)}` : '',
    String(record.state ?? ''),
    record.payment_state ? String(record.payment_state) : '',
    Array.isArray(record.journal_id) ? `journal ${String(record.journal_id[1])}` : '',
  ];
  return parts.filter(Boolean).join(', ');
};
process.stdout.write(`\nIn Odoo (${credential.url}), under module spine:\n`);
for (const ref of references) {
  const model = String(ref.model);
  const [record] = await odoo.read(
    model,
    [Number(ref.res_id)],
    ['display_name', ...(FINANCE[model] ?? [])],
  );
  const figures = record && FINANCE[model] ? `  ${money(record)}` : '';
  process.stdout.write(
    `  ${model.padEnd(16)} ${String(ref.res_id).padStart(4)}  ${String(record?.display_name ?? '').padEnd(32)} spine.${ref.name}${figures}\n`,
  );
}
process.stdout.write(
  `\n${sent.filter((s) => s.status === 202).length} of ${sent.length} deliveries accepted. Trace any of them with \`npx spine lineage event <source> <event id>\`.\n`,
);
// The samples are dated when the vendors' documentation wrote them, not today: reconciliation
// goes by the events' own days.
const days = [...new Set(deliveries.flatMap((d) => (d.day ? [d.day] : [])))].sort();
process.stdout.write(
  `Compare what the vendors charged with what Odoo books: ${days.map((d) => `\`npx spine reconcile --day ${d}\``).join(', ')}.\n`,
);
