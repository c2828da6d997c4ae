// What the scan specs share: where the found monitor and the viewfinder are,
// and a wait for the page to send more camera frames.
import type { Page } from '@playwright/test';
import type { App } from '../fixtures';
import { expect } from '../fixtures';

export const MONITOR = 'ZM-ICU-07';
export const card = (page: Page) => page.getByTestId('found-monitor');
export const viewfinder = (page: Page) => page.getByTestId('viewfinder');

/** Waits until the page has sent `more` frames beyond those sent so far: scanning goes on. */
export async function framesPass(app: App, more: number): Promise<void> {
  const seen = app.backend.scanner.frames.length;
  await expect.poll(() => app.backend.scanner.frames.length).toBeGreaterThanOrEqual(seen + more);
}
