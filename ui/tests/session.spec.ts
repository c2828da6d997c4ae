import { expect, test } from './fixtures';

test('an expired session asks to sign in over the screen and keeps what was typed', async ({ app, page }) => {
  await app.open('#/scan');
  await page.getByLabel('Device ID').fill('ZM-003');
  await page.getByLabel('Pairing code').pressSequentially('k7pm3x');
  await expect(page.getByLabel('Pairing code')).toHaveValue('K7P-M3X');

  await app.backend.expireSession();
  const dialog = page.getByRole('dialog', { name: 'Sign in again' });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByLabel('Username')).toHaveValue('dana');
  await expect(dialog.getByLabel('Password')).toBeFocused();
  await app.screenshot('session-expired');
  await dialog.getByLabel('Password').fill('correct horse');
  await dialog.getByLabel('Password').press('Enter');

  await expect(dialog).toHaveCount(0);
  expect(app.backend.callsTo('sign_in')).toEqual([{ username: 'dana', password: 'correct horse' }]);
  expect(page.url()).toMatch(/#\/scan$/);
  await expect(app.heading('Scan or type a code')).toBeVisible();
  await expect(page.getByLabel('Device ID')).toHaveValue('ZM-003');
  await expect(page.getByLabel('Pairing code')).toHaveValue('K7P-M3X');
});

test('a command refused with session_expired opens the dialog and the form survives', async ({ app, page }) => {
  await app.open('#/devices/ZM-001/reprovision');
  await page.getByLabel('Your password').fill('correct horse');
  await page.getByLabel('Reason').fill('Moved to ward 5');
  await page.getByLabel('Type ZM-001 to confirm').fill('ZM-001');
  app.backend.account = null;
  await page.getByRole('button', { name: 'Re-provision ZM-001' }).click();

  const dialog = page.getByRole('dialog', { name: 'Sign in again' });
  await expect(dialog).toBeVisible();
  await dialog.getByLabel('Password').fill('correct horse');
  await dialog.getByRole('button', { name: 'Sign in' }).click();
  await expect(dialog).toHaveCount(0);

  await expect(app.heading('Re-provision ZM-001')).toBeVisible();
  await expect(page.getByLabel('Reason')).toHaveValue('Moved to ward 5');
  await expect(page.getByLabel('Type ZM-001 to confirm')).toHaveValue('ZM-001');
  await page.getByRole('button', { name: 'Re-provision ZM-001' }).click();
  await expect(app.heading('Scan or type a code')).toBeVisible();
});

test('Escape closes the sign-in dialog and the header brings it back', async ({ app, page }) => {
  await app.open('#/history');
  await app.backend.expireSession();
  const dialog = page.getByRole('dialog', { name: 'Sign in again' });
  await expect(dialog).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(dialog).toHaveCount(0);
  await expect(app.heading('History')).toBeVisible();
  // Whose session it was stays on screen.
  await expect(page.getByRole('banner')).toContainText('Dana Whitfield');

  await page.getByRole('button', { name: 'Session ended: sign in' }).click();
  await expect(dialog).toBeVisible();
});

test('a wrong password in the dialog is reported inside it', async ({ app, page }) => {
  await app.open();
  await app.backend.expireSession();
  const dialog = page.getByRole('dialog', { name: 'Sign in again' });
  await dialog.getByLabel('Password').fill('nope');
  await dialog.getByLabel('Password').press('Enter');
  await expect(dialog.getByRole('alert')).toContainText('Wrong username or password');
  await expect(dialog).toBeVisible();
});

test('15 minutes without input signs out, and any input restarts the count', async ({ app, page }) => {
  await page.clock.install();
  await app.open('#/devices');
  await page.clock.runFor('14:00');
  await page.keyboard.press('Shift');
  await page.clock.runFor('14:00');
  await expect(page.getByRole('banner')).toContainText('Dana Whitfield');
  expect(app.backend.callsTo('sign_out')).toHaveLength(0);

  await page.clock.runFor('01:05');
  await expect(app.heading('Sign in to ZPair')).toBeVisible();
  await expect(page.getByRole('alert')).toContainText('signed out after 15 minutes without activity');
  expect(app.backend.callsTo('sign_out')).toHaveLength(1);
});
