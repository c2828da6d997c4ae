import { defineConfig } from '@playwright/test';
import { chromium } from './tests/chromium';

const PORT = 4173;

export default defineConfig({
  testDir: './tests',
  fullyParallel: true,
  // The CI machine has two cores.
  workers: 2,
  forbidOnly: Boolean(process.env.CI),
  reporter: [['list'], ['./tests/summary-reporter.ts']],
  use: {
    baseURL: `http://127.0.0.1:${String(PORT)}`,
    locale: 'en-US',
    timezoneId: 'UTC',
    // A 10-inch tablet held in landscape; portrait tests turn it.
    viewport: { width: 1280, height: 800 },
    launchOptions: chromium(),
  },
  // The built UI, as Tauri ships it, not the dev server.
  webServer: {
    command: `npm run build && npm run preview -- --port ${String(PORT)}`,
    url: `http://127.0.0.1:${String(PORT)}`,
    reuseExistingServer: false,
    timeout: 120_000,
  },
});
