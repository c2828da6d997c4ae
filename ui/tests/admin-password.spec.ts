// The password-change gate: an account with a temporary password sees only
// "Change your password" until it has chosen its own.
import { ADMIN } from './admin-screens';
import { NEW_TECHNICIAN, messageFor } from './fake-backend';
import { expect, test } from './fixtures';

test.describe('signed in with a temporary password', () => {
  test.use({ scenario: { account: NEW_TECHNICIAN } });

  test('only the password change is shown, its rules said as it is typed, then the app opens', async ({
    app,
    page,
  }) => {
    await app.open('#/devices');
    await expect(app.heading('Change your password')).toBeFocused();
    await expect(page.getByRole('navigation', { name: 'Main' })).toHaveCount(0);
    await expect(page.getByText('Kim Tran (kim), your password is a temporary one')).toBeVisible();
    const submit = page.getByRole('button', { name: 'Change password' });
    await expect(submit).toBeDisabled();

    const next = page.getByLabel('New password', { exact: true });
    const repeat = page.getByLabel('Repeat the new password');
    await page.getByLabel('Current password').fill('Temp-4821-kx');
    await next.fill('short');
    await expect(next).toHaveAccessibleDescription('7 more characters needed (at least 12).');
    await next.fill('Temp-4821-kx');
    await expect(next).toHaveAccessibleDescription('Must differ from the current password.');
    await next.fill('a long new passphrase');
    await expect(next).toHaveAccessibleDescription('Long enough.');
    await repeat.fill('a long new passphrasE');
    await expect(repeat).toHaveAccessibleDescription('Does not match the new password yet.');
    await expect(submit).toBeDisabled();
    await repeat.fill('a long new passphrase');
    await expect(repeat).toHaveAccessibleDescription('Matches the new password.');
    await submit.click();

    await expect(app.heading('Devices')).toBeVisible();
    await expect(page.getByRole('navigation', { name: 'Main' })).toBeVisible();
    expect(app.backend.callsTo('change_password')).toEqual([
      { currentPassword: 'Temp-4821-kx', newPassword: 'a long new passphrase' },
    ]);
    await expect(app.liveRegion()).toHaveText('Your password was changed.');
    // Nothing the station would refuse was asked before the change.
    expect(app.backend.calls.findIndex((c) => c.command === 'list_devices')).toBeGreaterThan(
      app.backend.calls.findIndex((c) => c.command === 'change_password'),
    );
  });

  test('a wrong current password is marked on its field, cleared and focused', async ({ app, page }) => {
    await app.open();
    await page.getByLabel('Current password').fill('not it');
    await page.getByLabel('New password', { exact: true }).fill('a long new passphrase');
    await page.getByLabel('Repeat the new password').fill('a long new passphrase');
    await page.getByRole('button', { name: 'Change password' }).click();
    const current = page.getByLabel('Current password');
    await expect(current).toHaveAttribute('aria-invalid', 'true');
    await expect(current).toHaveAccessibleDescription(/This is not your current password/);
    await expect(current).toHaveValue('');
    await expect(current).toBeFocused();
    await expect(app.heading('Change your password')).toBeVisible();
  });

  test("the station's other refusals are explained", async ({ app, page }) => {
    app.backend.failNext('change_password', 'account_locked');
    await app.open();
    await page.getByLabel('Current password').fill('Temp-4821-kx');
    await page.getByLabel('New password', { exact: true }).fill('a long new passphrase');
    await page.getByLabel('Repeat the new password').fill('a long new passphrase');
    await page.getByRole('button', { name: 'Change password' }).click();
    await expect(page.getByRole('alert')).toContainText('Account locked');
    await expect(page.getByRole('alert')).toContainText(messageFor('account_locked'));
  });

  test('signing out from it returns to the sign-in screen', async ({ app, page }) => {
    await app.open();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(app.heading('Sign in to ZPair')).toBeVisible();
  });
});

test.describe('signing in', () => {
  test.use({ scenario: { account: null } });

  test('with a temporary password leads to the password change first', async ({ app, page }) => {
    await app.open();
    await page.getByLabel('Username').fill('kim');
    await page.getByLabel('Password').fill('Temp-4821-kx');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(app.heading('Change your password')).toBeVisible();
  });
});

test.describe('during a session', () => {
  test.use({ scenario: ADMIN });

  test('a password reset meanwhile (password_change_required) brings the gate up', async ({ app, page }) => {
    app.backend.failNext('search_devices', 'password_change_required');
    await app.open('#/monitors');
    await expect(app.heading('Change your password')).toBeVisible();
    await page.getByLabel('Current password').fill('battery staple');
    await page.getByLabel('New password', { exact: true }).fill('a better staple now');
    await page.getByLabel('Repeat the new password').fill('a better staple now');
    await page.getByRole('button', { name: 'Change password' }).click();
    await expect(app.heading('Monitors')).toBeVisible();
    await expect(page.getByTestId('registry-row')).toHaveCount(25);
  });
});
