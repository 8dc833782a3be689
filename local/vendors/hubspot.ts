/**
 * A local HubSpot CRM v3 contacts API, answering as `shared/reference/vendor-apis.md` describes:
 * batch read (200, or 207 with OBJECT_NOT_FOUND errors; a merged-away id answered by its
 * survivor; archived contacts found only with `?archived=true`), single read, create, update,
 * archive and merge, HubSpot's rate-limit headers and its 10-second rolling burst limit, and
 * HubSpot's error bodies. The official @hubspot/api-client speaks to it unchanged
 * (`new Client({ accessToken, basePath: emulator.url })`).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { close, listen } from '../listen.ts';
import { RollingWindow, type VendorFaultPlan, VendorFaults } from './faults.ts';

export interface HubSpotContactSeed {
  /** @default the next free id */
  readonly id?: string;
  readonly properties: Readonly<Record<string, string | null>>;
}

export interface HubSpotEmulatorOptions {
  /** 0 (default) picks a free port. */
  readonly port?: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** The private app token the emulator accepts (`Authorization: Bearer ...`). */
  readonly token: string;
  /** Contacts there from the start; their property names join the portal's properties. */
  readonly seed?: readonly HubSpotContactSeed[];
  readonly faults?: VendorFaultPlan;
  /** The app's burst limit. @default { max: 100, intervalMs: 10000 } (a private app on Free/Starter) */
  readonly rateLimit?: { readonly max: number; readonly intervalMs: number };
  /** The account's daily quota. @default 250000 */
  readonly dailyLimit?: number;
  /** The clock of `createdAt`, `updatedAt` and the rate limit (epoch ms). @default Date.now */
  readonly now?: () => number;
}

/** A contact as the emulator holds it. */
export interface HubSpotContact {
  readonly id: string;
  readonly properties: Record<string, string | null>;
  readonly createdAt: number;
  updatedAt: number;
  archivedAt?: number;
  /** The contact this one was merged into. */
  mergedInto?: string;
}

/** A contact as HubSpot's API answers it. */
export interface HubSpotRecordJson {
  readonly id: string;
  readonly properties: Record<string, string | null>;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly archived: boolean;
  readonly archivedAt?: string;
}

/** A HubSpot-shaped error raised by the store, answered with its status and body. */
export class HubSpotApiError extends Error {
  override readonly name = 'HubSpotApiError';
  constructor(
    readonly status: number,
    readonly category: string,
    message: string,
    readonly context?: Record<string, unknown>,
  ) {
    super(message);
  }
}

/** Properties every portal has; others join when a seed or the store's `create` sets them. */
const STANDARD_PROPERTIES = [
  'address',
  'city',
  'company',
  'country',
  'createdate',
  'email',
  'firstname',
  'hs_email_domain',
  'hs_lead_status',
  'hs_merged_object_ids',
  'hs_object_id',
  'hubspot_owner_id',
  'jobtitle',
  'lastmodifieddate',
  'lastname',
  'lifecyclestage',
  'mobilephone',
  'phone',
  'state',
  'website',
  'zip',
];
/** Answered whether asked or not (as observed in HubSpot's answers: unverified in its spec). */
const ALWAYS_ANSWERED = ['createdate', 'hs_object_id', 'lastmodifieddate'];
/** Answered when no properties are asked. */
const DEFAULT_ANSWERED = [
  'createdate',
  'email',
  'firstname',
  'hs_object_id',
  'lastmodifieddate',
  'lastname',
];
/** Kept by the store itself: set through the API, they are ignored. */
const SYSTEM_PROPERTIES = new Set([
  'createdate',
  'hs_object_id',
  'lastmodifieddate',
  'hs_merged_object_ids',
]);
const BATCH_LIMIT = 100;

/** The portal's contacts, changed directly by tests and through the API alike. */
export class HubSpotContactStore {
  private readonly contacts = new Map<string, HubSpotContact>();
  private nextId = 1001;
  private lastChange = 0;
  /** The property names the portal knows. */
  readonly schema = new Set(STANDARD_PROPERTIES);

  constructor(private readonly now: () => number) {}

  /** A change's time: never the same as, nor before, the last one, so `updatedAt` always advances. */
  private tick(): number {
    this.lastChange = Math.max(this.now(), this.lastChange + 1);
    return this.lastChange;
  }

  /** Creates a contact; unknown property names join the portal's properties. */
  create(properties: Readonly<Record<string, string | null>>, id?: string): HubSpotRecordJson {
    for (const name of Object.keys(properties)) this.schema.add(name);
    return this.createContact(properties, id);
  }

