import type { ErrorCode } from '../src/bindings/ErrorCode';
import { messageFor } from './fake-backend';
import { expect, test } from './fixtures';
import { shownTime } from './helpers';

const card = (page: import('@playwright/test').Page, deviceId: string) =>
  page.getByTestId('pairing').and(page.locator(`[data-device="${deviceId}"]`));

test('progress arrives live, each step with its time, and is announced politely', async ({ app, page }) => {
  app.backend.seedPairing('ZM-003', 'SUBMITTING');
  await app.open('#/watch');
  const pairing = card(page, 'ZM-003');
  await expect(pairing).toContainText('Sending request');

  const steps = pairing.getByRole('listitem');
  for (const [state, label] of [
    ['PAIRING', 'Pairing'],
    ['CONFIGURING', 'Configuring'],
    ['VALIDATING', 'Testing connection'],
  ] as const) {
    const updated = await app.backend.advance('ZM-003', state);
    const step = updated.steps.at(-1);
    if (step === undefined) throw new Error('no step');
    await expect(steps.last()).toContainText(label);
    await expect(steps.last()).toContainText(step.message);
    await expect(steps.last()).toContainText(shownTime(step.at));
    await expect(app.liveRegion()).toHaveText(`ZM-003: ${label}. ${step.message}`);
  }
  await expect(steps).toHaveCount(4);
  await expect(steps.nth(1)).toContainText('+1.2 s');
  await app.screenshot('pairing-in-progress');

  await app.backend.advance('ZM-003', 'PROVISIONED');
  await expect(pairing.getByText('Provisioned', { exact: true }).first()).toBeVisible();
  await expect(app.liveRegion()).toContainText('ZM-003: Provisioned.');
  await pairing.getByRole('link', { name: 'See connected status' }).click();
  await expect(app.heading(/^ZM-003/)).toBeVisible();
});

test('a lost commit answer shows as confirming with the monitor, then its outcome', async ({ app, page }) => {
  app.backend.seedPairing('ZM-003', 'VALIDATING');
  await app.open('#/watch');
  const pairing = card(page, 'ZM-003');
  const updated = await app.backend.advance('ZM-003', 'CONFIRMING');
  const step = updated.steps.at(-1);
  if (step === undefined) throw new Error('no step');
  await expect(pairing.getByRole('listitem').last()).toContainText('Confirming with the monitor');
  await expect(pairing.getByRole('listitem').last()).toContainText(step.message);
  await expect(app.liveRegion()).toHaveText(`ZM-003: Confirming with the monitor. ${step.message}`);
  await app.backend.advance('ZM-003', 'PROVISIONED');
  await expect(pairing.getByText('Provisioned', { exact: true }).first()).toBeVisible();
});

test('progress is announced while the technician is on another screen', async ({ app }) => {
  app.backend.seedPairing('ZM-003', 'PAIRING');
  await app.open('#/devices');
  await app.backend.advance('ZM-003', 'CONFIGURING');
  await expect(app.liveRegion()).toContainText('ZM-003: Configuring.');
});

test('several monitors in flight are listed together, newest first', async ({ app, page }) => {
  app.backend.seedPairing('ZM-003', 'CONFIGURING');
  app.backend.seedPairing('ZM-005', 'PAIRING');
  await app.open('#/watch');
  expect(app.backend.callsTo('list_pairings').length).toBeGreaterThan(0);
  await expect(page.getByTestId('pairing')).toHaveCount(2);
  await expect(app.nav('Pairings')).toHaveAccessibleName('Pairings 2 in progress');
  await expect(page.getByText('2 pairings in progress')).toBeVisible();

  await app.backend.advance('ZM-005', 'VALIDATING');
  await expect(card(page, 'ZM-005')).toContainText('Testing connection');
  await expect(card(page, 'ZM-003')).not.toContainText('Testing connection');

  await app.nav('Scan').click();
  await page.getByLabel('Device ID').fill('ZM-002');
  await page.getByLabel('Pairing code').pressSequentially('k7pm3xq9r');
  await page.getByRole('button', { name: 'Pair monitor' }).click();
  await expect(page.getByTestId('pairing')).toHaveCount(3);
  await expect(page.getByTestId('pairing').first()).toHaveAttribute('data-device', 'ZM-002');
  await expect(app.nav('Pairings')).toHaveAccessibleName('Pairings 3 in progress');
});

test('finished pairings can be dismissed; those in flight cannot', async ({ app, page }) => {
  const done = app.backend.seedPairing('ZM-003', 'PROVISIONED');
  app.backend.seedPairing('ZM-005', 'PAIRING');
  await app.open('#/watch');
  await expect(card(page, 'ZM-005').getByRole('button', { name: /Dismiss/ })).toHaveCount(0);
  await card(page, 'ZM-003').getByRole('button', { name: 'Dismiss ZM-003' }).click();

  await expect(card(page, 'ZM-003')).toHaveCount(0);
  await expect(card(page, 'ZM-005')).toBeVisible();
  expect(app.backend.callsTo('dismiss_pairing')).toEqual([{ pairingId: done.pairingId }]);
});

test('a failed list of pairings can be loaded again', async ({ app, page }) => {
  app.backend.seedPairing('ZM-003', 'PAIRING');
  app.backend.failNext('list_pairings', 'app_internal', 'The pairing list could not be read. Try again.');
  await app.open('#/watch');
  await expect(page.getByRole('alert')).toContainText('The pairing list could not be read');
  await page.getByRole('button', { name: 'Try again' }).click();
  await expect(card(page, 'ZM-003')).toBeVisible();
});

