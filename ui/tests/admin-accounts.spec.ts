import { ADMIN } from './admin-screens';
import { messageFor } from './fake-backend';
import { expect, test } from './fixtures';

test.use({ scenario: ADMIN });

const card = (page: import('@playwright/test').Page, username: string) =>
  page.locator(`[data-testid="account-card"][data-username="${username}"]`);

test('lists every account with what stands out about it', async ({ app, page }) => {
  await app.open('#/accounts');
  await expect(page.getByRole('list', { name: 'Accounts' }).getByTestId('account-card')).toHaveCount(7);
  await expect(card(page, 'dana')).toContainText('Dana Whitfield');
  await expect(card(page, 'dana')).toContainText('Active');
  await expect(card(page, 'dana')).toContainText('Signed in on 1 device');
  await expect(card(page, 'ana')).toContainText('Disabled');
  await expect(card(page, 'lee')).toContainText(/Locked until \d+:\d\d [AP]M/);
  await expect(card(page, 'kim')).toContainText('Must change password');
  await expect(card(page, 'kim')).toContainText('never signed in');
  await expect(card(page, 'joe')).toContainText('Signed in on 2 devices');
  await expect(card(page, 'sam')).toContainText('You');
  await expect(card(page, 'ruth')).toContainText('Administrator');
  // Only what applies is offered.
  await expect(card(page, 'lee').getByRole('button', { name: 'Unlock lee' })).toBeVisible();
  await expect(card(page, 'dana').getByRole('button', { name: /Unlock/ })).toHaveCount(0);
  await expect(card(page, 'ana').getByRole('button', { name: 'Enable ana' })).toBeVisible();
  await expect(card(page, 'ana').getByRole('button', { name: /End sessions/ })).toHaveCount(0);
});

test.describe('a new account', () => {
  test.use({ permissions: ['clipboard-read', 'clipboard-write'] });

  test('gets a temporary password, shown once with a copy button, then never again', async ({ app, page }) => {
    await app.open('#/accounts');
    await page.getByRole('button', { name: 'New account' }).click();
    const create = page.getByRole('button', { name: 'Create account' });
    await expect(page.getByLabel('Username')).toBeFocused();
    await page.getByLabel('Username').fill('rosa lind');
    await expect(page.getByLabel('Username')).toHaveAccessibleDescription(
      "Only a–z, 0–9, '.', '_' and '-' (no capitals or spaces).",
    );
    await expect(create).toBeDisabled();
    await page.getByLabel('Username').fill('rosa');
    await page.getByLabel('Display name').fill('Rosa Lind');
    await page.getByRole('radio', { name: 'Administrator' }).check();
    await create.click();

    const dialog = page.getByRole('dialog', { name: 'Temporary password for rosa' });
    await expect(dialog).toBeVisible();
    const password = app.backend.admin.accounts.get('rosa')?.password ?? '';
    expect(password).toMatch(/^\w{4}-\w{4}-\w{4}-\w{4}$/);
    await expect(dialog.getByTestId('temporary-password')).toHaveText(password);
    await expect(dialog).toHaveAccessibleDescription(/Shown once\. ZPair does not keep it and cannot show it again/);
    expect(app.backend.callsTo('create_account')).toEqual([
      { account: { username: 'rosa', displayName: 'Rosa Lind', role: 'administrator' } },
    ]);
    await app.screenshot('admin-temporary-password');

    // Escape does not lose it.
    await page.keyboard.press('Escape');
    await expect(dialog).toBeVisible();
    await dialog.getByRole('button', { name: 'Copy password' }).click();
    await expect(dialog.getByRole('status')).toHaveText('Copied to the clipboard.');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(password);

    await dialog.getByRole('button', { name: 'Done, I have it' }).click();
    await expect(dialog).toHaveCount(0);
    await expect(page.getByRole('button', { name: 'New account' })).toBeFocused();
    expect(await page.content()).not.toContain(password);
    await expect(card(page, 'rosa')).toContainText('Must change password');
    await expect(card(page, 'rosa')).toContainText('Administrator');

    // Leaving and coming back shows the account, never the password.
    await app.nav('Monitors').click();
    await app.nav('Accounts').click();
    await expect(card(page, 'rosa')).toBeVisible();
    expect(await page.content()).not.toContain(password);
  });

  test('a username already taken is refused with the station’s reason', async ({ app, page }) => {
    await app.open('#/accounts');
    await page.getByRole('button', { name: 'New account' }).click();
    await page.getByLabel('Username').fill('dana');
    await page.getByLabel('Display name').fill('Another Dana');
    await page.getByRole('button', { name: 'Create account' }).click();
    const alert = page.getByRole('alert');
    await expect(alert).toContainText('Request not accepted');
    await expect(alert).toContainText('An account named dana already exists.');
    await expect(page.getByRole('dialog')).toHaveCount(0);
  });

  test('Cancel closes the form without creating anything', async ({ app, page }) => {
    await app.open('#/accounts');
    await page.getByRole('button', { name: 'New account' }).click();
    await page.getByLabel('Username').fill('rosa');
    await page.getByRole('button', { name: 'Cancel' }).click();
    await expect(page.getByLabel('Username')).toHaveCount(0);
    await expect(page.getByRole('button', { name: 'New account' })).toBeFocused();
    expect(app.backend.callsTo('create_account')).toEqual([]);
  });
});

