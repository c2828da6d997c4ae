// Refreshes on a timer while the page is visible; a hidden tablet (screen off,
// app in the background) asks the station for nothing.

/** Calls `refresh` now and then every `intervalMs` after it settles; returns the stop function. */
export function pollWhileVisible(refresh: () => Promise<void>, intervalMs: number): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let running = false;

  const schedule = () => {
    clearTimeout(timer);
    if (!stopped && document.visibilityState === 'visible') timer = setTimeout(() => void tick(), intervalMs);
  };

  // The next call waits for the previous answer, so a slow station never gets a pile of requests.
  async function tick() {
    if (stopped || running) return;
    running = true;
    try {
      await refresh();
    } finally {
      running = false;
      schedule();
    }
  }

  const visibilityChanged = () => {
    if (document.visibilityState === 'visible') void tick();
    else clearTimeout(timer);
  };

  document.addEventListener('visibilitychange', visibilityChanged);
  if (document.visibilityState === 'visible') void tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
    document.removeEventListener('visibilitychange', visibilityChanged);
  };
}
