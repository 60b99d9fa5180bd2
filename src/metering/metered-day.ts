/**
 * One formatter per time zone, kept: building an Intl.DateTimeFormat costs about 0.4 ms, and
 * every metered turn asks for its day (nextDayStart up to 24 times more). Operators set one
 * zone (USAGE_TIME_ZONE), so this holds one or two entries.
 */
const dayFormats = new Map<string, Intl.DateTimeFormat>();

/** The day `at` falls on in `timeZone`, as YYYY-MM-DD (en-CA formats dates that way). */
export function meteredDay(at: Date, timeZone: string): string {
  let format = dayFormats.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    });
    dayFormats.set(timeZone, format);
  }
  return format.format(at);
}

/** When the day after `at` begins in `timeZone` (for "resets at …"), to the minute. */
export function nextDayStart(at: Date, timeZone: string): Date {
  const today = meteredDay(at, timeZone);
  // Step forward by the hour until the day changes: time zones move by whole or half hours,
  // so then step back by minutes to the exact start.
  let probe = new Date(at.getTime());
  while (meteredDay(probe, timeZone) === today) probe = new Date(probe.getTime() + 3_600_000);
  while (meteredDay(new Date(probe.getTime() - 60_000), timeZone) !== today) {
    probe = new Date(probe.getTime() - 60_000);
  }
  return new Date(Math.floor(probe.getTime() / 60_000) * 60_000);
}
