/**
 * A vendor's rate limit holds for all of Spine at once (HubSpot's burst is per app, Stripe's per
 * account), while each worker container keeps its own count: each container that may call a
 * vendor gets an equal share, so that every flow's workers at their concurrency cap stay within
 * the limit together. Synth refuses a share of less than one call.
 */
import type { CompiledContract } from '../functions/contracts/model.ts';
import { HUBSPOT_RATE_LIMIT } from '../functions/enrich/hubspot.ts';
import { STRIPE_RATE_LIMIT } from '../functions/enrich/stripe.ts';

const LIMITS = {
  hubspot: { limit: HUBSPOT_RATE_LIMIT, variable: 'SPINE_HUBSPOT_RATE_LIMIT' },
  stripe: { limit: STRIPE_RATE_LIMIT, variable: 'SPINE_STRIPE_RATE_LIMIT' },
} as const;

/** Per flow, the environment variables that give its worker its share of each vendor it reads. */
export function vendorRateShares(
  contracts: readonly CompiledContract[],
  concurrency: Readonly<Record<string, number>>,
  defaultConcurrency = 2,
): Record<string, Record<string, string>> {
  const shares: Record<string, Record<string, string>> = {};
  for (const [vendor, { limit, variable }] of Object.entries(LIMITS)) {
    const flows = [
      ...new Set(
        contracts.filter((c) => c.enrich?.object.startsWith(`${vendor}.`)).map((c) => c.flow),
      ),
    ].sort();
    if (flows.length === 0) continue;
    const containers = flows.reduce((sum, f) => sum + (concurrency[f] ?? defaultConcurrency), 0);
    const max = Math.floor(limit.max / containers);
    if (max < 1)
      throw new Error(
        `${vendor} allows ${limit.max} calls per ${limit.intervalMs} ms, shared by the ${containers} worker containers of ${flows.join(', ')}: less than one call each; lower concurrency.<flow>`,
      );
    for (const flow of flows)
      shares[flow] = { ...shares[flow], [variable]: `${max}/${limit.intervalMs}` };
  }
  return shares;
}
