/**
 * A vendor's rate limit is shared by every worker container that may call it at once: the
 * customers workers of prod at their cap read HubSpot within HubSpot's burst limit together.
 */
import { describe, expect, it } from 'vitest';
import { compiledRegistry } from '../../functions/contracts/compiled/registry.ts';
import { HUBSPOT_RATE_LIMIT } from '../../functions/enrich/hubspot.ts';
import { vendorRateShares } from '../../infra/vendor-rate-shares.ts';
import { synthEnvironment } from './synth.ts';

type Resource = { Type: string; Properties: Record<string, unknown> };

describe('vendor rate shares', () => {
  it('divides HubSpot burst limit over the containers of every flow that enriches from it', () => {
    const shares = vendorRateShares(compiledRegistry.contracts, { customers: 3 });
    expect(shares).toEqual({
      customers: { SPINE_HUBSPOT_RATE_LIMIT: `${Math.floor(100 / 3)}/10000` },
    });
    // Nothing for a flow that reads no vendor API.
    expect(shares.payments).toBeUndefined();
  });

  it('refuses a concurrency that leaves a container less than one call', () => {
    expect(() => vendorRateShares(compiledRegistry.contracts, { customers: 101 })).toThrow(
      /hubspot allows 100 calls per 10000 ms, shared by the 101 worker containers of customers: less than one call each/,
    );
  });

  it('gives the prod customers worker its share, which at its cap stays within the limit', () => {
    const { statelessTemplate, environment } = synthEnvironment('prod');
    const worker = Object.values(statelessTemplate.toJSON().Resources as Record<string, Resource>)
      .map((r) => r.Properties)
      .find((p) => p.FunctionName === 'spine-prod-worker-customers') as {
      Environment: { Variables: Record<string, string> };
      ReservedConcurrentExecutions: number;
    };
    const share = worker.Environment.Variables.SPINE_HUBSPOT_RATE_LIMIT as string;
    const [max, intervalMs] = share.split('/').map(Number);
    expect(intervalMs).toBe(HUBSPOT_RATE_LIMIT.intervalMs);
    const cap = environment.concurrency.customers ?? 2;
    expect((max as number) * cap).toBeLessThanOrEqual(HUBSPOT_RATE_LIMIT.max);
    expect(max).toBeGreaterThanOrEqual(1);
  });
});
