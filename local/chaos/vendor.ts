/**
 * The vendors' side of a chaos run: each delivery signed with its source's scheme at every
 * attempt (as vendors do), POSTed to the gateway, and sent again until the gateway answers 2xx —
 * a vendor retries what it was not told was taken, also while the runtime is down.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { loadContractRegistry } from '../../functions/contracts/index.ts';
import { webhookSecretName } from '../../functions/platform/names.ts';
import { type SignOptions, signatureHeaders } from '../demo/sign.ts';
import { STAGE } from '../runtime.ts';
import { type Delivery, eventKey } from './traffic.ts';

export type GatewayAnswer = 'accepted' | 'ignored' | 'quarantined';

export interface VendorTally {
  /** POSTs, first attempts and retries. */
  attempts: number;
  /** Answers other than 2xx, by status (`error` for no answer at all). */
  readonly refusals: Record<string, number>;
  /** How the gateway took each event (the first 2xx that named it). */
  readonly answered: Map<string, GatewayAnswer>;
  /** Event keys of re-deliveries answered 2xx. */
  readonly repeats: string[];
  /** Deliveries given up on: never answered 2xx. */
  readonly givenUp: { delivery: Delivery; last: string }[];
  /** 5xx answers to an authentic delivery while the runtime was up (not the kill window). */
  readonly serverErrors: string[];
}

export function newTally(): VendorTally {
  return {
    attempts: 0,
    refusals: {},
    answered: new Map(),
    repeats: [],
    givenUp: [],
    serverErrors: [],
  };
}

export class Vendors {
  private readonly registry = loadContractRegistry();
  private readonly secrets = new Map<string, string>();

  constructor(
    private readonly gatewayUrl: string,
    private readonly secretsManagerUrl: string,
    readonly tally: VendorTally,
    /** True while the runtime is knowingly down (killed, restarting): no answer is expected. */
    private readonly down: () => boolean,
    /** How long to keep retrying one delivery. */
    private readonly patienceMs = 300_000,
  ) {}

  private async secretOf(source: string): Promise<string> {
    const known = this.secrets.get(source);
    if (known) return known;
    const client = new SecretsManagerClient({
      endpoint: this.secretsManagerUrl,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const stored = await client.send(
      new GetSecretValueCommand({ SecretId: webhookSecretName(STAGE, source) }),
    );
    const secret = (JSON.parse(stored.SecretString ?? '{}') as { current: string }).current;
    this.secrets.set(source, secret);
    return secret;
  }

  /** Sends until a 2xx; returns whether the gateway took it. */
  async send(delivery: Delivery): Promise<boolean> {
    const url = `${this.gatewayUrl}/webhooks/${delivery.source}`;
    const scheme = this.registry.source(delivery.source)?.signature as SignOptions['scheme'];
    const deadline = Date.now() + this.patienceMs;
    let last = '';
    for (let attempt = 1; ; attempt++) {
      const wasDown = this.down();
      this.tally.attempts++;
      try {
        const signed = signatureHeaders({
          scheme,
          secret: await this.secretOf(delivery.source),
          body: delivery.body,
          url,
          headers: delivery.headers,
        });
        const response = await fetch(url, {
          method: 'POST',
          headers: { ...delivery.headers, ...signed },
          body: delivery.body,
        });
        const text = await response.text();
        if (response.status >= 200 && response.status < 300) {
          this.taken(delivery, text);
          return true;
        }
        last = `${response.status} ${text.slice(0, 200)}`;
        this.tally.refusals[response.status] = (this.tally.refusals[response.status] ?? 0) + 1;
        if (response.status >= 500 && !wasDown && !this.down())
          this.tally.serverErrors.push(
            `${delivery.source} ${delivery.events[0]?.eventId}: ${last}`,
          );
        // A 4xx will not change by itself: a few tries, then it is given up (and reported).
        if (response.status < 500 && response.status !== 429 && attempt >= 3) break;
      } catch (error) {
        last = `no answer: ${(error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message}`;
        this.tally.refusals.error = (this.tally.refusals.error ?? 0) + 1;
        if (!this.down()) this.secrets.clear();
      }
      if (Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, Math.min(2000, 100 * attempt)));
    }
    this.tally.givenUp.push({ delivery, last });
    return false;
  }

  private taken(delivery: Delivery, text: string): void {
    let answer: { accepted?: string[]; ignored?: string[]; quarantined?: { id: string }[] } = {};
    try {
      answer = JSON.parse(text);
    } catch {
      // a 2xx without a body still took the events
    }
    const kinds = new Map<string, GatewayAnswer>();
    for (const id of answer.ignored ?? []) kinds.set(String(id), 'ignored');
    for (const q of answer.quarantined ?? []) kinds.set(String(q.id), 'quarantined');
    for (const event of delivery.events) {
      const key = eventKey(event.source, event.eventId);
      if (delivery.repeat) this.tally.repeats.push(key);
      if (!this.tally.answered.has(key))
        this.tally.answered.set(key, kinds.get(event.eventId) ?? 'accepted');
    }
  }
}
