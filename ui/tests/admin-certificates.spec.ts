import { ADMIN } from './admin-screens';
import { messageFor } from './fake-backend';
import { expect, test } from './fixtures';

test.use({ scenario: ADMIN });

test('three sections: expiring soonest first, renewed and revoked, each with device, serial and dates', async ({
  app,
  page,
}) => {
  await app.open('#/certificates');
  const expiring = page.getByRole('region', { name: /Expiring within 30 days/ });
  const renewed = page.getByRole('region', { name: /Renewed in the last 30 days/ });
  const revoked = page.getByRole('region', { name: /Revoked in the last 30 days/ });
  await expect(expiring.getByRole('heading')).toHaveText('Expiring within 30 days (10)');
  await expect(expiring.getByTestId('certificate-row')).toHaveCount(10);
  const ends = await expiring
    .locator('[data-testid="certificate-row"] td:last-child time')
    .evaluateAll((times) => times.map((t) => t.getAttribute('datetime') ?? ''));
  expect(ends).toEqual([...ends].sort());
  // The one that already ended is first, and says so.
  await expect(expiring.getByTestId('certificate-row').first()).toContainText('ZM-004');
  await expect(expiring.getByTestId('certificate-row').first()).toContainText(/Ended \w+ \d+, \d{4}/);
  await expect(expiring.getByTestId('certificate-row').first()).toContainText('4f2a049c11');

  await expect(renewed.getByTestId('certificate-row')).toHaveCount(6);
  await expect(renewed.getByTestId('certificate-row').first()).toContainText('ZM-001');
  await expect(revoked.getByTestId('certificate-row')).toHaveCount(7);
  await expect(revoked).toContainText('Monitor re-provisioned');
  await expect(revoked).toContainText('Monitor de-provisioned');
});

test('a de-provisioned monitor shows up among the revoked certificates', async ({ app, page }) => {
  await app.open('#/monitors/ZM-001/deprovision');
  await page.getByLabel('Reason').fill('Sent for repair');
  await page.getByLabel('Type ZM-001 to confirm').fill('ZM-001');
  await page.getByRole('button', { name: 'De-provision ZM-001' }).click();
  await expect(app.heading('Monitors')).toBeVisible();
  await app.nav('Certificates').click();
  const revoked = page.getByRole('region', { name: /Revoked in the last 30 days/ });
  await expect(revoked.getByTestId('certificate-row').first()).toContainText('ZM-001');
  await expect(revoked.getByTestId('certificate-row').first()).toContainText('Monitor de-provisioned');
});

test('empty sections say there is nothing in them', async ({ app, page }) => {
  app.backend.admin.renewed = [];
  app.backend.admin.revoked = [];
  for (const device of app.backend.devices.values()) {
    if (device.status.certificate) device.status.certificate.notAfter = new Date(Date.now() + 200 * 86400_000).toISOString();
  }
  await app.open('#/certificates');
  await expect(page.getByText('No certificate ends in the next 30 days.')).toBeVisible();
  await expect(page.getByText('No certificate was renewed in the last 30 days.')).toBeVisible();
  await expect(page.getByText('No certificate was revoked in the last 30 days.')).toBeVisible();
});

test('says it is loading, explains a failure and loads again', async ({ app, page }) => {
  const release = app.backend.hold('certificate_overview');
  app.backend.failNext('certificate_overview', 'station_busy');
  await app.open('#/certificates');
  await expect(page.getByRole('status').filter({ hasText: 'Loading certificates…' })).toBeVisible();
  release();
  const alert = page.getByRole('alert');
  await expect(alert).toContainText('Central Station busy');
  await expect(alert).toContainText(messageFor('station_busy'));
  await alert.getByRole('button', { name: 'Try again' }).click();
  await expect(page.getByTestId('certificate-row').first()).toBeVisible();
});
