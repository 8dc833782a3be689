/**
 * A local Stripe API for reading payments, answering as `shared/reference/vendor-apis.md`
 * describes: `GET /v1/payment_intents/:id` with `expand[]=latest_charge` and
 * `latest_charge.balance_transaction` (PaymentIntent → Charge → BalanceTransaction with fee,
 * net, fee_details, exchange_rate), charges and balance transactions by id, Stripe's error
 * bodies (404 resource_missing, 401, 429), a per-second rate limit, and fault injection.
 * stripe-node speaks to it unchanged (`new Stripe(key, { host, port, protocol: 'http' })`).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { close, listen } from '../listen.ts';
import { RollingWindow, type VendorFaultPlan, VendorFaults } from './faults.ts';

/** A payment to create: a succeeded PaymentIntent, its Charge, and (when settled) its BalanceTransaction. */
export interface StripePaymentSeed {
  /** In the charge currency's minor units. */
  readonly amount: number;
  /** The charge currency, lower case as Stripe writes it (`eur`). */
  readonly currency: string;
  /** Stripe's fee, in the settlement currency's minor units. */
  readonly fee: number;
  /** The currency the balance is kept in. @default the charge currency */
  readonly settlementCurrency?: string;
  /** Charge currency → settlement currency; required when they differ. */
  readonly exchangeRate?: number;
  /**
   * False leaves the charge without its balance transaction, as with asynchronous capture before
   * `charge.updated`; `settle()` adds it later. @default true
   */
  readonly settled?: boolean;
  readonly customer?: string | null;
  readonly description?: string | null;
  readonly metadata?: Readonly<Record<string, string>>;
  /** Unix seconds. @default now */
  readonly created?: number;
}

export interface StripePayment {
  readonly paymentIntent: StripeObject;
  readonly charge: StripeObject;
  readonly balanceTransaction: StripeObject | null;
}

export type StripeObject = Record<string, unknown> & {
  readonly id: string;
  readonly object: string;
};

export interface StripeEmulatorOptions {
  readonly port?: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** The secret or restricted key the emulator accepts. */
  readonly token: string;
  readonly seed?: readonly StripePaymentSeed[];
  readonly faults?: VendorFaultPlan;
  /** Reads allowed per window. @default { max: 25, intervalMs: 1000 } (a sandbox's endpoint limit) */
  readonly rateLimit?: { readonly max: number; readonly intervalMs: number };
  /** The clock of `created` and the rate limit (epoch ms). @default Date.now */
  readonly now?: () => number;
}

/** What the emulator holds: payment intents, charges and balance transactions by id. */
export class StripeStore {
  readonly objects = new Map<string, StripeObject>();

  constructor(private readonly now: () => number) {}

