import { expect, test } from './fixtures';

test('a whole pairing with the keyboard only', async ({ app, page }) => {
  await app.open();
  await expect(app.heading('Scan or type a code')).toBeFocused();

  // Past the camera's controls (here: no camera, Try again; image files; auto-pair) to the typed code.
  const deviceId = page.getByLabel('Device ID');
  for (let presses = 0; presses < 6; presses += 1) {
    await page.keyboard.press('Tab');
    if (await deviceId.evaluate((el) => el === document.activeElement)) break;
  }
  await expect(deviceId).toBeFocused();
  // Focus is visible, not just present.
  expect(await page.getByLabel('Device ID').evaluate((el) => getComputedStyle(el).outlineStyle)).toBe('solid');
  await page.keyboard.type('ZM-003');
  await page.keyboard.press('Tab');
  await expect(page.getByLabel('Pairing code')).toBeFocused();
  await page.keyboard.type('k7pm3xq9r');
  await expect(page.getByLabel('Pairing code')).toHaveValue('K7P-M3X-Q9R');
  await page.keyboard.press('Enter');

  await expect(app.heading('Pairings')).toBeFocused();
  for (const state of ['PAIRING', 'CONFIGURING', 'VALIDATING', 'PROVISIONED'] as const) {
    await app.backend.advance('ZM-003', state);
  }
  const link = page.getByRole('link', { name: 'See connected status' });
  await expect(link).toBeVisible();
  for (let presses = 0; presses < 10; presses += 1) {
    if (await link.evaluate((el) => el === document.activeElement)) break;
    await page.keyboard.press('Tab');
  }
  await expect(link).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(app.heading(/^ZM-003/)).toBeVisible();
});