const FAILURES: [ErrorCode, string][] = [
  ['code_mismatch', 'Pairing code did not match'],
  ['code_expired', 'Pairing code expired'],
  ['token_stale', 'QR code out of date'],
  ['provisioning_closed', 'Provisioning mode closed'],
  ['not_in_provisioning_mode', 'Monitor not in provisioning mode'],
  ['signature_invalid', 'Configuration refused by the monitor'],
  ['config_expired', 'Configuration arrived too late'],
  ['certificate_invalid', 'Certificate refused by the monitor'],
  ['monitor_unreachable', 'Cannot reach the monitor'],
  ['connection_test_failed', 'Connection test failed'],
  ['interrupted', 'Pairing interrupted'],
  ['commit_unconfirmed', 'Monitor did not confirm'],
];

for (const [code, title] of FAILURES) {
  test(`a ${code} failure shows its reason`, async ({ app, page }) => {
    app.backend.seedPairing('ZM-003', 'CONFIGURING');
    await app.open('#/watch');
    await app.backend.failPairing('ZM-003', code);
    const alert = card(page, 'ZM-003').getByRole('alert');
    await expect(alert).toContainText(title);
    await expect(alert).toContainText(messageFor(code));
    await expect(card(page, 'ZM-003')).toContainText('Failed');
    await expect(app.liveRegion()).toContainText(`ZM-003: Failed. ${messageFor(code)}`);
  });
}

test('next action retry: tries again with the same pairing', async ({ app, page }) => {
  const pairing = app.backend.seedPairing('ZM-003', 'CONFIGURING');
  await app.open('#/watch');
  await app.backend.failPairing('ZM-003', 'monitor_unreachable');
  await app.screenshot('pairing-failed');
  await card(page, 'ZM-003').getByRole('button', { name: 'Try again' }).click();

  expect(app.backend.callsTo('retry_pairing')).toEqual([{ pairingId: pairing.pairingId }]);
  await expect(card(page, 'ZM-003').getByRole('alert')).toHaveCount(0);
  await expect(card(page, 'ZM-003').getByRole('listitem').last()).toContainText('Trying again with the same code');
});

test('next action reenter_code: back to the code form with the device ID filled', async ({ app, page }) => {
  app.backend.seedPairing('ZM-003', 'CONFIGURING');
  await app.open('#/watch');
  await app.backend.failPairing('ZM-003', 'code_mismatch', 'typed');
  await card(page, 'ZM-003').getByRole('link', { name: 'Enter the code again' }).click();

  await expect(app.heading('Scan or type a code')).toBeVisible();
  await expect(page.getByLabel('Device ID')).toHaveValue('ZM-003');
  await expect(page.getByLabel('Pairing code')).toHaveValue('');
  await expect(page.getByLabel('Pairing code')).toBeFocused();
});

test('next action rescan: to the Scan screen', async ({ app, page }) => {
  app.backend.seedPairing('ZM-003', 'PAIRING');
  await app.open('#/watch');
  await app.backend.failPairing('ZM-003', 'code_mismatch', 'scanned');
  await card(page, 'ZM-003').getByRole('link', { name: 'Scan the QR code again' }).click();
  await expect(app.heading('Scan or type a code')).toBeVisible();
  await expect(page.getByRole('heading', { name: "Scan the monitor's QR code" })).toBeVisible();
});

test('next action call_it: says to contact IT, with no button to press', async ({ app, page }) => {
  app.backend.seedPairing('ZM-003', 'CONFIGURING');
  await app.open('#/watch');
  await app.backend.failPairing('ZM-003', 'signature_invalid');
  const alert = card(page, 'ZM-003').getByRole('alert');
  await expect(alert).toContainText('Contact IT: this cannot be fixed at the bedside');
  await expect(alert.getByRole('button')).toHaveCount(0);
  await expect(alert.getByRole('link')).toHaveCount(0);
});

test('next action reprovision: a paired monitor is re-provisioned before it is paired again', async ({
  app,
  page,
}) => {
  app.backend.seedPairing('ZM-001', 'SUBMITTING');
  await app.open('#/watch');
  await app.backend.failPairing('ZM-001', 'reprovision_required');
  const alert = card(page, 'ZM-001').getByRole('alert');
  await expect(alert).toContainText('Re-provision this monitor first');
  await expect(alert).toContainText(messageFor('reprovision_required'));
  await alert.getByRole('link', { name: 'Re-provision ZM-001' }).click();
  await expect(app.heading('Re-provision ZM-001')).toBeVisible();
});

test('a de-provisioned monitor: an administrator re-admits it, nothing to press here', async ({ app, page }) => {
  app.backend.seedPairing('ZM-003', 'SUBMITTING');
  await app.open('#/watch');
  await app.backend.failPairing('ZM-003', 'device_deprovisioned');
  const alert = card(page, 'ZM-003').getByRole('alert');
  await expect(alert).toContainText('Monitor de-provisioned');
  await expect(alert).toContainText('Ask an administrator to re-admit it');
  await expect(alert.getByRole('button')).toHaveCount(0);
});

test('next action sign_in: opens the sign-in dialog', async ({ app, page }) => {
  app.backend.seedPairing('ZM-003', 'SUBMITTING');
  await app.open('#/watch');
  await app.backend.failPairing('ZM-003', 'session_expired');
  await card(page, 'ZM-003').getByRole('button', { name: 'Sign in again' }).click();
  const dialog = page.getByRole('dialog', { name: 'Sign in again' });
  await expect(dialog).toBeVisible();
  await dialog.getByLabel('Password').fill('correct horse');
  await dialog.getByLabel('Password').press('Enter');
  await expect(dialog).toHaveCount(0);
  await expect(card(page, 'ZM-003')).toBeVisible();
});