  /** Creates a succeeded payment from amount, currency and fee, with Stripe's JSON shapes. */
  createPayment(seed: StripePaymentSeed): StripePayment {
    const currency = seed.currency.toLowerCase();
    const settlement = (seed.settlementCurrency ?? currency).toLowerCase();
    if (settlement !== currency && seed.exchangeRate === undefined)
      throw new RangeError(
        `a ${currency} payment settled in ${settlement} needs an exchangeRate (${currency} → ${settlement})`,
      );
    const created = seed.created ?? Math.floor(this.now() / 1000);
    const pi = `pi_${stripeId()}`;
    const ch = `ch_${stripeId()}`;
    const pm = `pm_${stripeId()}`;
    const charge: StripeObject = {
      id: ch,
      object: 'charge',
      amount: seed.amount,
      amount_captured: seed.amount,
      amount_refunded: 0,
      application: null,
      application_fee: null,
      application_fee_amount: null,
      balance_transaction: null,
      billing_details: {
        address: {
          city: null,
          country: null,
          line1: null,
          line2: null,
          postal_code: null,
          state: null,
        },
        email: null,
        name: null,
        phone: null,
      },
      calculated_statement_descriptor: 'SPINE',
      captured: true,
      created,
      currency,
      customer: seed.customer ?? null,
      description: seed.description ?? null,
      disputed: false,
      failure_balance_transaction: null,
      failure_code: null,
      failure_message: null,
      fraud_details: {},
      invoice: null,
      livemode: false,
      metadata: { ...seed.metadata },
      on_behalf_of: null,
      outcome: {
        network_status: 'approved_by_network',
        reason: null,
        risk_level: 'normal',
        risk_score: 32,
        seller_message: 'Payment complete.',
        type: 'authorized',
      },
      paid: true,
      payment_intent: pi,
      payment_method: pm,
      payment_method_details: {
        card: {
          brand: 'visa',
          country: 'US',
          exp_month: 12,
          exp_year: 2030,
          funding: 'credit',
          last4: '4242',
        },
        type: 'card',
      },
      receipt_email: null,
      receipt_number: null,
      receipt_url: `https://pay.stripe.com/receipts/payment/${stripeId()}`,
      refunded: false,
      review: null,
      shipping: null,
      source_transfer: null,
      statement_descriptor: null,
      statement_descriptor_suffix: null,
      status: 'succeeded',
      transfer_data: null,
      transfer_group: null,
    };
    const paymentIntent: StripeObject = {
      id: pi,
      object: 'payment_intent',
      amount: seed.amount,
      amount_capturable: 0,
      amount_details: { tip: {} },
      amount_received: seed.amount,
      application: null,
      application_fee_amount: null,
      automatic_payment_methods: { allow_redirects: 'always', enabled: true },
      canceled_at: null,
      cancellation_reason: null,
      capture_method: 'automatic_async',
      client_secret: `${pi}_secret_${stripeId()}`,
      confirmation_method: 'automatic',
      created,
      currency,
      customer: seed.customer ?? null,
      description: seed.description ?? null,
      invoice: null,
      last_payment_error: null,
      latest_charge: ch,
      livemode: false,
      metadata: { ...seed.metadata },
      next_action: null,
      on_behalf_of: null,
      payment_method: pm,
      payment_method_configuration_details: null,
      payment_method_options: {
        card: {
          installments: null,
          mandate_options: null,
          network: null,
          request_three_d_secure: 'automatic',
        },
      },
      payment_method_types: ['card'],
      processing: null,
      receipt_email: null,
      review: null,
      setup_future_usage: null,
      shipping: null,
      source: null,
      statement_descriptor: null,
      statement_descriptor_suffix: null,
      status: 'succeeded',
      transfer_data: null,
      transfer_group: null,
    };
    this.objects.set(pi, paymentIntent);
    this.objects.set(ch, charge);
    const balanceTransaction =
      seed.settled === false
        ? null
        : this.attachBalanceTransaction(charge, seed.fee, settlement, seed.exchangeRate);
    return { paymentIntent, charge, balanceTransaction };
  }

  /** Adds the balance transaction of a payment created unsettled (`charge.updated` follows). */
  settle(
    paymentIntentId: string,
    settlement: {
      readonly fee: number;
      readonly currency?: string;
      readonly exchangeRate?: number;
    },
  ): StripeObject {
    const pi = this.objects.get(paymentIntentId);
    const charge = pi ? this.objects.get(String(pi.latest_charge)) : undefined;
    if (!pi || !charge) throw new RangeError(`no payment intent ${paymentIntentId} with a charge`);
    if (charge.balance_transaction !== null)
      throw new RangeError(`payment intent ${paymentIntentId} is settled already`);
    return this.attachBalanceTransaction(
      charge,
      settlement.fee,
      (settlement.currency ?? String(charge.currency)).toLowerCase(),
      settlement.exchangeRate,
    );
  }

