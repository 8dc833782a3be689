import { describe, expect, it } from 'vitest';
import {
  documentTotals,
  floatRound,
  lineTaxes,
  type TaxSpec,
} from '../../../local/odoo/accounting.ts';

const tax = (
  id: number,
  amountType: TaxSpec['amountType'],
  amount: number,
  more: Partial<TaxSpec> = {},
): TaxSpec => ({
  id,
  name: `tax ${id}`,
  amountType,
  amount,
  priceInclude: false,
  includeBaseAmount: false,
  isBaseAffected: true,
  sequence: 1,
  children: [],
  ...more,
});
const line = (priceUnit: number, taxes: TaxSpec[]) => ({
  priceUnit,
  quantity: 1,
  discount: 0,
  taxes,
});

// Cases from Odoo 18's account/tests/test_taxes_computation.py (round per line, precision 0.01).
describe('tax computation, as Odoo 18 computes it', () => {
  it('test_taxes_ordering: groups at their place, division before fixed before percent', () => {
    const taxes = [
      tax(1, 'division', 10, { sequence: 1 }),
      tax(4, 'group', 0, {
        sequence: 4,
        children: [tax(2, 'fixed', 10, { sequence: 2 }), tax(3, 'percent', 10, { sequence: 3 })],
      }),
    ];
    const result = lineTaxes(line(200, taxes), 0.01, 'round_per_line', 18);
    expect(result.totalIncluded).toBe(252.22);
    expect(result.taxes.map((t) => [t.base, t.amount])).toEqual([
      [200, 22.22],
      [200, 10],
      [200, 20],
    ]);
  });

  it('test_random_case_3: excluded and included together, per line and globally', () => {
    const taxes = [tax(1, 'percent', 15), tax(2, 'percent', 5.5, { priceInclude: true })];
    const perLine = lineTaxes(line(2300, taxes), 0.01, 'round_per_line', 18);
    expect([
      perLine.totalExcluded,
      ...perLine.taxes.map((t) => t.amount),
      perLine.totalIncluded,
    ]).toEqual([2180.09, 327.01, 119.91, 2627.01]);
    const globally = lineTaxes(line(2300, taxes), 0.01, 'round_globally', 18);
    expect(globally.totalExcluded).toBeCloseTo(2180.094787, 6);
    expect(globally.totalIncluded).toBeCloseTo(2627.014218, 6);
  });

  it('test_random_case_4: an included tax rounds the tax, not the base (18), the base (16/17)', () => {
    const taxes = [tax(1, 'percent', 12, { priceInclude: true })];
    const eighteen = lineTaxes(line(52.5, taxes), 0.01, 'round_per_line', 18);
    expect([eighteen.totalExcluded, eighteen.taxes[0]?.amount]).toEqual([46.87, 5.63]);
    const globally = lineTaxes(line(52.5, taxes), 0.01, 'round_globally', 18);
    expect(globally.totalExcluded).toBeCloseTo(46.875, 9);
    const sixteen = lineTaxes(line(52.5, taxes), 0.01, 'round_per_line', 16);
    expect(sixteen.totalExcluded + (sixteen.taxes[0]?.amount ?? 0)).toBe(52.5);
  });

  it('test_random_case_8: include_base_amount feeds the base of later taxes', () => {
    const taxes = [
      tax(1, 'percent', -20, { sequence: 1 }),
      tax(2, 'percent', 4, { sequence: 2, includeBaseAmount: true }),
      tax(3, 'percent', 22, { sequence: 3 }),
    ];
    for (const version of [16, 18] as const) {
      const result = lineTaxes(line(50, taxes), 0.01, 'round_per_line', version);
      expect(result.totalIncluded).toBe(53.44);
      expect(result.taxes.map((t) => [t.base, t.amount])).toEqual([
        [50, -10],
        [50, 2],
        [52, 11.44],
      ]);
    }
  });

  it('rounds globally per tax over the document and spreads the cents (19 docstring example)', () => {
    const taxes = [tax(1, 'percent', 21, { priceInclude: true })];
    const totals = documentTotals(
      [line(21.53, taxes), line(21.53, taxes)],
      0.01,
      'round_globally',
      19,
    );
    expect(totals.lines.map((l) => l.subtotal)).toEqual([17.8, 17.79]);
    expect([totals.untaxed, totals.tax, totals.total]).toEqual([35.59, 7.47, 43.06]);
  });

  it('rounds half up with the currency rounding, 0 decimals for JPY', () => {
    expect(floatRound(2.675, 0.01)).toBe(2.68);
    expect(floatRound(-2.675, 0.01)).toBe(-2.68);
    expect(floatRound(1234.5, 1)).toBe(1235);
    expect(floatRound(0.0005, 0.001)).toBe(0.001);
  });
});
