/**
 * The shape of a crosswalk file (contracts/reference/<crosswalk>.yaml) once it has passed
 * contracts/reference.schema.json, and the Odoo models reference data may point to.
 */
import type { ReferenceValue } from '../../functions/contracts/model.ts';

export interface CrosswalkYaml {
  crosswalk: string;
  description: string;
  model: string;
  key: string;
  entries: Record<string, { find: Record<string, ReferenceValue>; create: string; note?: string }>;
}

export const REFERENCE_DIR = 'contracts/reference';

/** `contracts/reference/taxes.yaml` → `taxes`; undefined for any other file. */
export function crosswalkNameOf(file: string): string | undefined {
  return /(?:^|\/)contracts\/reference\/([^/]+)\.ya?ml$/.exec(file)?.[1];
}

/**
 * Models reference data may find, with the fields a `find` may name (as in Odoo 16 to 19; a
 * field one version lacks is still listed, and `spine reference check` says when the Odoo at
 * hand has no such field). Reference data is configuration an operator owns: a model outside
 * this list (a partner, an order) is data events write, not reference data.
 */
export const REFERENCE_MODELS: Readonly<Record<string, readonly string[]>> = {
  'account.tax': [
    'name',
    'description',
    'invoice_label',
    'amount',
    'amount_type',
    'type_tax_use',
    'tax_scope',
    'price_include',
    'price_include_override',
    'include_base_amount',
    'tax_group_id',
    'company_id',
    'country_id',
    'active',
  ],
  'account.journal': ['name', 'code', 'type', 'currency_id', 'company_id', 'active'],
  'account.payment.method.line': ['name', 'code', 'journal_id', 'payment_method_id'],
  'res.currency': ['name', 'full_name', 'symbol', 'active'],
  'res.country': ['code', 'name'],
  'res.country.state': ['code', 'name', 'country_id'],
  'res.company': ['name', 'vat', 'company_registry', 'currency_id', 'country_id', 'active'],
  'product.product': [
    'default_code',
    'name',
    'barcode',
    'type',
    'detailed_type',
    'product_tmpl_id',
    'company_id',
    'active',
  ],
  'uom.uom': ['name', 'active'],
  // An order's currency is its pricelist's: a crosswalk per order currency.
  'product.pricelist': ['name', 'currency_id', 'company_id', 'active'],
  'account.fiscal.position': ['name', 'country_id', 'company_id', 'active'],
};

/** Fields whose value in a `find` is a record: they are named through one of its fields (`company_id.name`). */
export const RELATIONAL_FIELDS = new Set([
  'tax_group_id',
  'company_id',
  'country_id',
  'currency_id',
  'journal_id',
  'payment_method_id',
  'product_tmpl_id',
]);
