/**
 * Vendor payloads under test/fixtures, read as the exact bytes a vendor sends (bodies are kept
 * as raw text: Shopify ids above 2^53 must survive) with the non-signature headers beside them.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Fixture {
  /** `shopify/orders-create` */
  readonly name: string;
  /** The source folder: `shopify`. */
  readonly source: string;
  /** The body exactly as the vendor sends it. */
  readonly raw: string;
  /** Lower-cased headers that carry routing or ids (signatures are added by the tests). */
  readonly headers: Readonly<Record<string, string>>;
}

export const FIXTURES_DIR = new URL('../fixtures/', import.meta.url).pathname;

export function loadFixture(name: string): Fixture {
  const raw = readFileSync(join(FIXTURES_DIR, `${name}.json`), 'utf8');
  const headersFile = join(FIXTURES_DIR, `${name}.headers.json`);
  const headers = existsSync(headersFile)
    ? (JSON.parse(readFileSync(headersFile, 'utf8')) as Record<string, string>)
    : { 'content-type': 'application/json' };
  return { name, source: name.split('/')[0] ?? '', raw, headers };
}

export function allFixtures(): Fixture[] {
  return readdirSync(FIXTURES_DIR, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .flatMap((dir) =>
      readdirSync(join(FIXTURES_DIR, dir.name))
        .filter((file) => file.endsWith('.json') && !file.endsWith('.headers.json'))
        .map((file) => loadFixture(`${dir.name}/${file.replace(/\.json$/, '')}`)),
    )
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Every string value in a JSON text, for scanning logs and lineage for leaked personal data. */
export function stringValues(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringValues);
  if (value && typeof value === 'object') return Object.values(value).flatMap(stringValues);
  return [];
}

/**
 * Personal values that appear in the fixtures, written out by hand so that scans of logs and
 * lineage do not trust the contracts they are checking.
 */
export const PERSONAL_VALUES = [
  'Camille',
  'Durand',
  'camille.durand@example.com',
  'Camille.Durand@example.com',
  '+33 4 72 00 11 22',
  'Rue de la République',
  'Bâtiment B',
  'Avenue Henri Barbusse',
  '69002',
  '69100',
  'Villeurbanne',
  'Signed up through the annual plan',
  'Bob',
  'Robert',
  'Norman',
  'bob.norman@example.com',
  '+16135550142',
  '+16135550199',
  'Chestnut Street',
  'Louisville',
  '40202',
  'Prefers phone contact',
  'Please ring twice',
  'Norman Supplies',
  'Head of Purchasing',
  '+1 613 555 0177',
  'Amara',
  'Okafor',
  'amara.okafor@example.com',
  'amara@okafor-studio.example',
  '+447700900123',
  '198.51.100.23',
  'crm_owner',
  // A merchant's metadata key, as a JSON key (Odoo's `client_order_ref` field name is not one).
  '"order_ref"',
  'Customer changed their mind',
  'invoice.stripe.com',
];
