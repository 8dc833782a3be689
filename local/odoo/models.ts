/**
 * The Odoo models the emulator knows, with their real technical field names, required fields,
 * relations and the renames between versions 16 and 19 (see the Odoo reference in shared/).
 */

import { decimalsOf } from './accounting.ts';
import {
  moveLineAmounts,
  movePaymentState,
  moveResidual,
  moveTotals,
  orderLineAmounts,
  orderTotals,
  paymentInvoices,
  paymentReconciled,
  taxPriceInclude,
} from './finance.ts';

export type OdooVersion = 16 | 17 | 18 | 19;

export type FieldType =
  | 'char'
  | 'text'
  | 'html'
  | 'integer'
  | 'float'
  | 'monetary'
  | 'boolean'
  | 'date'
  | 'datetime'
  | 'selection'
  | 'many2one'
  | 'one2many'
  | 'many2many';

/** What computed fields and defaults may read. */
export interface RecordView {
  readonly id: number;
  readonly model: string;
  readonly version: OdooVersion;
  get(field: string): unknown;
  /** Records of a one2many or many2many. */
  lines(field: string): RecordView[];
  /** The record a many2one points at, if set. */
  related(field: string): RecordView | undefined;
  /** Another record, by model and id (company settings, seeded accounts). */
  record(model: string, id: number): RecordView | undefined;
}

export interface FieldDef {
  readonly type: FieldType;
  readonly string: string;
  readonly required?: boolean;
  readonly relation?: string;
  /** The many2one on `relation` that points back, for one2many fields. */
  readonly inverse?: string;
  /** Which rows of the relation a one2many shows (Odoo's field domain, e.g. invoice lines). */
  readonly rows?: (row: Record<string, unknown>) => boolean;
  readonly selection?:
    | readonly (readonly [string, string])[]
    | ((version: OdooVersion) => readonly (readonly [string, string])[]);
  readonly default?: unknown | ((version: OdooVersion) => unknown);
  readonly readonly?: boolean;
  /** Computed on read, never stored. */
  readonly compute?: (record: RecordView) => unknown;
  /** First version where `compute` applies; before it the field is stored. */
  readonly computeSince?: OdooVersion;
  /** First version that has the field. */
  readonly since?: OdooVersion;
  /** First version that no longer has it. */
  readonly until?: OdooVersion;
}

export interface ModelDef {
  readonly name: string;
  /** The model's label, as in error messages: 'Contact' for res.partner. */
  readonly description: string;
  readonly fields: Readonly<Record<string, FieldDef>>;
  /** Field shown as the display name. */
  readonly recName?: string;
  readonly order?: string;
  /** A check constraint: returns its message when a record violates it. */
  readonly constraint?: (record: RecordView) => string | undefined;
  readonly since?: OdooVersion;
}

const selection = (...values: string[]): [string, string][] =>
  values.map((v) => [v, v.replace(/_/g, ' ').replace(/^\w/, (c) => c.toUpperCase())]);

/** Lines of an invoice's "Invoice lines" tab; the others are its tax and receivable lines. */
const INVOICE_LINE_TYPES = new Set(['product', 'line_section', 'line_note']);

const today = () => new Date().toISOString().slice(0, 10);
const now = () => new Date().toISOString().slice(0, 19).replace('T', ' ');

