/**
 * The times a replay filter takes: an ISO 8601 date (`2026-11-22`, midnight UTC), an ISO 8601
 * date-time with its offset (`2026-11-22T08:00:00Z`, `2026-11-22T09:00+01:00`), or a duration
 * back from the start of the run (`30m`, `2h`, `3d`, `1w`).
 */
import { ReplayInputError } from './replay-input-error.ts';

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d)(?:\.\d{1,9})?)?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/;
const DURATION = /^(\d{1,6})(m|h|d|w)$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

export const FILTER_TIME_FORMS =
  'an ISO 8601 date or date-time with its offset (2026-11-22, 2026-11-22T08:00:00Z) or a duration back from now (30m, 2h, 3d, 1w)';

function realDate(year: string, month: string, day: string): boolean {
  const date = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)));
  return (
    date.getUTCFullYear() === Number(year) &&
    date.getUTCMonth() === Number(month) - 1 &&
    date.getUTCDate() === Number(day)
  );
}

/** Milliseconds since the epoch; a duration counts back from `now`. Throws ReplayInputError. */
export function parseFilterTime(value: unknown, now: number, name: string): number {
  if (typeof value === 'string') {
    const duration = DURATION.exec(value);
    if (duration) return now - Number(duration[1]) * UNIT_MS[duration[2] as keyof typeof UNIT_MS];
    const date = DATE.exec(value) ?? DATE_TIME.exec(value);
    // Date.parse alone would take "5" as a day in 2001 and roll 2026-02-31 over into March.
    if (date && realDate(date[1] as string, date[2] as string, date[3] as string)) {
      const parsed = Date.parse(value);
      if (!Number.isNaN(parsed)) return parsed;
    }
  }
  throw new ReplayInputError(`${name} must be ${FILTER_TIME_FORMS}, got ${JSON.stringify(value)}`);
}