  private attachBalanceTransaction(
    charge: StripeObject,
    fee: number,
    currency: string,
    exchangeRate: number | undefined,
  ): StripeObject {
    const converted = currency !== charge.currency;
    const amount = converted
      ? Math.round(Number(charge.amount) * (exchangeRate ?? 1))
      : Number(charge.amount);
    const created = Number(charge.created);
    const txn: StripeObject = {
      id: `txn_${stripeId()}`,
      object: 'balance_transaction',
      amount,
      available_on: created + 2 * 86_400,
      created,
      currency,
      description: null,
      exchange_rate: converted ? (exchangeRate ?? null) : null,
      fee,
      fee_details: [
        {
          amount: fee,
          application: null,
          currency,
          description: 'Stripe processing fees',
          type: 'stripe_fee',
        },
      ],
      net: amount - fee,
      reporting_category: 'charge',
      source: charge.id,
      status: 'pending',
      type: 'charge',
    };
    this.objects.set(txn.id, txn);
    (charge as Record<string, unknown>).balance_transaction = txn.id;
    return txn;
  }

  /** Removes an object (the emulator's way to make an id unknown). */
  delete(id: string): void {
    this.objects.delete(id);
  }
}

export interface StripeEmulatorStats {
  requests: number;
  /** Objects answered 200. */
  reads: number;
  /** Answered 429 by the rate limit (injected 429s count in `faults.injected`). */
  throttled: number;
  unauthorized: number;
  /** The most requests that were being answered at once. */
  maxInFlight: number;
  /** The `Stripe-Version` of each request, as sent. */
  versions: string[];
}

export interface StripeEmulator {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly store: StripeStore;
  readonly faults: VendorFaults;
  readonly stats: StripeEmulatorStats;
  /** The payments seeded at start, in order. */
  readonly seeded: readonly StripePayment[];
  setFaults(plan: VendorFaultPlan): void;
  stop(): Promise<void>;
}

/** The expansions the emulator can make: the path to the fee and the net. */
const EXPANDABLE = new Set(['latest_charge', 'latest_charge.balance_transaction']);
/** Resource paths the emulator reads, and the object each holds. */
const RESOURCES: Record<string, { object: string; param: string }> = {
  payment_intents: { object: 'payment_intent', param: 'intent' },
  charges: { object: 'charge', param: 'charge' },
  balance_transactions: { object: 'balance_transaction', param: 'id' },
};

