import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StripeEmulator, startStripeEmulator } from '../../../local/vendors/stripe.ts';

const KEY = 'sk_test_51SpineEmulator0000000';

const now = Date.parse('2025-03-01T09:00:00.000Z');
let emulator: StripeEmulator;

beforeAll(async () => {
  emulator = await startStripeEmulator({
    token: KEY,
    now: () => now,
    seed: [{ amount: 2500, currency: 'EUR', fee: 63, metadata: { order: 'SO-7' } }],
  });
});
afterAll(() => emulator.stop());

async function get(path: string, authorization: string | null = `Bearer ${KEY}`) {
  const response = await fetch(`${emulator.url}${path}`, {
    headers: authorization === null ? {} : { Authorization: authorization },
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown> & {
      error?: Record<string, unknown>;
    },
  };
}

describe('Stripe emulator', () => {
  it('seeds a payment as Stripe shapes it: PaymentIntent → Charge → BalanceTransaction', async () => {
    const { paymentIntent, charge, balanceTransaction } = emulator.seeded[0] ?? {};
    const created = Math.floor(now / 1000);
    expect(paymentIntent).toMatchObject({
      id: expect.stringMatching(/^pi_[A-Za-z0-9]{24}$/),
      object: 'payment_intent',
      amount: 2500,
      amount_received: 2500,
      currency: 'eur',
      status: 'succeeded',
      latest_charge: charge?.id,
      metadata: { order: 'SO-7' },
      created,
    });
    expect(charge).toMatchObject({
      object: 'charge',
      payment_intent: paymentIntent?.id,
      balance_transaction: balanceTransaction?.id,
      amount_captured: 2500,
      paid: true,
    });
    expect(balanceTransaction).toEqual({
      id: expect.stringMatching(/^txn_/),
      object: 'balance_transaction',
      amount: 2500,
      available_on: created + 2 * 86_400,
      created,
      currency: 'eur',
      description: null,
      exchange_rate: null,
      fee: 63,
      fee_details: [
        {
          amount: 63,
          application: null,
          currency: 'eur',
          description: 'Stripe processing fees',
          type: 'stripe_fee',
        },
      ],
      net: 2437,
      reporting_category: 'charge',
      source: charge?.id,
      status: 'pending',
      type: 'charge',
    });
  });

  it('expands latest_charge and its balance_transaction, written expand[] or expand[0]', async () => {
    const { paymentIntent, charge, balanceTransaction } = emulator.seeded[0] ?? {};
    const plain = await get(`/v1/payment_intents/${paymentIntent?.id}`);
    expect(plain.body.latest_charge).toBe(charge?.id);
    expect(plain.headers.get('request-id')).toMatch(/^req_/);

    const one = await get(`/v1/payment_intents/${paymentIntent?.id}?expand[]=latest_charge`);
    expect(one.body.latest_charge).toEqual({
      ...charge,
      balance_transaction: balanceTransaction?.id,
    });

    const both = await get(
      `/v1/payment_intents/${paymentIntent?.id}?expand%5B0%5D=latest_charge.balance_transaction`,
    );
    expect(both.body.latest_charge).toEqual({ ...charge, balance_transaction: balanceTransaction });
    // Reading never changes what is stored.
    expect(emulator.store.objects.get(charge?.id as string)?.balance_transaction).toBe(
      balanceTransaction?.id,
    );
  });

  it('converts into the settlement currency at the exchange rate', () => {
    const { balanceTransaction } = emulator.store.createPayment({
      amount: 5000,
      currency: 'usd',
      fee: 180,
      settlementCurrency: 'eur',
      exchangeRate: 0.9234,
    });
    expect(balanceTransaction).toMatchObject({
      amount: 4617,
      currency: 'eur',
      exchange_rate: 0.9234,
      fee: 180,
      net: 4437,
    });
    expect(() =>
      emulator.store.createPayment({
        amount: 1,
        currency: 'usd',
        fee: 0,
        settlementCurrency: 'eur',
      }),
    ).toThrow(/needs an exchangeRate/);
  });

  it('leaves the balance transaction null until an unsettled payment is settled', async () => {
    const { paymentIntent } = emulator.store.createPayment({
      amount: 900,
      currency: 'usd',
      fee: 56,
      settled: false,
    });
    const path = `/v1/payment_intents/${paymentIntent.id}?expand[]=latest_charge.balance_transaction`;
    expect((await get(path)).body).toMatchObject({ latest_charge: { balance_transaction: null } });
    emulator.store.settle(paymentIntent.id, { fee: 56 });
    expect((await get(path)).body).toMatchObject({
      latest_charge: { balance_transaction: { fee: 56, net: 844 } },
    });
  });

  it("answers Stripe's errors: 404 resource_missing, 400 for an expansion it cannot make, 404 for an unknown route", async () => {
    const missing = await get('/v1/payment_intents/pi_3Nope');
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatchObject({
      type: 'invalid_request_error',
      code: 'resource_missing',
      message: "No such payment_intent: 'pi_3Nope'",
      param: 'intent',
    });
    const wrongKind = await get(`/v1/payment_intents/${emulator.seeded[0]?.charge.id}`);
    expect(wrongKind.body.error).toMatchObject({ code: 'resource_missing' });
    const expand = await get(
      `/v1/payment_intents/${emulator.seeded[0]?.paymentIntent.id}?expand[]=customer`,
    );
    expect(expand.status).toBe(400);
    expect(expand.body.error).toMatchObject({ param: 'expand' });
    const route = await get('/v1/payment_links/plink_1');
    expect(route.status).toBe(404);
    expect(route.body.error).not.toHaveProperty('code');
  });

  it('reads charges and balance transactions by id', async () => {
    const { charge, balanceTransaction } = emulator.seeded[0] ?? {};
    expect((await get(`/v1/charges/${charge?.id}`)).body).toEqual(charge);
    expect((await get(`/v1/balance_transactions/${balanceTransaction?.id}`)).body).toEqual(
      balanceTransaction,
    );
  });

  it('answers 401 for a missing or wrong key, and takes Bearer or Basic', async () => {
    const id = emulator.seeded[0]?.paymentIntent.id;
    const none = await get(`/v1/payment_intents/${id}`, null);
    expect(none.status).toBe(401);
    expect(none.body.error?.message).toMatch(/^You did not provide an API key/);
    const wrong = await get(`/v1/payment_intents/${id}`, 'Bearer sk_test_wrong_key_123456');
    expect(wrong.status).toBe(401);
    expect(wrong.body.error?.message).toMatch(/^Invalid API Key provided: sk_test_\*+3456$/);
    const basic = await get(
      `/v1/payment_intents/${id}`,
      `Basic ${Buffer.from(`${KEY}:`).toString('base64')}`,
    );
    expect(basic.status).toBe(200);
  });
});

describe('Stripe emulator rate limit and faults', () => {
  it('answers 429 rate_limit past the reads allowed per second, and reads again a second later', async () => {
    let clock = Date.parse('2025-03-01T10:00:00.000Z');
    const limited = await startStripeEmulator({
      token: KEY,
      now: () => clock,
      rateLimit: { max: 2, intervalMs: 1000 },
    });
    try {
      const read = () =>
        fetch(`${limited.url}/v1/payment_intents/pi_x`, {
          headers: { Authorization: `Bearer ${KEY}` },
        });
      expect((await read()).status).toBe(404);
      expect((await read()).status).toBe(404);
      const refused = await read();
      expect(refused.status).toBe(429);
      expect(await refused.json()).toMatchObject({
        error: { type: 'invalid_request_error', code: 'rate_limit' },
      });
      clock += 1000;
      expect((await read()).status).toBe(404);
      expect(limited.stats.throttled).toBe(1);
    } finally {
      await limited.stop();
    }
  });

  it('injects server errors as api_error with the planned status', async () => {
    emulator.setFaults({ next: ['server-error'], serverErrorStatus: 502 });
    const answer = await get(`/v1/payment_intents/${emulator.seeded[0]?.paymentIntent.id}`);
    expect(answer.status).toBe(502);
    expect(answer.body.error).toMatchObject({ type: 'api_error' });
    expect(emulator.faults.injected['server-error']).toBe(1);
    emulator.setFaults({});
  });
});
