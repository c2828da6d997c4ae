// Who is signed in, and whether their session ran out under the current screen.
import type { Account } from '../bindings/Account';
import type { AppError } from '../bindings/AppError';
import { IDLE_SIGN_OUT_MS, watchIdle } from './idle';
import { appErrorOf, getAccount, observeCommandErrors, onSessionExpired, signOut } from './ipc';

class Session {
  account = $state<Account | null>(null);
  /** The session ended; `account` stays so the header still says whose it was and the screen stays put. */
  expired = $state(false);
  /** The sign-in dialog over the current screen; Escape hides it, the header brings it back. */
  dialogOpen = $state(false);
  /** Why the saved session could not be restored at start-up, shown on the sign-in screen. */
  restoreError = $state<AppError | null>(null);

  async restore(): Promise<void> {
    this.restoreError = null;
    try {
      this.signedIn(await getAccount());
    } catch (error) {
      this.account = null;
      this.restoreError = appErrorOf(error);
    }
  }

  signedIn(account: Account | null): void {
    if (account !== null) this.restoreError = null;
    this.account = account;
    this.expired = false;
    this.dialogOpen = false;
  }

  /** The account's password is temporary: the app shows only the password change until it is changed. */
  mustChangePassword(): void {
    if (this.account !== null) this.account = { ...this.account, mustChangePassword: true };
  }

  /** The password was changed: the app opens. */
  passwordChanged(): void {
    if (this.account !== null) this.account = { ...this.account, mustChangePassword: false };
  }

  expire(): void {
    if (this.account === null) return;
    this.expired = true;
    this.dialogOpen = true;
  }

  async signOut(): Promise<void> {
    await signOut();
    this.signedIn(null);
  }

  /** Signs out after `timeoutMs` without input while signed in, and says why on the sign-in screen. */
  watchIdle(timeoutMs = IDLE_SIGN_OUT_MS): () => void {
    return watchIdle(
      () => this.account !== null && !this.expired,
      () => {
        void this.signOut().then(
          () => {
            this.restoreError = {
              code: 'idle_sign_out',
              message: `You were signed out after ${String(Math.round(timeoutMs / 60_000))} minutes without activity. Sign in again to continue.`,
            };
          },
          (error: unknown) => {
            this.restoreError = appErrorOf(error);
          },
        );
      },
      timeoutMs,
    );
  }

  /** Follows the Rust side's word that the session ended, by event or by a command's error. */
  watch(): () => void {
    const stopObserving = observeCommandErrors((error) => {
      if (error.code === 'session_expired') this.expire();
      // The station says the password is temporary (reset since this session began): ask for a new one first.
      if (error.code === 'password_change_required') this.mustChangePassword();
    });
    const unlisten = onSessionExpired(() => {
      this.expire();
    });
    return () => {
      stopObserving();
      void unlisten.then((stop) => {
        stop();
      });
    };
  }
}

export const session = new Session();