export const MODELS: readonly ModelDef[] = [
  {
    name: 'res.country',
    description: 'Country',
    fields: {
      name: { type: 'char', string: 'Country Name', required: true },
      code: { type: 'char', string: 'Country Code' },
    },
  },
  {
    name: 'res.currency',
    description: 'Currency',
    fields: {
      name: { type: 'char', string: 'Currency', required: true },
      symbol: { type: 'char', string: 'Symbol' },
      rounding: { type: 'float', string: 'Rounding Factor', default: 0.01 },
      decimal_places: {
        type: 'integer',
        string: 'Decimal Places',
        compute: (r) => decimalsOf(Number(r.get('rounding')) || 0.01),
      },
      active: { type: 'boolean', string: 'Active', default: true },
    },
  },
  {
    name: 'res.currency.rate',
    description: 'Currency Rate',
    fields: {
      name: { type: 'date', string: 'Date', required: true, default: today },
      rate: { type: 'float', string: 'Technical Rate', default: 1 },
      currency_id: {
        type: 'many2one',
        string: 'Currency',
        relation: 'res.currency',
        required: true,
      },
      company_id: { type: 'many2one', string: 'Company', relation: 'res.company' },
    },
  },
  {
    name: 'res.company',
    description: 'Companies',
    fields: {
      name: { type: 'char', string: 'Company Name', required: true },
      partner_id: { type: 'many2one', string: 'Partner', relation: 'res.partner' },
      currency_id: { type: 'many2one', string: 'Currency', relation: 'res.currency' },
      country_id: { type: 'many2one', string: 'Country', relation: 'res.country' },
      tax_calculation_rounding_method: {
        type: 'selection',
        string: 'Tax Calculation Rounding Method',
        selection: [
          ['round_per_line', 'Round per Line'],
          ['round_globally', 'Round Globally'],
        ],
        // 19 makes rounding per tax over the document the default (company.py).
        default: (version: OdooVersion) => (version >= 19 ? 'round_globally' : 'round_per_line'),
      },
      account_price_include: {
        type: 'selection',
        string: 'Default Sales Price Include',
        selection: [
          ['tax_included', 'Tax Included'],
          ['tax_excluded', 'Tax Excluded'],
        ],
        default: 'tax_excluded',
        since: 18,
      },
      account_sale_tax_id: {
        type: 'many2one',
        string: 'Default Sale Tax',
        relation: 'account.tax',
      },
    },
  },
  {
    name: 'uom.uom',
    description: 'Product Unit of Measure',
    fields: { name: { type: 'char', string: 'Unit', required: true } },
  },
  {
    name: 'account.account',
    description: 'Account',
    order: 'code',
    fields: {
      code: { type: 'char', string: 'Code', required: true },
      name: { type: 'char', string: 'Account Name', required: true },
      account_type: {
        type: 'selection',
        string: 'Type',
        selection: selection(
          'asset_receivable',
          'asset_cash',
          'asset_current',
          'liability_payable',
          'liability_current',
          'income',
          'expense',
        ),
        required: true,
      },
      reconcile: { type: 'boolean', string: 'Allow Reconciliation', default: false },
    },
  },
  {
    name: 'account.tax.group',
    description: 'Tax Group',
    fields: { name: { type: 'char', string: 'Name', required: true } },
  },
  {
    name: 'account.tax',
    description: 'Tax',
    order: 'sequence',
    fields: {
      name: { type: 'char', string: 'Tax Name', required: true },
      amount_type: {
        type: 'selection',
        string: 'Tax Computation',
        selection: [
          ['group', 'Group of Taxes'],
          ['fixed', 'Fixed'],
          ['percent', 'Percentage'],
          ['division', 'Percentage Tax Included'],
        ],
        default: 'percent',
        required: true,
      },
      amount: { type: 'float', string: 'Amount', default: 0 },
      type_tax_use: {
        type: 'selection',
        string: 'Tax Type',
        selection: selection('sale', 'purchase', 'none'),
        default: 'sale',
        required: true,
      },
      // Stored in 16/17; 18 computes it from the override below and the company default.
      price_include: {
        type: 'boolean',
        string: 'Included in Price',
        default: false,
        compute: (r) => taxPriceInclude(r),
        computeSince: 18,
      },
      price_include_override: {
        type: 'selection',
        string: 'Included in Price',
        selection: [
          ['tax_included', 'Tax Included'],
          ['tax_excluded', 'Tax Excluded'],
        ],
        since: 18,
      },
      include_base_amount: { type: 'boolean', string: 'Affect Base of Subsequent Taxes' },
      is_base_affected: {
        type: 'boolean',
        string: 'Base Affected by Previous Taxes',
        default: true,
      },
      sequence: { type: 'integer', string: 'Sequence', default: 1 },
      tax_group_id: { type: 'many2one', string: 'Tax Group', relation: 'account.tax.group' },
      company_id: { type: 'many2one', string: 'Company', relation: 'res.company', default: 1 },
      children_tax_ids: { type: 'many2many', string: 'Children Taxes', relation: 'account.tax' },
      active: { type: 'boolean', string: 'Active', default: true },
    },
    constraint: (r) =>
      r.get('amount_type') !== 'group' && (r.lines('children_tax_ids') as RecordView[]).length > 0
        ? 'Only a group of taxes may have children taxes.'
        : r.get('amount_type') === 'group' &&
            r.lines('children_tax_ids').some((c) => c.get('amount_type') === 'group')
          ? 'Nested group of taxes are not allowed.'
          : undefined,
  },
  {
    name: 'res.partner',
    description: 'Contact',
    order: 'name',
    fields: {
      name: { type: 'char', string: 'Name' },
      email: { type: 'char', string: 'Email' },
      phone: { type: 'char', string: 'Phone' },
      mobile: { type: 'char', string: 'Mobile', until: 19 },
      vat: { type: 'char', string: 'Tax ID' },
      ref: { type: 'char', string: 'Reference' },
      function: { type: 'char', string: 'Job Position' },
      website: { type: 'char', string: 'Website Link' },
      comment: { type: 'html', string: 'Notes' },
      is_company: { type: 'boolean', string: 'Is a Company', default: false },
      parent_id: { type: 'many2one', string: 'Related Company', relation: 'res.partner' },
      child_ids: {
        type: 'one2many',
        string: 'Contact',
        relation: 'res.partner',
        inverse: 'parent_id',
      },
      type: {
        type: 'selection',
        string: 'Address Type',
        selection: selection('contact', 'invoice', 'delivery', 'other'),
        default: 'contact',
      },
      customer_rank: { type: 'integer', string: 'Customer Rank', default: 0 },
      supplier_rank: { type: 'integer', string: 'Supplier Rank', default: 0 },
      country_id: { type: 'many2one', string: 'Country', relation: 'res.country' },
      street: { type: 'char', string: 'Street' },
      street2: { type: 'char', string: 'Street2' },
      city: { type: 'char', string: 'City' },
      zip: { type: 'char', string: 'Zip' },
      active: { type: 'boolean', string: 'Active', default: true },
    },
    // res.partner's SQL constraint check_name.
    constraint: (r) =>
      r.get('type') === 'contact' && !r.get('name') ? 'Contacts require a name' : undefined,
  },
  {
    name: 'product.pricelist',
    description: 'Pricelist',
    fields: {
      name: { type: 'char', string: 'Pricelist Name', required: true },
      currency_id: {
        type: 'many2one',
        string: 'Currency',
        relation: 'res.currency',
        required: true,
      },
      company_id: { type: 'many2one', string: 'Company', relation: 'res.company' },
      active: { type: 'boolean', string: 'Active', default: true },
    },
  },
  {
    name: 'product.template',
    description: 'Product',
    fields: {
      name: { type: 'char', string: 'Name', required: true },
      default_code: { type: 'char', string: 'Internal Reference' },
      barcode: { type: 'char', string: 'Barcode' },
      list_price: { type: 'float', string: 'Sales Price', default: 1 },
      detailed_type: {
        type: 'selection',
        string: 'Product Type',
        selection: selection('consu', 'service', 'product'),
        default: 'consu',
        until: 18,
      },
      type: {
        type: 'selection',
        string: 'Type',
        selection: selection('consu', 'service', 'combo'),
        default: 'consu',
        since: 18,
      },
      is_storable: { type: 'boolean', string: 'Track Inventory', default: false, since: 18 },
      sale_ok: { type: 'boolean', string: 'Can be Sold', default: true },
      active: { type: 'boolean', string: 'Active', default: true },
      taxes_id: { type: 'many2many', string: 'Sales Taxes', relation: 'account.tax' },
      product_variant_ids: {
        type: 'one2many',
        string: 'Products',
        relation: 'product.product',
        inverse: 'product_tmpl_id',
      },
      product_variant_id: {
        type: 'many2one',
        string: 'Product',
        relation: 'product.product',
        compute: (r) => (r.get('product_variant_ids') as number[])[0] ?? false,
      },
      product_variant_count: {
        type: 'integer',
        string: '# Product Variants',
        compute: (r) => (r.get('product_variant_ids') as number[]).length,
      },
    },
  },
  {
    name: 'product.product',
    description: 'Product Variant',
    recName: 'name',
    fields: {
      product_tmpl_id: {
        type: 'many2one',
        string: 'Product Template',
        relation: 'product.template',
        required: true,
      },
      // Delegated to the template (_inherits), as in Odoo.
      name: { type: 'char', string: 'Name' },
      list_price: { type: 'float', string: 'Sales Price' },
      default_code: { type: 'char', string: 'Internal Reference' },
      barcode: { type: 'char', string: 'Barcode' },
      active: { type: 'boolean', string: 'Active', default: true },
    },
  },
  {
    name: 'account.journal',
    description: 'Journal',
    fields: {
      name: { type: 'char', string: 'Journal Name', required: true },
      code: { type: 'char', string: 'Short Code', required: true },
      type: {
        type: 'selection',
        string: 'Type',
        selection: selection('sale', 'purchase', 'cash', 'bank', 'general'),
        required: true,
      },
      default_account_id: {
        type: 'many2one',
        string: 'Default Account',
        relation: 'account.account',
      },
      currency_id: { type: 'many2one', string: 'Currency', relation: 'res.currency' },
    },
  },
  {
    name: 'sale.order',
    description: 'Sales Order',
    fields: {
      name: { type: 'char', string: 'Order Reference', required: true, default: 'New' },
      partner_id: { type: 'many2one', string: 'Customer', relation: 'res.partner', required: true },
      client_order_ref: { type: 'char', string: 'Customer Reference' },
      origin: { type: 'char', string: 'Source Document' },
      date_order: { type: 'datetime', string: 'Order Date', required: true, default: now },
      state: {
        type: 'selection',
        string: 'Status',
        selection: (version) =>
          version >= 17
            ? selection('draft', 'sent', 'sale', 'cancel')
            : selection('draft', 'sent', 'sale', 'done', 'cancel'),
        default: 'draft',
      },
      locked: { type: 'boolean', string: 'Locked', default: false, since: 17 },
      company_id: { type: 'many2one', string: 'Company', relation: 'res.company', default: 1 },
      pricelist_id: { type: 'many2one', string: 'Pricelist', relation: 'product.pricelist' },
      currency_id: { type: 'many2one', string: 'Currency', relation: 'res.currency' },
      note: { type: 'html', string: 'Terms and conditions' },
      order_line: {
        type: 'one2many',
        string: 'Order Lines',
        relation: 'sale.order.line',
        inverse: 'order_id',
      },
      invoice_ids: {
        type: 'many2many',
        string: 'Invoices',
        relation: 'account.move',
        compute: () => [],
      },
      amount_untaxed: {
        type: 'monetary',
        string: 'Untaxed Amount',
        readonly: true,
        compute: (r) => orderTotals(r).untaxed,
      },
      amount_tax: {
        type: 'monetary',
        string: 'Taxes',
        readonly: true,
        compute: (r) => orderTotals(r).tax,
      },
      amount_total: {
        type: 'monetary',
        string: 'Total',
        readonly: true,
        compute: (r) => orderTotals(r).total,
      },
    },
  },
  {
    name: 'sale.order.line',
    description: 'Sales Order Line',
    fields: {
      order_id: {
        type: 'many2one',
        string: 'Order Reference',
        relation: 'sale.order',
        required: true,
      },
      product_id: { type: 'many2one', string: 'Product', relation: 'product.product' },
      name: { type: 'text', string: 'Description' },
      display_type: {
        type: 'selection',
        string: 'Display Type',
        selection: selection('line_section', 'line_note'),
      },
      product_uom_qty: { type: 'float', string: 'Quantity', default: 1 },
      price_unit: { type: 'float', string: 'Unit Price', default: 0 },
      discount: { type: 'float', string: 'Discount (%)', default: 0 },
      product_uom: { type: 'many2one', string: 'Unit of Measure', relation: 'uom.uom', until: 19 },
      product_uom_id: { type: 'many2one', string: 'Unit', relation: 'uom.uom', since: 19 },
      tax_id: { type: 'many2many', string: 'Taxes', relation: 'account.tax', until: 19 },
      tax_ids: { type: 'many2many', string: 'Taxes', relation: 'account.tax', since: 19 },
      currency_id: {
        type: 'many2one',
        string: 'Currency',
        relation: 'res.currency',
        compute: (r) => r.related('order_id')?.get('currency_id') ?? false,
      },
      price_subtotal: {
        type: 'monetary',
        string: 'Subtotal',
        readonly: true,
        compute: (r) => orderLineAmounts(r).subtotal,
      },
      price_tax: {
        type: 'float',
        string: 'Total Tax',
        readonly: true,
        compute: (r) => orderLineAmounts(r).tax,
      },
      price_total: {
        type: 'monetary',
        string: 'Total',
        readonly: true,
        compute: (r) => orderLineAmounts(r).total,
      },
    },
  },
  {
    name: 'sale.order.cancel',
    description: 'Sales Order Cancel',
    fields: {
      order_id: { type: 'many2one', string: 'Sale order', relation: 'sale.order', required: true },
    },
  },
  {
    name: 'account.move',
    description: 'Journal Entry',
    fields: {
      name: { type: 'char', string: 'Number', default: '/' },
      move_type: {
        type: 'selection',
        string: 'Type',
        selection: selection(
          'entry',
          'out_invoice',
          'out_refund',
          'in_invoice',
          'in_refund',
          'out_receipt',
          'in_receipt',
        ),
        default: 'entry',
        required: true,
      },
      state: {
        type: 'selection',
        string: 'Status',
        selection: selection('draft', 'posted', 'cancel'),
        default: 'draft',
        required: true,
      },
      partner_id: { type: 'many2one', string: 'Partner', relation: 'res.partner' },
      company_id: { type: 'many2one', string: 'Company', relation: 'res.company', default: 1 },
      journal_id: { type: 'many2one', string: 'Journal', relation: 'account.journal' },
      currency_id: { type: 'many2one', string: 'Currency', relation: 'res.currency' },
      date: { type: 'date', string: 'Date', default: today },
      invoice_date: { type: 'date', string: 'Invoice/Bill Date' },
      invoice_date_due: { type: 'date', string: 'Due Date' },
      ref: { type: 'char', string: 'Reference' },
      payment_reference: { type: 'char', string: 'Payment Reference' },
      invoice_origin: { type: 'char', string: 'Origin' },
      reversed_entry_id: { type: 'many2one', string: 'Reversal of', relation: 'account.move' },
      payment_id: { type: 'many2one', string: 'Payment', relation: 'account.payment' },
      invoice_line_ids: {
        type: 'one2many',
        string: 'Invoice lines',
        relation: 'account.move.line',
        inverse: 'move_id',
        rows: (row) => INVOICE_LINE_TYPES.has(String(row.display_type)),
      },
      line_ids: {
        type: 'one2many',
        string: 'Journal Items',
        relation: 'account.move.line',
        inverse: 'move_id',
      },
      payment_state: {
        type: 'selection',
        string: 'Payment Status',
        selection: (version) =>
          selection(
            'not_paid',
            'in_payment',
            'paid',
            'partial',
            'reversed',
            'invoicing_legacy',
            ...(version >= 18 ? ['blocked'] : []),
          ),
        compute: (r) => movePaymentState(r),
      },
      amount_untaxed: {
        type: 'monetary',
        string: 'Untaxed Amount',
        readonly: true,
        compute: (r) => moveTotals(r).untaxed,
      },
      amount_tax: {
        type: 'monetary',
        string: 'Tax',
        readonly: true,
        compute: (r) => moveTotals(r).tax,
      },
      amount_total: {
        type: 'monetary',
        string: 'Total',
        readonly: true,
        compute: (r) => moveTotals(r).total,
      },
      amount_residual: {
        type: 'monetary',
        string: 'Amount Due',
        readonly: true,
        compute: (r) => moveResidual(r),
      },
    },
  },
  {
    name: 'account.move.line',
    description: 'Journal Item',
    fields: {
      move_id: {
        type: 'many2one',
        string: 'Journal Entry',
        relation: 'account.move',
        required: true,
      },
      display_type: {
        type: 'selection',
        string: 'Display Type',
        selection: selection(
          'product',
          'cogs',
          'tax',
          'discount',
          'rounding',
          'payment_term',
          'line_section',
          'line_note',
          'epd',
        ),
        default: 'product',
      },
      account_id: { type: 'many2one', string: 'Account', relation: 'account.account' },
      account_type: {
        type: 'selection',
        string: 'Internal Type',
        selection: selection(
          'asset_receivable',
          'asset_cash',
          'asset_current',
          'liability_payable',
          'liability_current',
          'income',
          'expense',
        ),
        compute: (r) => r.related('account_id')?.get('account_type') ?? false,
      },
      partner_id: { type: 'many2one', string: 'Partner', relation: 'res.partner' },
      currency_id: { type: 'many2one', string: 'Currency', relation: 'res.currency' },
      product_id: { type: 'many2one', string: 'Product', relation: 'product.product' },
      name: { type: 'char', string: 'Label' },
      quantity: { type: 'float', string: 'Quantity', default: 1 },
      price_unit: { type: 'float', string: 'Unit Price', default: 0 },
      discount: { type: 'float', string: 'Discount (%)', default: 0 },
      tax_ids: { type: 'many2many', string: 'Taxes', relation: 'account.tax' },
      tax_line_id: { type: 'many2one', string: 'Originator Tax', relation: 'account.tax' },
      debit: { type: 'monetary', string: 'Debit', default: 0 },
      credit: { type: 'monetary', string: 'Credit', default: 0 },
      balance: { type: 'monetary', string: 'Balance', default: 0 },
      amount_currency: { type: 'monetary', string: 'Amount in Currency', default: 0 },
      amount_residual: { type: 'monetary', string: 'Residual Amount', default: 0, readonly: true },
      amount_residual_currency: {
        type: 'monetary',
        string: 'Residual Amount in Currency',
        default: 0,
        readonly: true,
      },
      reconciled: { type: 'boolean', string: 'Reconciled', default: false, readonly: true },
      payment_id: { type: 'many2one', string: 'Originator Payment', relation: 'account.payment' },
      parent_state: {
        type: 'selection',
        string: 'Status',
        selection: selection('draft', 'posted', 'cancel'),
        compute: (r) => r.related('move_id')?.get('state') ?? false,
      },
      matched_debit_ids: {
        type: 'one2many',
        string: 'Matched Debits',
        relation: 'account.partial.reconcile',
        inverse: 'credit_move_id',
      },
      matched_credit_ids: {
        type: 'one2many',
        string: 'Matched Credits',
        relation: 'account.partial.reconcile',
        inverse: 'debit_move_id',
      },
      price_subtotal: {
        type: 'monetary',
        string: 'Subtotal',
        readonly: true,
        compute: (r) => moveLineAmounts(r).subtotal,
      },
      price_total: {
        type: 'monetary',
        string: 'Total',
        readonly: true,
        compute: (r) => moveLineAmounts(r).total,
      },
    },
  },
  {
    name: 'account.partial.reconcile',
    description: 'Partial Reconcile',
    fields: {
      debit_move_id: {
        type: 'many2one',
        string: 'Debit',
        relation: 'account.move.line',
        required: true,
      },
      credit_move_id: {
        type: 'many2one',
        string: 'Credit',
        relation: 'account.move.line',
        required: true,
      },
      amount: { type: 'monetary', string: 'Amount', default: 0 },
      debit_amount_currency: { type: 'monetary', string: 'Debit Amount in Currency', default: 0 },
      credit_amount_currency: { type: 'monetary', string: 'Credit Amount in Currency', default: 0 },
    },
  },
  {
    name: 'account.payment',
    description: 'Payments',
    fields: {
      name: { type: 'char', string: 'Number', default: '/' },
      move_id: { type: 'many2one', string: 'Journal Entry', relation: 'account.move' },
      payment_type: {
        type: 'selection',
        string: 'Payment Type',
        selection: selection('outbound', 'inbound'),
        required: true,
        default: 'inbound',
      },
      partner_type: {
        type: 'selection',
        string: 'Partner Type',
        selection: selection('customer', 'supplier'),
        required: true,
        default: 'customer',
      },
      partner_id: { type: 'many2one', string: 'Customer/Vendor', relation: 'res.partner' },
      amount: { type: 'monetary', string: 'Amount', default: 0 },
      currency_id: { type: 'many2one', string: 'Currency', relation: 'res.currency' },
      journal_id: { type: 'many2one', string: 'Journal', relation: 'account.journal' },
      company_id: { type: 'many2one', string: 'Company', relation: 'res.company', default: 1 },
      date: { type: 'date', string: 'Date', required: true, default: today },
      memo: { type: 'char', string: 'Memo', since: 18 },
      ref: { type: 'char', string: 'Reference', until: 18 },
      payment_reference: { type: 'char', string: 'Payment Reference' },
      state: {
        type: 'selection',
        string: 'Status',
        selection: (version) =>
          version >= 18
            ? selection('draft', 'in_process', 'paid', 'canceled', 'rejected')
            : selection('draft', 'posted', 'cancel'),
        default: 'draft',
      },
      is_reconciled: {
        type: 'boolean',
        string: 'Is Reconciled',
        compute: (r) => paymentReconciled(r),
      },
      reconciled_invoice_ids: {
        type: 'many2many',
        string: 'Reconciled Invoices',
        relation: 'account.move',
        compute: (r) => paymentInvoices(r),
      },
    },
    constraint: (r) =>
      Number(r.get('amount')) < 0 ? 'The payment amount cannot be negative.' : undefined,
  },
  {
    name: 'account.payment.register',
    description: 'Pay',
    fields: {
      line_ids: { type: 'many2many', string: 'Journal items', relation: 'account.move.line' },
      journal_id: { type: 'many2one', string: 'Journal', relation: 'account.journal' },
      amount: { type: 'monetary', string: 'Amount' },
      currency_id: { type: 'many2one', string: 'Currency', relation: 'res.currency' },
      payment_date: { type: 'date', string: 'Payment Date', default: today },
      communication: { type: 'char', string: 'Memo' },
      partner_id: { type: 'many2one', string: 'Customer/Vendor', relation: 'res.partner' },
      payment_type: {
        type: 'selection',
        string: 'Payment Type',
        selection: selection('outbound', 'inbound'),
      },
      partner_type: {
        type: 'selection',
        string: 'Partner Type',
        selection: selection('customer', 'supplier'),
      },
      group_payment: { type: 'boolean', string: 'Group Payments', default: true },
    },
  },
  {
    name: 'account.move.reversal',
    description: 'Account Move Reversal',
    fields: {
      move_ids: { type: 'many2many', string: 'Moves', relation: 'account.move' },
      reason: { type: 'char', string: 'Reason' },
      date: { type: 'date', string: 'Reversal date', default: today },
      journal_id: { type: 'many2one', string: 'Use Specific Journal', relation: 'account.journal' },
      refund_method: {
        type: 'selection',
        string: 'Credit Method',
        selection: selection('refund', 'cancel', 'modify'),
        default: 'refund',
        until: 17,
      },
      new_move_ids: { type: 'many2many', string: 'New Moves', relation: 'account.move' },
    },
  },
  {
    name: 'ir.model.data',
    description: 'Model Data',
    recName: 'name',
    fields: {
      module: { type: 'char', string: 'Module', required: true },
      name: { type: 'char', string: 'External Identifier', required: true },
      model: { type: 'char', string: 'Model Name', required: true },
      res_id: { type: 'integer', string: 'Record ID' },
      noupdate: { type: 'boolean', string: 'Non Updatable', default: false },
      complete_name: {
        type: 'char',
        string: 'Complete ID',
        readonly: true,
        compute: (r) => `${r.get('module')}.${r.get('name')}`,
      },
    },
    constraint: (r) =>
      String(r.get('name') ?? '').includes(' ') ? 'External IDs cannot contain spaces' : undefined,
  },
  {
    name: 'res.users',
    description: 'User',
    fields: {
      name: { type: 'char', string: 'Name', required: true },
      login: { type: 'char', string: 'Login', required: true },
      active: { type: 'boolean', string: 'Active', default: true },
      partner_id: { type: 'many2one', string: 'Related Partner', relation: 'res.partner' },
      groups_id: { type: 'many2many', string: 'Groups', relation: 'res.groups', until: 19 },
      group_ids: { type: 'many2many', string: 'Groups', relation: 'res.groups', since: 19 },
    },
  },
  {
    name: 'res.groups',
    description: 'Access Groups',
    fields: { name: { type: 'char', string: 'Name', required: true } },
  },
  {
    name: 'res.users.apikeys',
    description: 'Users API Keys',
    fields: {
      name: { type: 'char', string: 'Description', required: true },
      user_id: { type: 'many2one', string: 'User', relation: 'res.users', required: true },
      scope: { type: 'char', string: 'Scope' },
      expiration_date: { type: 'datetime', string: 'Expiration Date' },
    },
  },
];

