import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  VendorCredentialRefused,
  VendorDeadlineExceeded,
  VendorRequestRefused,
  VendorUnavailable,
} from '../../functions/enrich/errors.ts';
import type { FetchResult } from '../../functions/enrich/model.ts';
import {
  StripePaymentIntents,
  type StripePaymentIntentsOptions,
} from '../../functions/enrich/stripe.ts';
import { type StripeEmulator, startStripeEmulator } from '../../local/vendors/stripe.ts';

const KEY = 'rk_test_51SpineLocalKey0000';
const FEE_PATH = 'latest_charge.balance_transaction';

let emulator: StripeEmulator;
const sleeps: number[] = [];

beforeAll(async () => {
  emulator = await startStripeEmulator({
    token: KEY,
    seed: [
      { amount: 14_900, currency: 'eur', fee: 451 },
      { amount: 10_000, currency: 'gbp', fee: 420, settlementCurrency: 'eur', exchangeRate: 1.17 },
    ],
  });
});
afterAll(() => emulator.stop());
afterEach(() => emulator.setFaults({}));

function client(options: Partial<StripePaymentIntentsOptions> = {}) {
  return new StripePaymentIntents({
    token: KEY,
    baseUrl: emulator.url,
    secretName: 'spine/test/sources/stripe',
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    ...options,
  });
}

function found(result: FetchResult | undefined) {
  if (!result || !('found' in result))
    throw new Error(`expected found, got ${JSON.stringify(result)}`);
  return result.found;
}

describe('StripePaymentIntents against the emulator', () => {
  it('reads a payment intent with its charge and balance transaction expanded: fee and net in one call', async () => {
    const [plain, converted] = emulator.seeded;
    const pi = plain?.paymentIntent.id as string;
    const fx = converted?.paymentIntent.id as string;
    const reader = client();

    const results = await reader.read([pi, fx, 'pi_3NoSuchIntent000000000'], {
      expand: [FEE_PATH],
    });

    const payment = found(results.get(pi));
    expect(payment.id).toBe(pi);
    expect(payment.version).toBeUndefined();
    expect(payment.object).toMatchObject({
      object: 'payment_intent',
      amount: 14_900,
      currency: 'eur',
      status: 'succeeded',
      latest_charge: {
        object: 'charge',
        payment_intent: pi,
        balance_transaction: {
          object: 'balance_transaction',
          amount: 14_900,
          fee: 451,
          net: 14_449,
          currency: 'eur',
          exchange_rate: null,
          fee_details: [{ amount: 451, currency: 'eur', type: 'stripe_fee' }],
        },
      },
    });
    expect(found(results.get(fx)).object).toMatchObject({
      currency: 'gbp',
      latest_charge: {
        currency: 'gbp',
        balance_transaction: {
          amount: 11_700,
          fee: 420,
          net: 11_280,
          currency: 'eur',
          exchange_rate: 1.17,
        },
      },
    });
    expect(results.get('pi_3NoSuchIntent000000000')).toEqual({
      missing: true,
      reason: expect.stringContaining("No such payment_intent: 'pi_3NoSuchIntent000000000'"),
    });
    expect(reader.stats).toEqual({ calls: 3, throttled: 0, retries: 0 });
    expect(emulator.stats.versions.at(-1)).toBe('2024-06-20');
  });

  it('answers ids, not objects, where nothing is expanded', async () => {
    const pi = emulator.seeded[0]?.paymentIntent.id as string;
    const object = found((await client().read([pi])).get(pi)).object;
    expect(object.latest_charge).toBe(emulator.seeded[0]?.charge.id);
  });

  it('reads many intents at most 4 at a time', async () => {
    const ids = Array.from(
      { length: 12 },
      (_, i) =>
        emulator.store.createPayment({ amount: 1000 + i, currency: 'usd', fee: 59 }).paymentIntent
          .id,
    );
    emulator.setFaults({ latencyMs: 50 });
    emulator.stats.maxInFlight = 0;

    const results = await client().read(ids, { expand: [FEE_PATH] });

    expect([...results.values()].every((r) => 'found' in r)).toBe(true);
    expect(emulator.stats.maxInFlight).toBeGreaterThan(1);
    expect(emulator.stats.maxInFlight).toBeLessThanOrEqual(4);
  });

  it('retries a 429, then reads', async () => {
    const pi = emulator.seeded[0]?.paymentIntent.id as string;
    emulator.setFaults({ next: ['throttle'] });
    const reader = client();
    expect(found((await reader.read([pi])).get(pi)).id).toBe(pi);
    expect(reader.stats).toEqual({ calls: 2, throttled: 1, retries: 1 });
  });

  it('refuses a wrong key for good, naming the secret to fix, and stops reading the other ids', async () => {
    const ids = emulator.seeded.map((p) => p.paymentIntent.id);
    const reader = client({ token: 'rk_test_wrong', maxConcurrency: 1 });
    const error = await reader.read(ids).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VendorCredentialRefused);
    expect((error as Error).message).toMatch(
      /^Stripe refused the token in spine\/test\/sources\/stripe: /,
    );
    expect(error).toMatchObject({ status: 401, retryable: false });
    expect(reader.stats.calls).toBe(1);
  });

  it('refuses for good an expansion Stripe does not allow', async () => {
    const pi = emulator.seeded[0]?.paymentIntent.id as string;
    const error = await client()
      .read([pi], { expand: ['latest_charge.balance_transaction.source.customer'] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VendorRequestRefused);
    expect((error as Error).message).toMatch(/cannot be expanded/);
  });

  it('retries 5xx answers, then gives up with VendorUnavailable; none past endsAt', async () => {
    emulator.setFaults({ serverError: 1, serverErrorStatus: 500 });
    const reader = client();
    await expect(reader.read(['pi_x'])).rejects.toBeInstanceOf(VendorUnavailable);
    expect(reader.stats).toEqual({ calls: 4, throttled: 0, retries: 3 });

    const hurried = client();
    await expect(hurried.read(['pi_x'], { endsAt: Date.now() + 300 })).rejects.toBeInstanceOf(
      VendorUnavailable,
    );
    expect(hurried.stats.calls).toBe(1);
  });

  it('abandons the reads in flight when the deadline aborts', async () => {
    emulator.setFaults({ latencyMs: 2000 });
    const error = await client()
      .read(['pi_a', 'pi_b'], { deadline: AbortSignal.timeout(100) })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VendorDeadlineExceeded);
  });

  it('treats a 404 that is not Stripe\'s "no such object" as a wrong URL, not a missing intent', async () => {
    const reader = client({ baseUrl: `${emulator.url}/proxy` });
    await expect(reader.read(['pi_x'])).rejects.toBeInstanceOf(VendorRequestRefused);
  });
});
