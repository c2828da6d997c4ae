// How times, sizes and fingerprints read at arm's length.

/** `ab cd…` or `ABCD…` as `AB:CD:…`, the form IT hands out. */
function groupFingerprint(fingerprint: string): string {
  const hex = fingerprint.replace(/[^0-9a-f]/gi, '').toUpperCase();
  return (hex.match(/../g) ?? []).join(':');
}

/** Groups of pairs per line, so a 32-byte fingerprint reads as four short lines. */
export function fingerprintLines(fingerprint: string, pairsPerLine = 8): string[] {
  const pairs = groupFingerprint(fingerprint).split(':');
  const lines: string[] = [];
  for (let i = 0; i < pairs.length; i += pairsPerLine) lines.push(pairs.slice(i, i + pairsPerLine).join(':'));
  return lines;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const timeOnly = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

export const formatDateTime = (iso: string): string => dateTime.format(new Date(iso));
export const formatTime = (iso: string): string => timeOnly.format(new Date(iso));

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 24 * 3600],
  ['month', 30 * 24 * 3600],
  ['week', 7 * 24 * 3600],
  ['day', 24 * 3600],
  ['hour', 3600],
  ['minute', 60],
  ['second', 1],
];

/** "3 minutes ago", "in 2 days". */
export function formatRelative(iso: string, now: Date): string {
  const seconds = Math.round((new Date(iso).getTime() - now.getTime()) / 1000);
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size || unit === 'second') return relative.format(Math.round(seconds / size), unit);
  }
  return relative.format(0, 'second');
}

/** Uptime as the two largest units: "2 d 4 h", "5 min 12 s". */
export function formatDuration(totalSeconds: number): string {
  const parts: [number, string][] = [
    [Math.floor(totalSeconds / 86400), 'd'],
    [Math.floor((totalSeconds % 86400) / 3600), 'h'],
    [Math.floor((totalSeconds % 3600) / 60), 'min'],
    [Math.floor(totalSeconds % 60), 's'],
  ];
  const first = parts.findIndex(([value]) => value > 0);
  if (first === -1) return '0 s';
  return parts
    .slice(first, first + 2)
    .filter(([value]) => value > 0)
    .map(([value, unit]) => `${String(value)} ${unit}`)
    .join(' ');
}

const BYTE_UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];

export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < BYTE_UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${value.toFixed(digits)} ${BYTE_UNITS[unit] ?? 'B'}`;
}

export const formatCount = (value: number): string => value.toLocaleString();

const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
const shortDateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const clock = new Intl.DateTimeFormat(undefined, { timeStyle: 'short' });

export const formatDate = (iso: string): string => dateOnly.format(new Date(iso));
/** To the minute: for periods and deadlines, where seconds are noise. */
export const formatShortDateTime = (iso: string): string => shortDateTime.format(new Date(iso));
/** The time of day to the minute ("9:13 AM"). */
export const formatClock = (iso: string): string => clock.format(new Date(iso));

/** A duration in milliseconds as its two largest units ("1 min 12 s"). */
export const formatMs = (ms: number): string => formatDuration(Math.round(ms / 1000));

/** A time as a `datetime-local` field holds it: local, to the minute. */
export function toLocalInput(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${String(date.getFullYear())}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** A `datetime-local` field's value (local time) as RFC 3339 UTC, or null when empty or incomplete. */
export function fromLocalInput(value: string): string | null {
  if (value === '') return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}
