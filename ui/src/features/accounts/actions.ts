// What an administrator can do to an account, and how each is asked and announced.
import type { AccountRecord } from '../../bindings/AccountRecord';

export type AccountAction = 'reset' | 'unlock' | 'disable' | 'enable' | 'end_sessions';

/** The question before an action that cannot be taken back (unlocking needs none). */
export interface Question {
  title: string;
  body: string;
  confirm: string;
  busy: string;
  danger: boolean;
}

export function question(action: Exclude<AccountAction, 'unlock'>, account: AccountRecord): Question {
  const who = `${account.displayName} (${account.username})`;
  switch (action) {
    case 'reset':
      return {
        title: `Reset the password of ${account.username}?`,
        body: `${who} gets a new temporary password, shown to you once. Their current password stops working and they are signed out everywhere; they choose a new password at their next sign-in.`,
        confirm: 'Reset password',
        busy: 'Resetting…',
        danger: true,
      };
    case 'disable':
      return {
        title: `Disable ${account.username}?`,
        body: `${who} can no longer sign in, and is signed out everywhere. You can enable the account again later.`,
        confirm: 'Disable account',
        busy: 'Disabling…',
        danger: true,
      };
    case 'enable':
      return {
        title: `Enable ${account.username}?`,
        body: `${who} can sign in again with their password.`,
        confirm: 'Enable account',
        busy: 'Enabling…',
        danger: false,
      };
    case 'end_sessions':
      return {
        title: `End the sessions of ${account.username}?`,
        body: `${who} is signed out on every tablet and must sign in again. Their password does not change.`,
        confirm: 'End sessions',
        busy: 'Ending…',
        danger: true,
      };
  }
}

/** What is said once an action is done. */
export function doneMessage(action: AccountAction, account: AccountRecord): string {
  switch (action) {
    case 'reset':
      return `The password of ${account.username} was reset.`;
    case 'unlock':
      return `${account.username} is unlocked and can sign in again.`;
    case 'disable':
      return `${account.username} is disabled.`;
    case 'enable':
      return `${account.username} is enabled.`;
    case 'end_sessions':
      return `${account.username} is signed out everywhere.`;
  }
}