test('resetting a password asks first, then shows the new temporary password once', async ({ app, page }) => {
  await app.open('#/accounts');
  await card(page, 'joe').getByRole('button', { name: 'Reset password of joe' }).click();
  const confirm = page.getByRole('dialog', { name: 'Reset the password of joe?' });
  await expect(confirm).toContainText('signed out everywhere');
  await expect(confirm.getByRole('button', { name: 'Cancel' })).toBeFocused();
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  await expect(confirm).toHaveCount(0);
  expect(app.backend.callsTo('reset_password')).toEqual([]);

  await card(page, 'joe').getByRole('button', { name: 'Reset password of joe' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Reset password' }).click();
  const shown = page.getByRole('dialog', { name: 'Temporary password for joe' });
  await expect(shown).toBeVisible();
  await expect(shown.getByTestId('temporary-password')).toHaveText(app.backend.admin.accounts.get('joe')?.password ?? '');
  expect(app.backend.callsTo('reset_password')).toEqual([{ username: 'joe' }]);
  await shown.getByRole('button', { name: 'Done, I have it' }).click();
  await expect(card(page, 'joe')).toContainText('Must change password');
  await expect(card(page, 'joe')).toContainText('Not signed in anywhere');
});

test('a locked account is unlocked in one tap', async ({ app, page }) => {
  await app.open('#/accounts');
  await card(page, 'lee').getByRole('button', { name: 'Unlock lee' }).click();
  await expect(card(page, 'lee')).not.toContainText('Locked');
  await expect(card(page, 'lee')).toContainText('Active');
  expect(app.backend.callsTo('unlock_account')).toEqual([{ username: 'lee' }]);
  await expect(app.liveRegion()).toHaveText('lee is unlocked and can sign in again.');
});

test('disabling and enabling ask first, and the card follows', async ({ app, page }) => {
  await app.open('#/accounts');
  await card(page, 'joe').getByRole('button', { name: 'Disable joe' }).click();
  const dialog = page.getByRole('dialog', { name: 'Disable joe?' });
  await dialog.getByRole('button', { name: 'Disable account' }).click();
  await expect(dialog).toHaveCount(0);
  await expect(card(page, 'joe')).toContainText('Disabled');
  await expect(card(page, 'joe')).toContainText('Not signed in anywhere');

  await card(page, 'joe').getByRole('button', { name: 'Enable joe' }).click();
  await page.getByRole('dialog', { name: 'Enable joe?' }).getByRole('button', { name: 'Enable account' }).click();
  await expect(card(page, 'joe')).toContainText('Active');
  expect(app.backend.callsTo('disable_account')).toEqual([{ username: 'joe' }]);
  expect(app.backend.callsTo('enable_account')).toEqual([{ username: 'joe' }]);
});

test('the last administrator is refused with the station’s reason, in the dialog', async ({ app, page }) => {
  await app.open('#/accounts');
  await card(page, 'sam').getByRole('button', { name: 'Disable sam' }).click();
  const dialog = page.getByRole('dialog', { name: 'Disable sam?' });
  await dialog.getByRole('button', { name: 'Disable account' }).click();
  const alert = dialog.getByRole('alert');
  await expect(alert).toContainText('Administrator needed');
  await expect(alert).toContainText(messageFor('last_administrator'));
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(card(page, 'sam')).toContainText('Active');
});

test('ending sessions signs the account out everywhere', async ({ app, page }) => {
  await app.open('#/accounts');
  await card(page, 'joe').getByRole('button', { name: 'End sessions of joe' }).click();
  await page.getByRole('dialog', { name: 'End the sessions of joe?' }).getByRole('button', { name: 'End sessions' }).click();
  await expect(card(page, 'joe')).toContainText('Not signed in anywhere');
  await expect(card(page, 'joe').getByRole('button', { name: /End sessions/ })).toHaveCount(0);
  expect(app.backend.callsTo('end_account_sessions')).toEqual([{ username: 'joe' }]);
});

test('an unlock that fails says so on the account', async ({ app, page }) => {
  app.backend.failNext('unlock_account', 'unknown_user');
  await app.open('#/accounts');
  await card(page, 'lee').getByRole('button', { name: 'Unlock lee' }).click();
  await expect(card(page, 'lee').getByRole('alert')).toContainText('Unknown account');
  await expect(card(page, 'lee')).toContainText('Locked until');
});

test('says it is loading, and explains a list that cannot be read', async ({ app, page }) => {
  const release = app.backend.hold('list_accounts');
  app.backend.failNext('list_accounts', 'forbidden_role');
  await app.open('#/accounts');
  await expect(page.getByRole('status').filter({ hasText: 'Loading accounts…' })).toBeVisible();
  release();
  const alert = page.getByRole('alert');
  await expect(alert).toContainText('Not allowed for your role');
  await expect(alert).toContainText(messageFor('forbidden_role'));
  await alert.getByRole('button', { name: 'Try again' }).click();
  await expect(page.getByTestId('account-card')).toHaveCount(7);
});

test('an empty list says what to do', async ({ app, page }) => {
  app.backend.admin.accounts.clear();
  await app.open('#/accounts');
  await expect(page.getByText('No accounts yet. Create one for each technician and administrator.')).toBeVisible();
});
