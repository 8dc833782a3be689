/**
 * Reads HubSpot contacts through the CRM v3 batch read, 100 ids a request, and answers each id
 * asked: the record as HubSpot answered it, or why it is missing. A contact merged into another
 * is answered by its survivor, which HubSpot returns under the survivor's own id.
 */
import { sourceCredentialName } from '../platform/names.ts';
import {
  VendorAnswerUnreadable,
  VendorCredentialRefused,
  type VendorError,
  VendorThrottled,
} from './errors.ts';
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

/** A private app's burst limit on HubSpot's Free and Starter tiers: what all of Spine shares. */
export const HUBSPOT_RATE_LIMIT: VendorRateLimit = { max: 100, intervalMs: 10_000 };

export interface HubSpotContactsOptions
  extends Omit<VendorGuardOptions, 'rateLimit' | 'pauseAfter' | 'mayRetry'> {
  /** The private app token, or a function answering it (a cached secret that may rotate). */
  readonly token: string | (() => string | Promise<string>);
  /** Where the token is stored, named when HubSpot refuses it. @default 'spine/<env>/sources/hubspot' */
  readonly secretName?: string;
  /** No trailing slash. @default 'https://api.hubapi.com' */
  readonly baseUrl?: string;
  /**
   * This client's share of the app's burst limit. HubSpot's is 100 per 10 s for a private app on
   * Free or Starter, 190 on Professional or Enterprise, 250 with the API limit increase.
   * @default { max: 100, intervalMs: 10000 }
   */
  readonly rateLimit?: VendorRateLimit;
}

/** A contact as the batch read answers it. */
interface HubSpotRecord {
  readonly id: string;
  readonly properties: Readonly<Record<string, string | null>>;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly archived?: boolean;
  readonly [more: string]: unknown;
}

interface HubSpotBatchError {
  readonly category: string;
  readonly message: string;
  readonly ids: readonly string[];
}

/** The most inputs HubSpot takes in one batch read. */
const BATCH_SIZE = 100;

/**
 * What HubSpot answers when no properties are asked (as reported): asked for explicitly, since
 * the properties the merge mapping needs must always be asked too.
 */
const DEFAULT_PROPERTIES = [
  'createdate',
  'email',
  'firstname',
  'hs_object_id',
  'lastmodifieddate',
  'lastname',
];

/** Asked on every read: the survivor of a merge lists the ids it absorbed in the second. */
const ALWAYS_ASKED = ['hs_object_id', 'hs_merged_object_ids'];

const SCOPE_FIX = 'store a private app token with the crm.objects.contacts.read scope';

export class HubSpotContacts implements VendorReader {
  readonly kind = 'hubspot.contact';
  readonly batchSize = BATCH_SIZE;
  private readonly guard: VendorGuard;
  private readonly baseUrl: string;
  private readonly secretName: string;

  constructor(private readonly options: HubSpotContactsOptions) {
    this.baseUrl = (options.baseUrl ?? 'https://api.hubapi.com').replace(/\/+$/, '');
    this.secretName = options.secretName ?? sourceCredentialName('<env>', 'hubspot');
    this.guard = new VendorGuard('HubSpot', {
      ...options,
      rateLimit: options.rateLimit ?? HUBSPOT_RATE_LIMIT,
      pauseAfter: windowSpent,
      // The daily quota comes back at the account's midnight: retrying within the invocation is
      // wasted; the queue retries later.
      mayRetry: (error: VendorError) =>
        !(error instanceof VendorThrottled && error.policy === 'DAILY'),
    });
  }

  get stats(): VendorGuard['stats'] {
    return this.guard.stats;
  }

  async read(
    ids: readonly string[],
    options: FetchOptions = {},
  ): Promise<Map<string, FetchResult>> {
    const unique = [...new Set(ids)];
    if (unique.length === 0) return new Map();
    const chunks: string[][] = [];
    for (let i = 0; i < unique.length; i += BATCH_SIZE)
      chunks.push(unique.slice(i, i + BATCH_SIZE));
    const properties = [
      ...new Set([
        ...(options.properties && options.properties.length > 0
          ? options.properties
          : DEFAULT_PROPERTIES),
        ...ALWAYS_ASKED,
      ]),
    ];
    const token =
      typeof this.options.token === 'function' ? await this.options.token() : this.options.token;
    const answers = new Map<string, FetchResult>();
    await forEachConcurrently(chunks, this.options.maxConcurrency ?? 4, async (chunk) => {
      const results = await this.guard.send(
        {
          method: 'POST',
          url: `${this.baseUrl}/crm/v3/objects/contacts/batch/read`,
          headers: { Authorization: `Bearer ${token}` },
          body: {
            inputs: chunk.map((id) => ({ id })),
            properties,
            propertiesWithHistory: [],
          },
        },
        options,
        (answer) => this.answerOf(chunk, answer),
      );
      for (const [id, result] of results) answers.set(id, result);
    });
    return answers;
  }

