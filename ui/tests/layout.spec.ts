import { expect, test } from './fixtures';
import { SCREENS } from './screens';

const PORTRAIT = { width: 800, height: 1280 };
const LANDSCAPE = { width: 1280, height: 800 };

test.describe('portrait', () => {
  test.use({ viewport: PORTRAIT });

  test('the tabs sit along the bottom', async ({ app, page }) => {
    await app.open();
    const nav = await page.getByRole('navigation', { name: 'Main' }).boundingBox();
    expect(nav).not.toBeNull();
    expect(Math.round((nav?.y ?? 0) + (nav?.height ?? 0))).toBe(PORTRAIT.height);
    expect(Math.round(nav?.width ?? 0)).toBe(PORTRAIT.width);
    const tops = await page.getByRole('navigation', { name: 'Main' }).getByRole('link').evaluateAll((links) =>
      links.map((link) => Math.round(link.getBoundingClientRect().top)),
    );
    expect(tops).toHaveLength(5);
    expect(new Set(tops).size).toBe(1);
  });
});

test.describe('landscape', () => {
  test.use({ viewport: LANDSCAPE });

  test('the navigation runs down the side', async ({ app, page }) => {
    await app.open();
    const nav = await page.getByRole('navigation', { name: 'Main' }).boundingBox();
    expect(nav?.x).toBe(0);
    expect(nav?.width ?? LANDSCAPE.width).toBeLessThan(LANDSCAPE.width / 3);
    const lefts = await page.getByRole('navigation', { name: 'Main' }).getByRole('link').evaluateAll((links) =>
      links.map((link) => Math.round(link.getBoundingClientRect().left)),
    );
    expect(new Set(lefts).size).toBe(1);
    const main = await page.getByRole('main').boundingBox();
    expect(main?.x ?? 0).toBeGreaterThanOrEqual((nav?.x ?? 0) + (nav?.width ?? 0) - 1);
  });
});

for (const [orientation, viewport] of [
  ['portrait', PORTRAIT],
  ['landscape', LANDSCAPE],
] as const) {
  test.describe(orientation, () => {
    test.use({ viewport });
    for (const screen of SCREENS) {
      test.describe(screen.name, () => {
        test.use({ scenario: screen.scenario });
        test('fits the width, reads at arm’s length, and has big touch targets', async ({ app, page }) => {
          await screen.show(app);
          const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
          expect(overflow).toBeLessThanOrEqual(0);
          const base = await page.evaluate(() => parseFloat(getComputedStyle(document.body).fontSize));
          expect(base).toBeGreaterThanOrEqual(18);
          // Links inside running text are exempt, as WCAG 2.5.8 exempts them.
          const small = await page
            .locator('button, a, input:not([type="radio"]), textarea, label:has(input[type="radio"])')
            .evaluateAll((elements) =>
              elements
                .filter((element) => element.getClientRects().length > 0 && !element.closest('p'))
                .map((element) => ({ element, box: element.getBoundingClientRect() }))
                .filter(({ box }) => box.height < 44 || box.width < 44)
                .map(({ element, box }) => `${element.outerHTML.slice(0, 80)} ${String(box.width)}x${String(box.height)}`),
            );
          expect(small).toEqual([]);
          if (orientation === 'portrait') await app.screenshot(`${screen.name}-portrait-light`);
        });
      });
    }
  });
}

test.describe('dark mode', () => {
  test.use({ colorScheme: 'dark' });

  test('follows the system setting', async ({ app, page }) => {
    await app.open();
    const colours = await page.evaluate(() => {
      const style = getComputedStyle(document.documentElement);
      return { background: style.backgroundColor, text: style.color };
    });
    expect(colours).toEqual({ background: 'rgb(14, 20, 27)', text: 'rgb(233, 238, 243)' });
  });
});

test('light mode is the default when the system asks for light', async ({ app, page }) => {
  await page.emulateMedia({ colorScheme: 'light' });
  await app.open();
  const background = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
  expect(background).toBe('rgb(238, 242, 246)');
});

test('runs under its strict Content-Security-Policy without a violation or console error', async ({ app, page }) => {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      console.error(`CSP violation: ${event.violatedDirective} ${event.blockedURI}`);
    });
  });
  app.backend.seedPairing('ZM-003', 'PAIRING');
  await app.open();
  const policy = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
  expect(policy).toContain("default-src 'self'");
  expect(policy).toContain("script-src 'self'");
  expect(policy).toContain('connect-src ipc: http://ipc.localhost');
  expect(policy).not.toContain('unsafe-inline');

  for (const [tab, heading] of [
    ['Pairings', 'Pairings'],
    ['Devices', 'Devices'],
    ['History', 'History'],
    ['Settings', 'Settings'],
  ] as const) {
    await app.nav(tab).click();
    await expect(app.heading(heading)).toBeVisible();
  }
  await app.open('#/devices/ZM-001');
  await expect(page.getByTestId('validity')).toHaveText('Valid');
  await app.backend.expireSession();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Password').fill('correct horse');
  // A form submission, which `form-action 'none'` would report if the app let it navigate.
  await dialog.getByLabel('Password').press('Enter');
  await expect(dialog).toHaveCount(0);
  expect(problems).toEqual([]);
});
