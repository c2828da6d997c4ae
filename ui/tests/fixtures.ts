// The test harness: every test gets a FakeBackend wired into its page as the
// Rust side, and an `app` with the few steps most tests share.
import { test as base, expect, type Page } from '@playwright/test';
import type { AxeResults } from 'axe-core';
import { createRequire } from 'node:module';
import path from 'node:path';
import { FakeBackend, type Scenario } from './fake-backend';
import { installTauriMock, type MockWindow } from './tauri-mock';

const AXE_PATH = createRequire(import.meta.url).resolve('axe-core');
const SCREENSHOTS = path.join(import.meta.dirname, '..', 'test-results', 'screenshots');

export class App {
  constructor(
    readonly page: Page,
    readonly backend: FakeBackend,
  ) {}

  /** Opens the app at `hash` (e.g. "#/devices") and waits until it has started. */
  async open(hash = ''): Promise<void> {
    await this.page.goto(`/${hash}`);
    await expect(this.page.getByText('Starting ZPair…')).toHaveCount(0);
  }

  heading(name: string | RegExp) {
    return this.page.getByRole('heading', { level: 1, name });
  }

  nav(name: string) {
    return this.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name });
  }

  /** The app-wide polite live region. */
  liveRegion() {
    return this.page.locator('[role="status"][aria-live="polite"]');
  }

  async screenshot(name: string): Promise<void> {
    // A full-page capture of a scrolled page shows the sticky header mid-page.
    await this.page.evaluate(() => {
      window.scrollTo(0, 0);
    });
    await this.page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
  }

  /** axe-core on the page as it is now: nothing serious or critical. */
  async expectAccessible(): Promise<void> {
    await this.page.addScriptTag({ path: AXE_PATH });
    const results = await this.page.evaluate(
      () => (window as unknown as { axe: { run: (context: Document) => Promise<AxeResults> } }).axe.run(document),
    );
    const serious = results.violations
      .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
      .map((violation) => ({
        rule: violation.id,
        help: violation.help,
        nodes: violation.nodes.map((node) => `${node.target.join(' ')}: ${node.failureSummary ?? ''}`),
      }));
    expect(serious).toEqual([]);
  }
}

export const test = base.extend<{ scenario: Scenario; backend: FakeBackend; app: App }>({
  scenario: [{}, { option: true }],
  backend: async ({ scenario }, use) => {
    await use(new FakeBackend(scenario));
  },
  app: async ({ page, backend }, use) => {
    await page.exposeFunction('__zpairBackend', (command: string, args: Record<string, unknown>) =>
      backend.invoke(command, args),
    );
    await page.addInitScript(installTauriMock);
    backend.connect(async (event, payload) => {
      await page.evaluate(
        ([name, data]) => {
          (window as unknown as MockWindow).__zpairEmit(name, data);
        },
        [event, payload] as const,
      );
    });
    await use(new App(page, backend));
  },
});

export { expect };