  private createContact(
    properties: Readonly<Record<string, string | null>>,
    id?: string,
  ): HubSpotRecordJson {
    const email = properties.email?.toLowerCase();
    const existing = email ? this.byEmail(email) : undefined;
    if (existing)
      throw new HubSpotApiError(
        409,
        'CONFLICT',
        `Contact already exists. Existing ID: ${existing.id}`,
      );
    const contactId = id ?? String(this.nextId++);
    if (this.contacts.has(contactId))
      throw new HubSpotApiError(409, 'CONFLICT', `Contact ${contactId} already exists`);
    if (/^\d+$/.test(contactId)) this.nextId = Math.max(this.nextId, Number(contactId) + 1);
    const at = this.tick();
    const contact: HubSpotContact = {
      id: contactId,
      properties: { ...withoutSystem(properties) },
      createdAt: at,
      updatedAt: at,
    };
    this.contacts.set(contactId, contact);
    return this.json(contact);
  }

  /** Sets properties (null clears one); `updatedAt` advances. */
  update(id: string, properties: Readonly<Record<string, string | null>>): HubSpotRecordJson {
    const contact = this.live(id);
    for (const name of Object.keys(properties)) this.schema.add(name);
    Object.assign(contact.properties, withoutSystem(properties));
    contact.updatedAt = this.tick();
    return this.json(contact);
  }

  /**
   * Merges `mergedId` into `primaryId`: the primary keeps its values and takes the other's where
   * it has none, lists the absorbed ids in `hs_merged_object_ids`, and answers for them.
   */
  merge(primaryId: string, mergedId: string): HubSpotRecordJson {
    if (primaryId === mergedId)
      throw new HubSpotApiError(400, 'VALIDATION_ERROR', 'Cannot merge a contact into itself');
    const primary = this.live(primaryId);
    const merged = this.live(mergedId);
    for (const [name, value] of Object.entries(merged.properties))
      if (name !== 'hs_merged_object_ids' && (primary.properties[name] ?? null) === null)
        primary.properties[name] = value;
    const absorbed = [
      ...(primary.properties.hs_merged_object_ids ?? '').split(';'),
      merged.id,
      ...(merged.properties.hs_merged_object_ids ?? '').split(';'),
    ].filter((id) => id !== '');
    primary.properties.hs_merged_object_ids = [...new Set(absorbed)].join(';');
    merged.mergedInto = primary.id;
    primary.updatedAt = this.tick();
    return this.json(primary);
  }

  /** Archives (HubSpot's delete): found again only with `archived=true`, until restored. */
  archive(id: string): void {
    const contact = this.live(id);
    contact.archivedAt = this.tick();
    contact.updatedAt = contact.archivedAt;
  }

  restore(id: string): HubSpotRecordJson {
    const contact = this.contacts.get(id);
    if (!contact?.archivedAt) throw notFound(id);
    delete contact.archivedAt;
    contact.updatedAt = this.tick();
    return this.json(contact);
  }

  /**
   * The contact an id answers for: itself, or the survivor of the merges it went into; with
   * `archived`, only an archived contact (as HubSpot's `archived=true` reads only those).
   */
  resolve(id: string, archived = false): HubSpotContact | undefined {
    let contact = this.contacts.get(id);
    for (let hops = 0; contact?.mergedInto !== undefined && hops < 100; hops++)
      contact = this.contacts.get(contact.mergedInto);
    if (!contact || contact.mergedInto !== undefined) return undefined;
    return (contact.archivedAt !== undefined) === archived ? contact : undefined;
  }

  /** The contact as the API answers it, with the properties asked (the default set if none). */
  json(contact: HubSpotContact, asked?: readonly string[]): HubSpotRecordJson {
    const names =
      asked === undefined
        ? [...new Set([...ALWAYS_ANSWERED, ...Object.keys(contact.properties)])]
        : asked.length === 0
          ? DEFAULT_ANSWERED
          : [...new Set([...asked.filter((name) => this.schema.has(name)), ...ALWAYS_ANSWERED])];
    const properties: Record<string, string | null> = {};
    for (const name of names.sort()) properties[name] = this.valueOf(contact, name);
    return {
      id: contact.id,
      properties,
      createdAt: iso(contact.createdAt),
      updatedAt: iso(contact.updatedAt),
      archived: contact.archivedAt !== undefined,
      ...(contact.archivedAt !== undefined ? { archivedAt: iso(contact.archivedAt) } : {}),
    };
  }

