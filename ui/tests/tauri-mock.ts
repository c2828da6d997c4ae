// Installed in the page before the app loads (page.addInitScript): the parts
// of window.__TAURI_INTERNALS__ that @tauri-apps/api v2 calls — invoke,
// transformCallback and the event plugin's listen/unlisten — as Tauri's own
// mocks.js implements them, with commands answered by the test's FakeBackend
// through the `__zpairBackend` binding (page.exposeFunction).
// This function is serialised into the page: it must not use anything from outside itself.

import type { InvokeResult } from './fake-backend';

export interface MockWindow {
  __zpairBackend: (command: string, args: Record<string, unknown>) => Promise<InvokeResult>;
  __zpairEmit: (event: string, payload: unknown) => void;
  __TAURI_INTERNALS__: unknown;
  __TAURI_EVENT_PLUGIN_INTERNALS__: unknown;
}

export function installTauriMock(): void {
  type Callback = (data: unknown) => void;
  const page = window as unknown as MockWindow;
  const callbacks = new Map<number, Callback>();
  const listeners = new Map<string, number[]>();
  let nextId = 1;

  function transformCallback(callback?: Callback, once = false): number {
    const id = nextId++;
    callbacks.set(id, (data) => {
      if (once) callbacks.delete(id);
      callback?.(data);
    });
    return id;
  }

  /** A raw IPC body (a camera frame) as base64: the backend binding takes JSON. */
  function base64(bytes: Uint8Array): string {
    let binary = '';
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(binary);
  }

  async function invoke(
    command: string,
    args: Record<string, unknown> | Uint8Array = {},
    options?: { headers?: Record<string, string> },
  ): Promise<unknown> {
    if (args instanceof Uint8Array) args = { body: base64(args), headers: options?.headers ?? {} };
    if (command === 'plugin:event|listen') {
      const event = args.event as string;
      const handler = args.handler as number;
      listeners.set(event, [...(listeners.get(event) ?? []), handler]);
      return handler;
    }
    if (command === 'plugin:event|unlisten') {
      const event = args.event as string;
      listeners.set(
        event,
        (listeners.get(event) ?? []).filter((id) => id !== args.eventId),
      );
      return null;
    }
    const result = await page.__zpairBackend(command, args);
    if (result.ok) return result.value;
    // Tauri rejects with the command's serialised error object, not an Error.
    // eslint-disable-next-line @typescript-eslint/only-throw-error
    throw result.error;
  }

  page.__TAURI_INTERNALS__ = {
    invoke,
    transformCallback,
    unregisterCallback: (id: number) => callbacks.delete(id),
    runCallback: (id: number, data: unknown) => callbacks.get(id)?.(data),
    callbacks,
  };
  page.__TAURI_EVENT_PLUGIN_INTERNALS__ = {
    unregisterListener: (_event: string, id: number) => callbacks.delete(id),
  };
  page.__zpairEmit = (event, payload) => {
    for (const id of listeners.get(event) ?? []) callbacks.get(id)?.({ event, id, payload });
  };
}