  /** Each id asked, from one batch answer. */
  private answerOf(asked: readonly string[], answer: VendorAnswer): Map<string, FetchResult> {
    const body = jsonOf(answer);
    if (answer.status !== 200 && answer.status !== 207) throw this.failure(answer, body);
    const { records, errors } = readBatch(body, answer.status);
    const byId = new Map<string, HubSpotRecord>();
    const bySurvivor = new Map<string, HubSpotRecord>();
    for (const record of records) {
      byId.set(record.id, record);
      for (const merged of (record.properties.hs_merged_object_ids ?? '').split(';'))
        if (merged.trim() !== '') bySurvivor.set(merged.trim(), record);
    }
    const refused = new Map<string, HubSpotBatchError>();
    for (const error of errors) for (const id of error.ids) refused.set(id, error);
    const results = new Map<string, FetchResult>();
    for (const id of asked) {
      const record = byId.get(id) ?? bySurvivor.get(id);
      const error = refused.get(id);
      results.set(
        id,
        record
          ? { found: { id: record.id, version: record.updatedAt, object: record } }
          : {
              missing: true,
              reason: error
                ? `HubSpot answered ${error.category}: ${error.message}`
                : 'HubSpot did not answer for it',
            },
      );
    }
    return results;
  }

  private failure(answer: VendorAnswer, body: unknown): VendorError {
    const said = isObject(body) && typeof body.message === 'string' ? body.message : undefined;
    const details = { status: answer.status, ...(said ? { vendorMessage: said } : {}) };
    if (answer.status === 401 || answer.status === 403)
      return new VendorCredentialRefused('HubSpot', this.secretName, SCOPE_FIX, details);
    return errorFromStatus('HubSpot', answer, {
      ...details,
      ...(isObject(body) && typeof body.policyName === 'string' ? { policy: body.policyName } : {}),
    });
  }
}

/**
 * How long HubSpot's headers say to hold further calls: its whole interval once the window is
 * spent. A `Retry-After` on the same answer is more precise and wins (the guard reads it).
 */
function windowSpent(answer: VendorAnswer): number | undefined {
  if (answer.headers.get('x-hubspot-ratelimit-remaining')?.trim() !== '0') return undefined;
  if (answer.headers.has('retry-after')) return undefined;
  const interval = Number(answer.headers.get('x-hubspot-ratelimit-interval-milliseconds'));
  return Number.isFinite(interval) && interval > 0 ? interval : 10_000;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The records and per-id errors of a 200 or 207, or VendorAnswerUnreadable naming what is off. */
function readBatch(
  body: unknown,
  status: number,
): { records: HubSpotRecord[]; errors: HubSpotBatchError[] } {
  const unreadable = (what: string) =>
    new VendorAnswerUnreadable('HubSpot', `HubSpot's batch read answer (HTTP ${status}) ${what}`, {
      status,
    });
  if (!isObject(body)) throw unreadable('is not a JSON object');
  if (!Array.isArray(body.results)) throw unreadable('has no results list');
  const records = body.results.map((record: unknown, i): HubSpotRecord => {
    if (
      !isObject(record) ||
      typeof record.id !== 'string' ||
      !isObject(record.properties) ||
      typeof record.createdAt !== 'string' ||
      typeof record.updatedAt !== 'string' ||
      Number.isNaN(Date.parse(record.updatedAt))
    )
      throw unreadable(
        `has a result ${i} that is not a contact record ({id, properties, createdAt, updatedAt})`,
      );
    return record as HubSpotRecord;
  });
  const errors = (Array.isArray(body.errors) ? body.errors : []).map(
    (error: unknown, i): HubSpotBatchError => {
      if (!isObject(error) || typeof error.category !== 'string')
        throw unreadable(`has an error ${i} without a category`);
      const ids = isObject(error.context) ? error.context.ids : undefined;
      return {
        category: error.category,
        message: typeof error.message === 'string' ? error.message : '',
        ids: Array.isArray(ids) ? ids.filter((id): id is string => typeof id === 'string') : [],
      };
    },
  );
  return { records, errors };
}