export async function startStripeEmulator(options: StripeEmulatorOptions): Promise<StripeEmulator> {
  const now = options.now ?? Date.now;
  const store = new StripeStore(now);
  const seeded = (options.seed ?? []).map((seed) => store.createPayment(seed));
  const faults = new VendorFaults(options.faults);
  const window = new RollingWindow(
    options.rateLimit?.max ?? 25,
    options.rateLimit?.intervalMs ?? 1000,
  );
  const stats: StripeEmulatorStats = {
    requests: 0,
    reads: 0,
    throttled: 0,
    unauthorized: 0,
    maxInFlight: 0,
    versions: [],
  };
  let inFlight = 0;

  const send = (res: ServerResponse, status: number, body: unknown, version: string) => {
    res.writeHead(status, {
      'Content-Type': 'application/json',
      'Request-Id': `req_${stripeId(14)}`,
      'Stripe-Version': version,
    });
    res.end(JSON.stringify(body));
  };
  const error = (
    res: ServerResponse,
    status: number,
    version: string,
    fields: Record<string, unknown>,
  ) => send(res, status, { error: { type: 'invalid_request_error', ...fields } }, version);

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    stats.requests++;
    const asked = req.headers['stripe-version'];
    const version = typeof asked === 'string' ? asked : '2024-06-20';
    stats.versions.push(version);
    const fault = await faults.draw();
    if (fault === 'drop') return void req.socket.destroy();
    if (fault === 'server-error')
      return send(
        res,
        faults.plan.serverErrorStatus ?? 503,
        { error: { type: 'api_error', message: 'An unknown error occurred' } },
        version,
      );
    if (fault === 'throttle') return rateLimited(res, version);

    const key = keyOf(req.headers.authorization);
    if (key === undefined) {
      stats.unauthorized++;
      return error(res, 401, version, {
        message:
          "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
      });
    }
    if (key !== options.token) {
      stats.unauthorized++;
      return error(res, 401, version, {
        message: `Invalid API Key provided: ${key.slice(0, 8)}${'*'.repeat(Math.max(0, key.length - 12))}${key.slice(-4)}`,
      });
    }
    if (!window.take(now())) {
      stats.throttled++;
      return rateLimited(res, version);
    }

    const url = new URL(req.url ?? '/', 'http://stripe.local');
    const [, v1, resource, rawId, ...more] = url.pathname.split('/');
    const kind = resource === undefined ? undefined : RESOURCES[resource];
    if (req.method !== 'GET' || v1 !== 'v1' || !kind || !rawId || more.length > 0)
      return error(res, 404, version, {
        message: `Unrecognized request URL (${req.method}: ${url.pathname}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
      });
    const id = decodeURIComponent(rawId);
    // stripe-node sends expand[0]=…, curl and most clients expand[]=…: Stripe takes both.
    const expand = [...url.searchParams]
      .filter(([name]) => /^expand\[\d*\]$/.test(name))
      .map(([, value]) => value);
    const object = store.objects.get(id);
    if (!object || object.object !== kind.object)
      return error(res, 404, version, {
        code: 'resource_missing',
        doc_url: 'https://stripe.com/docs/error-codes/resource-missing',
        message: `No such ${kind.object}: '${id}'`,
        param: kind.param,
        request_log_url: `https://dashboard.stripe.com/test/logs/req_${stripeId(14)}`,
      });
    const refused = expand.find(
      (path) => kind.object !== 'payment_intent' || !EXPANDABLE.has(path),
    );
    if (refused !== undefined)
      return error(res, 400, version, {
        message: `This property cannot be expanded (${refused}).`,
        param: 'expand',
      });
    stats.reads++;
    send(res, 200, expanded(object, expand), version);
  };

  const rateLimited = (res: ServerResponse, version: string) =>
    error(res, 429, version, {
      code: 'rate_limit',
      message:
        'Request rate limit exceeded. You can learn more about rate limits here https://stripe.com/docs/rate-limits.',
    });

  /** The object with its expansions made, as copies: the store is never changed by a read. */
  const expanded = (object: StripeObject, expand: readonly string[]): StripeObject => {
    const copy = structuredClone(object);
    const charge = expand.some((path) => path.startsWith('latest_charge'))
      ? typeof copy.latest_charge === 'string'
        ? structuredClone(store.objects.get(copy.latest_charge) ?? null)
        : null
      : undefined;
    if (charge !== undefined) {
      if (charge && expand.includes('latest_charge.balance_transaction')) {
        const txn = charge.balance_transaction;
        charge.balance_transaction =
          typeof txn === 'string' ? structuredClone(store.objects.get(txn) ?? null) : null;
      }
      (copy as Record<string, unknown>).latest_charge = charge;
    }
    return copy;
  };

  const server = createServer((req, res) => {
    inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, inFlight);
    res.on('close', () => inFlight--);
    req.resume();
    req.on('end', () => {
      handle(req, res).catch((thrown: unknown) => {
        if (!res.headersSent)
          send(res, 500, { error: { type: 'api_error', message: String(thrown) } }, '2024-06-20');
        else res.end();
      });
    });
  });
  const host = options.host ?? '127.0.0.1';
  const port = await listen(server, options.port, host);
  return {
    url: `http://${host}:${port}`,
    host,
    port,
    store,
    faults,
    stats,
    seeded,
    setFaults: (plan) => faults.set(plan),
    stop: () => close(server),
  };
}

/** The key of `Authorization: Bearer <key>` or Basic `<key>:` (Stripe takes both). */
function keyOf(authorization: string | undefined): string | undefined {
  if (!authorization) return undefined;
  const [scheme, value] = authorization.split(' ', 2);
  if (!value) return undefined;
  if (scheme?.toLowerCase() === 'bearer') return value;
  if (scheme?.toLowerCase() === 'basic')
    return Buffer.from(value, 'base64').toString('utf8').replace(/:.*$/, '') || undefined;
  return undefined;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** An id body in Stripe's style: 24 characters of letters and digits. */
function stripeId(length = 24): string {
  return [...randomBytes(length)].map((byte) => ALPHABET[byte % ALPHABET.length]).join('');
}
