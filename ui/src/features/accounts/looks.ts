// How an account's standing reads at a glance: words and an icon, the colour only repeating them.
import type { AccountRecord } from '../../bindings/AccountRecord';
import { formatClock, formatShortDateTime } from '../../lib/format';
import type { Look } from '../review/looks';

export const isLocked = (account: AccountRecord, now: Date): boolean =>
  account.lockedUntil !== null && new Date(account.lockedUntil) > now;

export function accountBadges(account: AccountRecord, now: Date): Look[] {
  const badges: Look[] = [];
  if (account.disabled) badges.push({ label: 'Disabled', tone: 'bad', icon: 'revoked' });
  if (account.lockedUntil !== null && isLocked(account, now)) {
    const until = new Date(account.lockedUntil);
    const sameDay = until.toDateString() === now.toDateString();
    const when = sameDay ? formatClock(account.lockedUntil) : formatShortDateTime(account.lockedUntil);
    badges.push({ label: `Locked until ${when}`, tone: 'warn', icon: 'lock' });
  }
  if (account.mustChangePassword) badges.push({ label: 'Must change password', tone: 'busy', icon: 'key' });
  if (badges.length === 0) badges.push({ label: 'Active', tone: 'ok', icon: 'check' });
  return badges;
}
