import { ADMINISTRATOR, messageFor } from './fake-backend';
import { expect, test } from './fixtures';

test('a technician re-provisions with password, reason and the exact device ID, then pairs again', async ({
  app,
  page,
}) => {
  await app.open('#/devices/ZM-001');
  await page.getByRole('link', { name: 'Re-provision ZM-001…' }).click();
  await expect(app.heading('Re-provision ZM-001')).toBeVisible();
  const confirm = page.getByRole('button', { name: 'Re-provision ZM-001' });

  await expect(confirm).toBeDisabled();
  await page.getByLabel('Your password').fill('correct horse');
  await page.getByLabel('Reason').fill('Moved to ward 5');
  await page.getByLabel('Type ZM-001 to confirm').fill('zm-001');
  await expect(confirm).toBeDisabled();
  await expect(page.getByLabel('Type ZM-001 to confirm')).toHaveAccessibleDescription('Does not match ZM-001 yet.');
  await page.getByLabel('Type ZM-001 to confirm').fill('ZM-001');
  await expect(confirm).toBeEnabled();
  await page.getByLabel('Reason').fill('   ');
  await expect(confirm).toBeDisabled();
  await page.getByLabel('Reason').fill('Moved to ward 5');
  await app.screenshot('reprovision');
  await confirm.click();

  expect(app.backend.callsTo('reprovision')).toEqual([
    { deviceId: 'ZM-001', password: 'correct horse', reason: 'Moved to ward 5', confirmDeviceId: 'ZM-001' },
  ]);
  await expect(app.heading('Scan or type a code')).toBeVisible();
  await expect(page.getByRole('status').filter({ hasText: 'back in provisioning mode' })).toContainText(
    'The monitor now shows a new QR code and a new pairing code',
  );
  await expect(page.getByLabel('Device ID')).toHaveValue('ZM-001');
  await expect(page.getByLabel('Pairing code')).toBeFocused();
});

test.describe('as an administrator', () => {
  test.use({ scenario: { account: ADMINISTRATOR } });

  test('the button is disabled and says why', async ({ app, page }) => {
    await app.open('#/devices/ZM-001');
    const button = page.getByRole('button', { name: 'Re-provision ZM-001…' });
    await expect(button).toBeDisabled();
    await expect(button).toHaveAccessibleDescription('Re-provisioning needs the Technician role');
    await expect(page.getByText('Re-provisioning needs the Technician role')).toBeVisible();
  });

  test('the form is not offered even at its address', async ({ app, page }) => {
    await app.open('#/devices/ZM-001/reprovision');
    await expect(page.getByRole('alert')).toContainText('Re-provisioning needs the Technician role');
    await expect(page.getByLabel('Your password')).toHaveCount(0);
  });
});

async function fillAndConfirm(page: import('@playwright/test').Page, password = 'correct horse') {
  await page.getByLabel('Your password').fill(password);
  await page.getByLabel('Reason').fill('Moved to ward 5');
  await page.getByLabel('Type ZM-001 to confirm').fill('ZM-001');
  await page.getByRole('button', { name: 'Re-provision ZM-001' }).click();
}

test('a wrong password is marked on the password field, cleared and focused', async ({ app, page }) => {
  await app.open('#/devices/ZM-001/reprovision');
  await fillAndConfirm(page, 'wrong');
  const password = page.getByLabel('Your password');
  await expect(password).toHaveAttribute('aria-invalid', 'true');
  await expect(password).toHaveAccessibleDescription(new RegExp(messageFor('invalid_credentials')));
  await expect(password).toHaveValue('');
  await expect(password).toBeFocused();
  await expect(page.getByLabel('Reason')).toHaveValue('Moved to ward 5');
});

test('confirmation_required asks for the password again', async ({ app, page }) => {
  app.backend.failNext('reprovision', 'confirmation_required');
  await app.open('#/devices/ZM-001/reprovision');
  await fillAndConfirm(page);
  await expect(page.getByRole('alert')).toContainText('Password confirmation needed');
  await expect(page.getByLabel('Your password')).toHaveValue('');
  await expect(page.getByLabel('Your password')).toBeFocused();
});

test('confirmation_mismatch is marked on the confirmation field', async ({ app, page }) => {
  app.backend.failNext('reprovision', 'confirmation_mismatch');
  await app.open('#/devices/ZM-001/reprovision');
  await fillAndConfirm(page);
  const confirmation = page.getByLabel('Type ZM-001 to confirm');
  await expect(confirmation).toHaveAttribute('aria-invalid', 'true');
  await expect(confirmation).toHaveAccessibleDescription(new RegExp(messageFor('confirmation_mismatch')));
});

for (const [code, title] of [
  ['forbidden_role', 'Not allowed for your role'],
  ['monitor_unreachable', 'Cannot reach the monitor'],
  ['unknown_device', 'Unknown monitor'],
] as const) {
  test(`reprovision refused with ${code} is explained`, async ({ app, page }) => {
    app.backend.failNext('reprovision', code);
    await app.open('#/devices/ZM-001/reprovision');
    await fillAndConfirm(page);
    await expect(page.getByRole('alert')).toContainText(title);
    await expect(page.getByRole('alert')).toContainText(messageFor(code));
    await expect(app.heading('Re-provision ZM-001')).toBeVisible();
  });
}
