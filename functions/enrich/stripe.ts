/**
 * Reads Stripe payment intents one at a time (Stripe has no batch read), a few in parallel, with
 * the expansions the contract asks: `latest_charge.balance_transaction` brings the fee and the
 * net in the same call. Stripe objects carry no version; the event's time stands for it.
 */
import { sourceCredentialName } from '../platform/names.ts';
import { VendorAnswerUnreadable, VendorCredentialRefused, type VendorError } from './errors.ts';
import type { FetchOptions, FetchResult, VendorReader } from './model.ts';
import {
  errorFromStatus,
  forEachConcurrently,
  jsonOf,
  type VendorAnswer,
  VendorGuard,
  type VendorGuardOptions,
  type VendorRateLimit,
} from './vendor-guard.ts';

/** Stripe's default read limit per endpoint (a sandbox's whole limit): what all of Spine shares. */
export const STRIPE_RATE_LIMIT: VendorRateLimit = { max: 25, intervalMs: 1000 };

export interface StripePaymentIntentsOptions
  extends Omit<VendorGuardOptions, 'rateLimit' | 'pauseAfter' | 'mayRetry'> {
  /** A secret or restricted key (`rk_...`), or a function answering it (a cached secret that may rotate). */
  readonly token: string | (() => string | Promise<string>);
  /** Where the key is stored, named when Stripe refuses it. @default 'spine/<env>/sources/stripe' */
  readonly secretName?: string;
  /** No trailing slash. @default 'https://api.stripe.com' */
  readonly baseUrl?: string;
  /**
   * The API version the answers are shaped by; contracts are written against it.
   * @default '2024-06-20'
   */
  readonly apiVersion?: string;
  /**
   * This client's share of the account's read limit. Stripe allows 25 requests/s per endpoint by
   * default (100/s in total live, 25 in a sandbox). @default { max: 25, intervalMs: 1000 }
   */
  readonly rateLimit?: VendorRateLimit;
}

export class StripePaymentIntents implements VendorReader {
  readonly kind = 'stripe.payment_intent';
  readonly batchSize = 1;
  private readonly guard: VendorGuard;
  private readonly baseUrl: string;
  private readonly secretName: string;

  constructor(private readonly options: StripePaymentIntentsOptions) {
    this.baseUrl = (options.baseUrl ?? 'https://api.stripe.com').replace(/\/+$/, '');
    this.secretName = options.secretName ?? sourceCredentialName('<env>', 'stripe');
    this.guard = new VendorGuard('Stripe', {
      ...options,
      rateLimit: options.rateLimit ?? STRIPE_RATE_LIMIT,
    });
  }

  get stats(): VendorGuard['stats'] {
    return this.guard.stats;
  }

  async read(
    ids: readonly string[],
    options: FetchOptions = {},
  ): Promise<Map<string, FetchResult>> {
    if (ids.length === 0) return new Map();
    const token =
      typeof this.options.token === 'function' ? await this.options.token() : this.options.token;
    const query = new URLSearchParams();
    for (const path of options.expand ?? []) query.append('expand[]', path);
    const search = query.size > 0 ? `?${query}` : '';
    const answers = new Map<string, FetchResult>();
    await forEachConcurrently([...new Set(ids)], this.options.maxConcurrency ?? 4, async (id) => {
      answers.set(
        id,
        await this.guard.send(
          {
            method: 'GET',
            url: `${this.baseUrl}/v1/payment_intents/${encodeURIComponent(id)}${search}`,
            headers: {
              Authorization: `Bearer ${token}`,
              'Stripe-Version': this.options.apiVersion ?? '2024-06-20',
            },
          },
          options,
          (answer) => this.answerOf(id, answer),
        ),
      );
    });
    return answers;
  }

  private answerOf(id: string, answer: VendorAnswer): FetchResult {
    const body = jsonOf(answer);
    const error = isObject(body) && isObject(body.error) ? body.error : undefined;
    if (answer.status === 200) {
      if (!isObject(body) || body.object !== 'payment_intent' || typeof body.id !== 'string')
        throw new VendorAnswerUnreadable(
          'Stripe',
          `Stripe answered HTTP 200 for payment intent ${id} with something other than a payment_intent object`,
          { status: 200 },
        );
      return { found: { id: body.id, object: body } };
    }
    const said = typeof error?.message === 'string' ? error.message : undefined;
    // Only Stripe's own "no such object" means missing; a 404 page from elsewhere is a wrong URL.
    if (answer.status === 404 && error?.code === 'resource_missing')
      return {
        missing: true,
        reason: `Stripe has no payment intent ${id}: ${said ?? 'resource_missing'}`,
      };
    throw this.failure(answer, said, typeof error?.code === 'string' ? error.code : undefined);
  }

  private failure(
    answer: VendorAnswer,
    said: string | undefined,
    code: string | undefined,
  ): VendorError {
    const details = { status: answer.status, ...(said ? { vendorMessage: said } : {}) };
    if (answer.status === 401)
      return new VendorCredentialRefused(
        'Stripe',
        this.secretName,
        'store a secret key or a restricted key (rk_...) of the account that sends the webhooks',
        details,
      );
    if (answer.status === 403)
      return new VendorCredentialRefused(
        'Stripe',
        this.secretName,
        'store a restricted key with Read access to PaymentIntents, and to Charges and Balance transactions when the contract expands them',
        details,
      );
    // A 429 is a rate limit, or a lock on the object (`lock_timeout`); both pass.
    return errorFromStatus('Stripe', answer, { ...details, ...(code ? { policy: code } : {}) });
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
