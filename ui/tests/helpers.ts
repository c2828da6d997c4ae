// Formats the tests expect, computed the way the page does (en-US, UTC, as playwright.config sets).
import { STATION_FINGERPRINT } from './fake-backend';

const timeOnly = new Intl.DateTimeFormat('en-US', { timeStyle: 'medium', timeZone: 'UTC' });
const dateTime = new Intl.DateTimeFormat('en-US', { dateStyle: 'medium', timeStyle: 'medium', timeZone: 'UTC' });

export const shownTime = (iso: string): string => timeOnly.format(new Date(iso));
export const shownDateTime = (iso: string): string => dateTime.format(new Date(iso));

/** `3F:9A:…` as IT hands it out. */
export const grouped = (hex: string): string => (hex.toUpperCase().match(/../g) ?? []).join(':');

export const STATION_FINGERPRINT_GROUPED = grouped(STATION_FINGERPRINT);

/** Text with every run of white space removed, for multi-line renderings. */
export const squeezed = (text: string | null): string => (text ?? '').replace(/\s+/g, '');