  get size(): number {
    return this.contacts.size;
  }

  private valueOf(contact: HubSpotContact, name: string): string | null {
    if (name === 'hs_object_id') return contact.id;
    if (name === 'createdate') return iso(contact.createdAt);
    if (name === 'lastmodifieddate') return iso(contact.updatedAt);
    return contact.properties[name] ?? null;
  }

  private live(id: string): HubSpotContact {
    const contact = this.contacts.get(id);
    if (!contact || contact.mergedInto !== undefined || contact.archivedAt !== undefined)
      throw notFound(id);
    return contact;
  }

  private byEmail(email: string): HubSpotContact | undefined {
    for (const contact of this.contacts.values())
      if (
        contact.mergedInto === undefined &&
        contact.archivedAt === undefined &&
        contact.properties.email?.toLowerCase() === email
      )
        return contact;
    return undefined;
  }

  /** Used by the API's create: refuses property names the portal does not know, as HubSpot does. */
  createThroughApi(properties: Readonly<Record<string, string | null>>): HubSpotRecordJson {
    this.checkKnown(properties);
    return this.createContact(properties);
  }

  updateThroughApi(id: string, properties: Readonly<Record<string, string | null>>) {
    this.checkKnown(properties);
    return this.update(id, properties);
  }

  private checkKnown(properties: Readonly<Record<string, unknown>>): void {
    const unknown = Object.keys(properties).filter((name) => !this.schema.has(name));
    if (unknown.length > 0)
      throw new HubSpotApiError(
        400,
        'VALIDATION_ERROR',
        `Property values were not valid: ${JSON.stringify(
          unknown.map((name) => ({
            isValid: false,
            message: `Property "${name}" does not exist`,
            error: 'PROPERTY_DOESNT_EXIST',
            name,
          })),
        )}`,
      );
  }
}

export interface HubSpotEmulatorStats {
  /** Every request received, answered or not. */
  requests: number;
  /** Batch read requests answered 200 or 207, and the ids they asked. */
  batchReads: number;
  batchInputs: number;
  /** Answered 429 by the rate limit (injected 429s count in `faults.injected`). */
  throttled: number;
  /** Answered 401. */
  unauthorized: number;
}

export interface HubSpotEmulator {
  readonly url: string;
  readonly port: number;
  readonly contacts: HubSpotContactStore;
  readonly faults: VendorFaults;
  readonly stats: HubSpotEmulatorStats;
  /** Replaces the fault plan (and restarts its random sequence). */
  setFaults(plan: VendorFaultPlan): void;
  stop(): Promise<void>;
}

