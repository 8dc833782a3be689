/**
 * What a fresh Odoo database holds before Spine writes to it: every country and currency of
 * `base`, the main company, and what installing `account` with the generic chart adds (accounts,
 * a 15 % sale tax as the company default, journals), a public pricelist and the users.
 */
import { COUNTRIES, CURRENCIES } from './countries.ts';
import { COMPANY } from './finance.ts';
import type { OdooVersion } from './models.ts';
import type { Orm } from './orm.ts';

/** Countries and currencies the emulator seeded before it had them all: their ids stay. */
const EARLY_COUNTRIES = ['US', 'FR', 'GB', 'DE', 'BE', 'CA', 'NL', 'ES', 'IT', 'JP'];
const EARLY_CURRENCIES = ['EUR', 'USD', 'GBP', 'JPY', 'CAD', 'CHF'];

export interface SeedOptions {
  /**
   * Currencies to activate besides the company's. A fresh database activates only the company
   * currency (`res.company` create/write); a Spine database needs those it books in.
   * @default ['EUR', 'USD']
   */
  readonly activeCurrencies?: readonly string[];
}

/** The main company's currency: EUR up to 16, USD from 17 (`base_data.sql`, `res_company_data.xml`). */
export const companyCurrencyOf = (version: OdooVersion) => (version >= 17 ? 'USD' : 'EUR');

export function seedDatabase(
  orm: Orm,
  adminUid: number,
  users: { login: string; uid: number }[],
  options: SeedOptions = {},
): void {
  const create = (model: string, values: Record<string, unknown>[]) =>
    orm.call(adminUid, model, 'create', [values], {}) as number[];
  seedReferenceData(orm, adminUid, options);
  create('uom.uom', [{ name: 'Units' }]);
  const partners = create('res.partner', [
    { name: 'My Company', is_company: true },
    ...users.map((u) => ({ name: u.login, email: u.login.includes('@') ? u.login : false })),
  ]);
  orm.db.update('res.company', COMPANY, { partner_id: partners[0] ?? false });
  users.forEach((u, i) => {
    orm.db.insert('res.users', {
      id: u.uid,
      name: u.login,
      login: u.login,
      active: true,
      partner_id: partners[i + 1] ?? false,
      groups_id: [],
      group_ids: [],
    });
  });
}

/**
 * Countries, currencies, the company, its chart, taxes, journals and pricelist: whatever of
 * them the database lacks (so a snapshot from an older emulator gains the countries it missed).
 */
export function seedReferenceData(orm: Orm, adminUid: number, options: SeedOptions = {}): void {
  const call = (model: string, method: string, args: unknown[], kwargs = {}) =>
    orm.call(adminUid, model, method, args, kwargs, { active_test: false });
  const codes = (model: string, field: string) =>
    new Map(
      (call(model, 'search_read', [[], [field]]) as Record<string, unknown>[]).map((r) => [
        String(r[field]),
        Number(r.id),
      ]),
    );
  const countries = codes('res.country', 'code');
  const countryOrder = [
    ...EARLY_COUNTRIES.map((c) => COUNTRIES.find(([code]) => code === c)),
    ...COUNTRIES.filter(([code]) => !EARLY_COUNTRIES.includes(code)),
  ].filter((c) => c !== undefined);
  const newCountries = countryOrder.filter(([code]) => !countries.has(code));
  if (newCountries.length > 0)
    call('res.country', 'create', [newCountries.map(([code, name]) => ({ code, name }))]);

  const currencies = codes('res.currency', 'name');
  const companyCurrency = companyCurrencyOf(orm.version);
  const active = new Set([companyCurrency, ...(options.activeCurrencies ?? ['EUR', 'USD'])]);
  const currencyOrder = [
    ...EARLY_CURRENCIES.map((c) => CURRENCIES.find(([code]) => code === c)),
    ...CURRENCIES.filter(([code]) => !EARLY_CURRENCIES.includes(code)),
  ].filter((c) => c !== undefined);
  const newCurrencies = currencyOrder.filter(([code]) => !currencies.has(code));
  if (newCurrencies.length > 0) {
    const created = call('res.currency', 'create', [
      newCurrencies.map(([name, symbol, rounding]) => ({
        name,
        symbol,
        rounding,
        active: active.has(name),
      })),
    ]) as number[];
    newCurrencies.forEach(([name], i) => {
      currencies.set(name, created[i] as number);
    });
  }

  if (orm.db.table('res.company').has(COMPANY)) return;
  const currency = currencies.get(companyCurrency) ?? false;
  orm.db.update('res.currency', Number(currency), { active: true });
  orm.db.insert('res.company', {
    id: orm.db.next('res.company.id'),
    name: 'My Company',
    partner_id: false,
    currency_id: currency,
    country_id: false,
    tax_calculation_rounding_method: orm.version >= 19 ? 'round_globally' : 'round_per_line',
    account_price_include: 'tax_excluded',
    account_sale_tax_id: false,
  });
  const accounts = call('account.account', 'create', [
    [
      {
        code: '121000',
        name: 'Account Receivable',
        account_type: 'asset_receivable',
        reconcile: true,
      },
      {
        code: '211000',
        name: 'Account Payable',
        account_type: 'liability_payable',
        reconcile: true,
      },
      { code: '101401', name: 'Bank', account_type: 'asset_cash' },
      {
        code: '101402',
        name: 'Outstanding Receipts',
        account_type: 'asset_current',
        reconcile: true,
      },
      { code: '101501', name: 'Cash', account_type: 'asset_cash' },
      { code: '251000', name: 'Tax Received', account_type: 'liability_current' },
      { code: '400000', name: 'Product Sales', account_type: 'income' },
      { code: '600000', name: 'Expenses', account_type: 'expense' },
    ],
  ]) as number[];
  const [group] = call('account.tax.group', 'create', [[{ name: 'Tax 15%' }]]) as number[];
  const [tax] = call('account.tax', 'create', [
    [
      {
        name: '15%',
        amount_type: 'percent',
        amount: 15,
        type_tax_use: 'sale',
        tax_group_id: group,
      },
    ],
  ]) as number[];
  orm.db.update('res.company', COMPANY, { account_sale_tax_id: tax ?? false });
  call('account.journal', 'create', [
    [
      { name: 'Customer Invoices', code: 'INV', type: 'sale', default_account_id: accounts[6] },
      { name: 'Bank', code: 'BNK1', type: 'bank', default_account_id: accounts[2] },
      { name: 'Cash', code: 'CSH1', type: 'cash', default_account_id: accounts[4] },
      { name: 'Vendor Bills', code: 'BILL', type: 'purchase', default_account_id: accounts[7] },
      { name: 'Miscellaneous Operations', code: 'MISC', type: 'general' },
    ],
  ]);
  call('product.pricelist', 'create', [[{ name: 'Public Pricelist', currency_id: currency }]]);
}
