// The periods a report covers: the current shift (the last 12 hours) unless
// the administrator picks a day, a week or their own dates.

export type Preset = 'shift' | 'today' | 'yesterday' | 'week' | 'custom';

export const PRESETS: { value: Preset; label: string }[] = [
  { value: 'shift', label: 'This shift (last 12 hours)' },
  { value: 'today', label: 'Today' },
  { value: 'yesterday', label: 'Yesterday' },
  { value: 'week', label: 'Last 7 days' },
  { value: 'custom', label: 'Other dates' },
];

const HOUR = 3600 * 1000;
/** The longest period the station reports on (zpair_proto::admin::ReportQuery). */
export const MAX_DAYS = 31;

function midnight(day: Date): Date {
  return new Date(day.getFullYear(), day.getMonth(), day.getDate());
}

/** A preset's period, `to` excluded, in the tablet's time zone. */
export function presetPeriod(preset: Exclude<Preset, 'custom'>, now: Date): { from: Date; to: Date } {
  const today = midnight(now);
  const tomorrow = new Date(today.getFullYear(), today.getMonth(), today.getDate() + 1);
  switch (preset) {
    case 'shift':
      return { from: new Date(now.getTime() - 12 * HOUR), to: now };
    case 'today':
      return { from: today, to: tomorrow };
    case 'yesterday':
      return { from: new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1), to: today };
    case 'week':
      return { from: new Date(now.getTime() - 7 * 24 * HOUR), to: now };
  }
}

/** What is wrong with a period the administrator typed, or null. */
export function periodProblem(from: Date | null, to: Date | null): string | null {
  if (from === null || to === null) return 'Give both a start and an end.';
  if (to <= from) return 'The end must be after the start.';
  if (to.getTime() - from.getTime() > MAX_DAYS * 24 * HOUR) return `A report covers at most ${String(MAX_DAYS)} days.`;
  return null;
}
