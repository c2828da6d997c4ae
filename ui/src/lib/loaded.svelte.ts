// Something a screen loads from Rust: nothing until it arrives, the last
// refusal, and whether a load is running. Only the newest answer is kept, so
// a slow reply never overwrites a newer one.
import type { AppError } from '../bindings/AppError';
import { appErrorOf } from './ipc';

export class Loaded<T> {
  value = $state<T | null>(null);
  error = $state<AppError | null>(null);
  loading = $state(false);
  /** When the value arrived: what "3 minutes ago" on the screen counts from. Replaced, never changed. */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  at = $state(new Date());
  readonly #fetch: () => Promise<T>;
  #request = 0;

  constructor(fetch: () => Promise<T>) {
    this.#fetch = fetch;
  }

  /** Asks again (the Refresh and Try again buttons). */
  readonly load = async (): Promise<void> => {
    const mine = ++this.#request;
    this.loading = true;
    this.error = null;
    try {
      const value = await this.#fetch();
      if (mine !== this.#request) return;
      this.value = value;
      // eslint-disable-next-line svelte/prefer-svelte-reactivity
      this.at = new Date();
    } catch (caught) {
      if (mine === this.#request) this.error = appErrorOf(caught);
    } finally {
      if (mine === this.#request) this.loading = false;
    }
  };
}
