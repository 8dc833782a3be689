/** The shape of a contract YAML file once it has passed contracts/contract.schema.json. */
import type { JsonSchema } from './json-schema.ts';

export type LocatorYaml = { path: string } | { header: string | string[] } | { join: string[] };

export interface ContractYaml {
  id: string;
  version: string;
  status: 'active' | 'deprecated';
  owner: { team: string; contact: string };
  description: string;
  flow: string;
  source: {
    system: string;
    signature: 'stripe' | 'shopify' | 'hubspot' | 'standard-webhooks' | 'github' | 'woocommerce';
    batch?: 'none' | 'array';
    eventType: LocatorYaml;
    events: string[];
    eventId: LocatorYaml;
    occurredAt: LocatorYaml;
    entityKey: LocatorYaml;
    account?: LocatorYaml;
    thin?: boolean;
  };
  schema: JsonSchema;
  enrich?: EnrichYaml;
  target: {
    model: string;
    externalId: string;
    match?: { field: string; normalise?: 'email' | 'vat' | 'sku' | 'exact' }[];
    mapping: string;
    write: string[];
    createOnly?: string[];
    onMissing?: 'create' | 'skip';
    lifecycle?: LifecycleStepYaml[];
  };
  compatibility?: 'backward' | 'forward' | 'full' | 'none';
  reconcile: {
    count: boolean;
    sum?: { field: string; from?: string };
    currency?: string;
    amounts?: { field: string; from: string }[];
    state?: { field: string; expect: (string | boolean)[]; when?: string };
  };
  quality: { freshness: string };
}

/** The vendor object a thin event is enriched with; which keys suit which vendor is the lint's to say. */
export interface EnrichYaml {
  /** `<source>.<object>`, e.g. `hubspot.contact`. */
  object: string;
  id: { path: string };
  properties?: string[];
  expand?: string[];
  as: string;
  schema: JsonSchema;
}

/** One lifecycle step as written; which keys belong to which step is the lint's to say. */
export interface LifecycleStepYaml {
  step: 'post' | 'reconcile' | 'totals' | 'confirm' | 'cancel' | 'credit-note';
  total?: string;
  tax?: string;
  rounding?: string;
  with?: string;
  when?: string;
  of?: string;
}

export interface FlowsYaml {
  flows: Record<string, { description: string; fifo: boolean }>;
}

/** `contracts/stripe/customer.v1.yaml` → { source: 'stripe', name: 'customer', major: 1 } */
export function parseContractPath(
  file: string,
): { source: string; name: string; major: number } | undefined {
  const match = /(?:^|\/)contracts\/([^/]+)\/([^/]+)\.v(\d+)\.ya?ml$/.exec(file);
  if (!match) return undefined;
  return { source: match[1] ?? '', name: match[2] ?? '', major: Number(match[3]) };
}

/** ISO 8601 duration (PT15M, P1DT2H) in seconds. */
export function durationSeconds(duration: string): number {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(duration);
  if (!m) return Number.NaN;
  const [, d, h, min, s] = m.map((part) => Number(part ?? 0));
  return (d ?? 0) * 86_400 + (h ?? 0) * 3_600 + (min ?? 0) * 60 + (s ?? 0);
}