const byName = new Map(MODELS.map((m) => [m.name, m]));

export function modelDef(name: string): ModelDef | undefined {
  return byName.get(name);
}

/** The fields a model has in a version. */
export function fieldsOf(model: ModelDef, version: OdooVersion): Record<string, FieldDef> {
  const fields: Record<string, FieldDef> = {};
  for (const [name, field] of Object.entries(model.fields)) {
    if (
      (field.since === undefined || version >= field.since) &&
      (field.until === undefined || version < field.until)
    ) {
      const { compute, computeSince, selection, ...rest } = field;
      fields[name] = {
        ...rest,
        ...(compute && (computeSince === undefined || version >= computeSince) ? { compute } : {}),
        ...(selection
          ? { selection: typeof selection === 'function' ? selection(version) : selection }
          : {}),
      };
    }
  }
  return fields;
}

/** Fields of product.product that live on its template (Odoo's `_inherits`). */
export const PRODUCT_DELEGATED = new Set([
  'name',
  'list_price',
  'detailed_type',
  'type',
  'is_storable',
  'sale_ok',
  'taxes_id',
]);

/** A field's selection values (resolved per version by `fieldsOf`). */
export function selectionOf(field: FieldDef): readonly (readonly [string, string])[] {
  return typeof field.selection === 'function' ? [] : (field.selection ?? []);
}
