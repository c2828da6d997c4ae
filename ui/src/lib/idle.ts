// Idle sign-out: a shared workstation left signed in is a session anyone can
// use, so after a spell without keyboard, pointer or touch input the app signs
// out (revoking the session at the station) and says why on the sign-in screen.
// Only the UI sees input, so the timer lives here; the station bounds the
// session's total length on its side.

/** Minutes without input before signing out: 15 unless the build sets `VITE_IDLE_SIGN_OUT_MINUTES`. */
export const IDLE_SIGN_OUT_MS = minutes(import.meta.env.VITE_IDLE_SIGN_OUT_MINUTES, 15) * 60_000;

const ACTIVITY = ['pointerdown', 'pointermove', 'keydown', 'wheel', 'touchstart'] as const;

function minutes(configured: unknown, fallback: number): number {
  const value = Number(configured);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

/**
 * Calls `onIdle` once `isActive()` has held for `timeoutMs` without input.
 * Input only stamps the time; one timer checks the stamp when it fires.
 * Returns a function that stops watching.
 */
export function watchIdle(isActive: () => boolean, onIdle: () => void, timeoutMs = IDLE_SIGN_OUT_MS): () => void {
  let lastInput = Date.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stamp = () => {
    lastInput = Date.now();
  };
  const check = () => {
    const idleFor = Date.now() - lastInput;
    if (!isActive()) {
      lastInput = Date.now();
    } else if (idleFor >= timeoutMs) {
      lastInput = Date.now();
      onIdle();
    }
    timer = setTimeout(check, Math.max(1000, timeoutMs - (Date.now() - lastInput)));
  };
  for (const name of ACTIVITY) window.addEventListener(name, stamp, { capture: true, passive: true });
  timer = setTimeout(check, timeoutMs);
  return () => {
    clearTimeout(timer);
    for (const name of ACTIVITY) window.removeEventListener(name, stamp, { capture: true });
  };
}
