import { messageFor } from './fake-backend';
import { expect, test } from './fixtures';

test.describe('signed out', () => {
  test.use({ scenario: { account: null } });

  test('signing in shows the name and role in the header on every screen', async ({ app, page }) => {
    await app.open();
    await expect(app.heading('Sign in to ZPair')).toBeVisible();
    await page.getByLabel('Username').fill('dana');
    await page.getByLabel('Password').fill('correct horse');
    await page.getByLabel('Password').press('Enter');

    await expect(app.heading('Scan or type a code')).toBeVisible();
    expect(app.backend.callsTo('sign_in')).toEqual([{ username: 'dana', password: 'correct horse' }]);
    for (const [tab, heading] of [
      ['Pairings', 'Pairings'],
      ['Devices', 'Devices'],
      ['History', 'History'],
      ['Settings', 'Settings'],
      ['Scan', 'Scan or type a code'],
    ] as const) {
      await app.nav(tab).click();
      await expect(app.heading(heading)).toBeVisible();
      const header = page.getByRole('banner');
      await expect(header).toContainText('Dana Whitfield');
      await expect(header).toContainText('Technician');
    }
  });

  test('an administrator sees their role in the header', async ({ app, page }) => {
    await app.open();
    await page.getByLabel('Username').fill('sam');
    await page.getByLabel('Password').fill('battery staple');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('banner')).toContainText('Sam Okafor');
    await expect(page.getByRole('banner')).toContainText('Administrator');
  });

  test('a wrong password is reported, cleared and ready to type again', async ({ app, page }) => {
    await app.open();
    await page.getByLabel('Username').fill('dana');
    await page.getByLabel('Password').fill('wrong');
    await page.getByRole('button', { name: 'Sign in' }).click();

    const alert = page.getByRole('alert');
    await expect(alert).toContainText('Wrong username or password');
    await expect(alert).toContainText(messageFor('invalid_credentials'));
    await expect(page.getByLabel('Password')).toHaveValue('');
    await expect(page.getByLabel('Password')).toBeFocused();
    await expect(page.getByLabel('Username')).toHaveValue('dana');
  });

  test('a locked account is reported', async ({ app, page }) => {
    app.backend.failNext('sign_in', 'account_locked');
    await app.open();
    await page.getByLabel('Username').fill('dana');
    await page.getByLabel('Password').fill('correct horse');
    await page.getByRole('button', { name: 'Sign in' }).click();

    const alert = page.getByRole('alert');
    await expect(alert).toContainText('Account locked');
    await expect(alert).toContainText(messageFor('account_locked'));
    await expect(app.heading('Sign in to ZPair')).toBeVisible();
  });

  test('Sign in stays disabled until both username and password are there', async ({ app, page }) => {
    await app.open();
    const signIn = page.getByRole('button', { name: 'Sign in' });
    await expect(signIn).toBeDisabled();
    await page.getByLabel('Username').fill('dana');
    await expect(signIn).toBeDisabled();
    await page.getByLabel('Password').fill('x');
    await expect(signIn).toBeEnabled();
  });
});

test('a restored session opens straight on the Scan screen', async ({ app, page }) => {
  await app.open();
  await expect(app.heading('Scan or type a code')).toBeVisible();
  await expect(page.getByRole('banner')).toContainText('Dana Whitfield');
  expect(app.backend.callsTo('get_account')).toHaveLength(1);
  expect(app.backend.callsTo('sign_in')).toHaveLength(0);
});

test('signing out returns to the sign-in screen', async ({ app, page }) => {
  await app.open('#/devices');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(app.heading('Sign in to ZPair')).toBeVisible();
  await expect(page.getByRole('banner')).toHaveCount(0);
  expect(app.backend.callsTo('sign_out')).toHaveLength(1);
});

test('a failed sign-out is reported and the technician stays signed in', async ({ app, page }) => {
  app.backend.failNext('sign_out', 'station_unreachable');
  await app.open();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'Cannot reach the Central Station' })).toBeVisible();
  await expect(page.getByRole('banner')).toContainText('Dana Whitfield');
});