export async function startHubSpotEmulator(
  options: HubSpotEmulatorOptions,
): Promise<HubSpotEmulator> {
  const now = options.now ?? Date.now;
  const contacts = new HubSpotContactStore(now);
  for (const seed of options.seed ?? []) contacts.create(seed.properties, seed.id);
  const faults = new VendorFaults(options.faults);
  const burst = new RollingWindow(
    options.rateLimit?.max ?? 100,
    options.rateLimit?.intervalMs ?? 10_000,
  );
  const dailyLimit = options.dailyLimit ?? 250_000;
  let dailyUsed = 0;
  const stats: HubSpotEmulatorStats = {
    requests: 0,
    batchReads: 0,
    batchInputs: 0,
    throttled: 0,
    unauthorized: 0,
  };

  const rateHeaders = (): Record<string, string> => ({
    'X-HubSpot-RateLimit-Max': String(burst.max),
    'X-HubSpot-RateLimit-Remaining': String(burst.remaining(now())),
    'X-HubSpot-RateLimit-Interval-Milliseconds': String(burst.intervalMs),
    'X-HubSpot-RateLimit-Daily': String(dailyLimit),
    'X-HubSpot-RateLimit-Daily-Remaining': String(Math.max(0, dailyLimit - dailyUsed)),
  });

  const send = (
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ) => {
    res.writeHead(status, { 'Content-Type': 'application/json;charset=utf-8', ...headers });
    res.end(JSON.stringify(body));
  };

  const error = (
    res: ServerResponse,
    status: number,
    category: string | undefined,
    message: string,
    headers: Record<string, string> = {},
    context?: Record<string, unknown>,
  ) =>
    send(
      res,
      status,
      {
        status: 'error',
        message,
        correlationId: randomUUID(),
        ...(context ? { context } : {}),
        ...(category ? { category } : {}),
      },
      headers,
    );

  const throttle = (
    res: ServerResponse,
    policy: 'TEN_SECONDLY_ROLLING' | 'DAILY',
    retryAfter?: number,
  ) =>
    send(
      res,
      429,
      {
        status: 'error',
        message:
          policy === 'DAILY'
            ? 'You have reached your daily limit.'
            : 'You have reached your ten_secondly_rolling limit.',
        errorType: 'RATE_LIMIT',
        correlationId: randomUUID(),
        policyName: policy,
        requestId: randomUUID(),
      },
      {
        ...rateHeaders(),
        // Retry-After on HubSpot's API 429s is unverified; sent so clients can be tested on it.
        ...(retryAfter !== undefined && retryAfter > 0
          ? { 'Retry-After': String(retryAfter) }
          : {}),
      },
    );

  const handle = async (req: IncomingMessage, res: ServerResponse, raw: string) => {
    stats.requests++;
    const fault = await faults.draw();
    if (fault === 'drop') return void req.socket.destroy();
    if (fault === 'server-error') {
      const status = faults.plan.serverErrorStatus ?? 503;
      // HubSpot's own 500 is JSON; a gateway's 502/503/504 comes from its edge, as a page.
      if (status === 500) return error(res, 500, undefined, 'internal error');
      res.writeHead(status, { 'Content-Type': 'text/html' });
      return void res.end(`<html><body><h1>${status} Service Unavailable</h1></body></html>`);
    }
    if (fault === 'throttle')
      return throttle(res, 'TEN_SECONDLY_ROLLING', faults.plan.retryAfterSeconds ?? 1);

    if (req.headers.authorization !== `Bearer ${options.token}`) {
      stats.unauthorized++;
      return error(
        res,
        401,
        'INVALID_AUTHENTICATION',
        'Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview',
      );
    }
    if (dailyUsed >= dailyLimit) {
      stats.throttled++;
      return throttle(res, 'DAILY');
    }
    if (!burst.take(now())) {
      stats.throttled++;
      return throttle(res, 'TEN_SECONDLY_ROLLING', Math.ceil(burst.freeInMs(now()) / 1000));
    }
    dailyUsed++;

    const url = new URL(req.url ?? '/', 'http://hubspot.local');
    const archived = url.searchParams.get('archived') === 'true';
    const parts = url.pathname.replace(/\/+$/, '').split('/').slice(1);
    const base = parts.slice(0, 4).join('/') === 'crm/v3/objects/contacts';
    const rest = parts.slice(4);
    let body: Record<string, unknown> = {};
    if (req.method === 'POST' || req.method === 'PATCH' || req.method === 'PUT') {
      if (!/application\/json/.test(req.headers['content-type'] ?? ''))
        return error(
          res,
          415,
          undefined,
          'Cannot parse content. No Content-Type defined.',
          rateHeaders(),
        );
      try {
        const parsed: unknown = JSON.parse(raw);
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
          throw new Error();
        body = parsed as Record<string, unknown>;
      } catch {
        return error(res, 400, 'VALIDATION_ERROR', 'Invalid input JSON on line 1', rateHeaders());
      }
    }
    try {
      // The emulator's own: a contact with the id a demo's webhooks name (HubSpot picks its ids).
      if (parts[0] === '_emulator' && parts[1] === 'contacts' && parts[2] && req.method === 'PUT') {
        const id = decodeURIComponent(parts[2]);
        const properties = propertiesOf(body);
        const stored =
          (contacts.resolve(id) ?? contacts.resolve(id, true))
            ? contacts.update(id, properties)
            : contacts.create(properties, id);
        return send(res, 200, stored, rateHeaders());
      }
      if (base && req.method === 'POST' && rest.join('/') === 'batch/read')
        return batchRead(res, body, archived);
      if (base && req.method === 'POST' && rest.join('/') === 'merge') {
        const primary = String(body.primaryObjectId ?? '');
        const merged = String(body.objectIdToMerge ?? '');
        return send(res, 200, contacts.merge(primary, merged), rateHeaders());
      }
      if (base && req.method === 'POST' && rest.length === 0)
        return send(res, 201, contacts.createThroughApi(propertiesOf(body)), rateHeaders());
      if (base && rest.length === 1 && rest[0] !== undefined) {
        const id = decodeURIComponent(rest[0]);
        if (req.method === 'GET') {
          const contact = contacts.resolve(id, archived);
          if (!contact) throw notFound(id);
          // `properties=a,b` or, as the SDK sends it, `properties=a&properties=b`.
          const asked = url.searchParams
            .getAll('properties')
            .flatMap((list) => list.split(','))
            .filter(Boolean);
          return send(res, 200, contacts.json(contact, asked), rateHeaders());
        }
        if (req.method === 'PATCH')
          return send(res, 200, contacts.updateThroughApi(id, propertiesOf(body)), rateHeaders());
        if (req.method === 'DELETE') {
          contacts.archive(id);
          res.writeHead(204, rateHeaders());
          return void res.end();
        }
      }
      return error(
        res,
        404,
        undefined,
        `Unable to route ${req.method} request to ${url.pathname}`,
        rateHeaders(),
      );
    } catch (thrown) {
      if (!(thrown instanceof HubSpotApiError)) throw thrown;
      return error(
        res,
        thrown.status,
        thrown.category,
        thrown.message,
        rateHeaders(),
        thrown.context,
      );
    }
  };

  const batchRead = (res: ServerResponse, body: Record<string, unknown>, archived: boolean) => {
    const { inputs, properties, propertiesWithHistory } = body;
    // The spec requires all three; HubSpot refuses a body without them.
    if (
      !Array.isArray(inputs) ||
      !Array.isArray(properties) ||
      !Array.isArray(propertiesWithHistory) ||
      !inputs.every((i) => typeof i === 'object' && i !== null && 'id' in i)
    )
      throw new HubSpotApiError(
        400,
        'VALIDATION_ERROR',
        'Invalid input JSON: inputs, properties and propertiesWithHistory are required',
      );
    if (inputs.length > BATCH_LIMIT)
      throw new HubSpotApiError(
        400,
        'VALIDATION_ERROR',
        `Batch input size of ${inputs.length} exceeds the limit of ${BATCH_LIMIT}`,
      );
    const startedAt = new Date(now()).toISOString();
    stats.batchReads++;
    stats.batchInputs += inputs.length;
    const asked = properties.map(String);
    const results: HubSpotRecordJson[] = [];
    const answered = new Set<string>();
    const missing: string[] = [];
    for (const input of inputs as { id: unknown }[]) {
      const id = String(input.id);
      const contact = contacts.resolve(id, archived);
      if (!contact) {
        if (!missing.includes(id)) missing.push(id);
        continue;
      }
      if (answered.has(contact.id)) continue;
      answered.add(contact.id);
      results.push(contacts.json(contact, asked));
    }
    const envelope = {
      status: 'COMPLETE',
      results,
      startedAt,
      completedAt: new Date(now()).toISOString(),
    };
    if (missing.length === 0) return send(res, 200, envelope, rateHeaders());
    return send(
      res,
      207,
      {
        ...envelope,
        numErrors: 1,
        errors: [
          {
            status: 'error',
            category: 'OBJECT_NOT_FOUND',
            message:
              'Could not get some CONTACT objects, they may be deleted or not exist. Check that ids are valid.',
            context: { ids: missing },
          },
        ],
      },
      rateHeaders(),
    );
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks).toString('utf8')).catch((thrown: unknown) => {
        if (!res.headersSent) error(res, 500, undefined, `internal error: ${String(thrown)}`);
        else res.end();
      });
    });
  });
  const host = options.host ?? '127.0.0.1';
  const port = await listen(server, options.port, host);
  return {
    url: `http://${host}:${port}`,
    port,
    contacts,
    faults,
    stats,
    setFaults: (plan) => faults.set(plan),
    stop: () => close(server),
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function notFound(id: string): HubSpotApiError {
  // HubSpot's single read answers a bare "resource not found"; the context is the emulator's.
  return new HubSpotApiError(404, 'OBJECT_NOT_FOUND', 'resource not found', { id: [id] });
}

function withoutSystem(properties: Readonly<Record<string, string | null>>) {
  return Object.fromEntries(
    Object.entries(properties).filter(([name]) => !SYSTEM_PROPERTIES.has(name)),
  );
}

function propertiesOf(body: Record<string, unknown>): Record<string, string | null> {
  const properties = body.properties;
  if (typeof properties !== 'object' || properties === null || Array.isArray(properties))
    throw new HubSpotApiError(
      400,
      'VALIDATION_ERROR',
      'Invalid input JSON: properties is required',
    );
  return Object.fromEntries(
    Object.entries(properties).map(([name, value]) => [
      name,
      value === null ? null : String(value),
    ]),
  );
}
