import { ADMIN } from './admin-screens';
import { expect, test } from './fixtures';

test.use({ scenario: ADMIN });

/** Presses Tab until `target` has focus (at most `limit` times). */
async function tabTo(page: import('@playwright/test').Page, target: import('@playwright/test').Locator, limit = 40) {
  for (let presses = 0; presses < limit; presses += 1) {
    if (await target.evaluate((el) => el === document.activeElement)) return;
    await page.keyboard.press('Tab');
  }
  await expect(target).toBeFocused();
}

test('an account created and its temporary password handed over with the keyboard only', async ({ app, page }) => {
  await app.open('#/accounts');
  await expect(app.heading('Accounts')).toBeFocused();

  const newAccount = page.getByRole('button', { name: 'New account' });
  await tabTo(page, newAccount);
  expect(await newAccount.evaluate((el) => getComputedStyle(el).outlineStyle)).toBe('solid');
  await page.keyboard.press('Enter');
  await expect(page.getByLabel('Username')).toBeFocused();
  await page.keyboard.type('rosa');
  await tabTo(page, page.getByLabel('Display name'), 3);
  await page.keyboard.type('Rosa Lind');
  // The role: arrow keys move between the radios.
  await page.keyboard.press('Tab');
  await expect(page.getByRole('radio', { name: 'Technician' })).toBeFocused();
  await page.keyboard.press('ArrowRight');
  await expect(page.getByRole('radio', { name: 'Administrator' })).toBeChecked();
  await page.keyboard.press('Enter');

  const dialog = page.getByRole('dialog', { name: 'Temporary password for rosa' });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByRole('button', { name: 'Copy password' })).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(dialog.getByRole('button', { name: 'Done, I have it' })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(dialog).toHaveCount(0);
  await expect(newAccount).toBeFocused();
  expect(app.backend.callsTo('create_account')).toEqual([
    { account: { username: 'rosa', displayName: 'Rosa Lind', role: 'administrator' } },
  ]);

  // Disabling it: the dialog opens on Cancel, so Enter alone changes nothing.
  const disable = page.getByRole('button', { name: 'Disable rosa' });
  await tabTo(page, disable, 80);
  await page.keyboard.press('Enter');
  await expect(page.getByRole('dialog', { name: 'Disable rosa?' }).getByRole('button', { name: 'Cancel' })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('dialog')).toHaveCount(0);
  await expect(disable).toBeFocused();
  await page.keyboard.press('Enter');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  await expect(page.locator('[data-username="rosa"]')).toContainText('Disabled');
  expect(app.backend.callsTo('disable_account')).toEqual([{ username: 'rosa' }]);
});

test('a monitor de-provisioned with the keyboard only', async ({ app, page }) => {
  await app.open('#/monitors');
  const link = page.getByRole('link', { name: 'De-provision ZM-002' });
  await expect(link).toBeVisible();
  await tabTo(page, link, 60);
  await page.keyboard.press('Enter');
  await expect(app.heading('De-provision ZM-002')).toBeFocused();
  await tabTo(page, page.getByLabel('Reason'));
  await page.keyboard.type('Sent for repair');
  await page.keyboard.press('Tab');
  await expect(page.getByLabel('Type ZM-002 to confirm')).toBeFocused();
  await page.keyboard.type('ZM-002');
  await page.keyboard.press('Enter');
  await expect(app.heading('Monitors')).toBeVisible();
  expect(app.backend.callsTo('deprovision_device')).toEqual([
    { deviceId: 'ZM-002', reason: 'Sent for repair', confirmDeviceId: 'ZM-002' },
  ]);
});
