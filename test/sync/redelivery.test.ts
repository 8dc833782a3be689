/** The retry schedule of a failed event and the redrive limit sized from it. */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_REDELIVERY,
  receivesToOutlast,
  redeliveryDelaySeconds,
  retriesSpanSeconds,
} from '../../functions/sync/redelivery.ts';

describe('the redelivery schedule', () => {
  it('doubles from 30 s per receive up to 15 minutes, less at most a fifth of jitter', () => {
    const longest = [1, 2, 3, 4, 5, 6, 20].map((n) =>
      redeliveryDelaySeconds(n, DEFAULT_REDELIVERY, () => 0),
    );
    const shortest = [1, 2, 3, 4, 5, 6, 20].map((n) =>
      redeliveryDelaySeconds(n, DEFAULT_REDELIVERY, () => 1),
    );
    expect(longest).toEqual([30, 60, 120, 240, 480, 900, 900]);
    expect(shortest).toEqual([24, 48, 96, 192, 384, 720, 720]);
  });

  it('never asks SQS for more than its 12-hour visibility limit, nor less than a second', () => {
    expect(redeliveryDelaySeconds(40, { baseSeconds: 60, capSeconds: 86_400 }, () => 0)).toBe(
      43_200,
    );
    expect(redeliveryDelaySeconds(1, { baseSeconds: 0.5, capSeconds: 1 }, () => 1)).toBe(1);
  });

  it('sizes the redrive limit so that the shortest retries span the outage', () => {
    const twoHours = 2 * 3600;
    const threeHours = 3 * 3600;
    expect(receivesToOutlast(twoHours)).toBe(15);
    expect(receivesToOutlast(threeHours)).toBe(20);
    // The limit is the fewest that do: one receive less would not span it.
    for (const outage of [60, twoHours, threeHours, 86_400]) {
      const limit = receivesToOutlast(outage);
      expect(retriesSpanSeconds(limit)).toBeGreaterThanOrEqual(outage);
      expect(retriesSpanSeconds(limit - 1)).toBeLessThan(outage);
    }
    // Five receives on this schedule span 6 minutes.
    expect(retriesSpanSeconds(5)).toBe(24 + 48 + 96 + 192);
  });
});
