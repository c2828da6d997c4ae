// Debian's Chromium as every test launches it: Playwright downloads no browser here.
import type { LaunchOptions } from '@playwright/test';

export function chromium(extraArgs: string[] = []): LaunchOptions {
  return {
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      ...extraArgs,
    ],
  };
}
