import { CA_FINGERPRINT, CA_PEM, STATION_URL, messageFor } from './fake-backend';
import { expect, test } from './fixtures';
import { STATION_FINGERPRINT_GROUPED, grouped, squeezed } from './helpers';

test.describe('signed out', () => {
  test.use({ scenario: { account: null } });

  test('an untrusted station at sign-in says so and leads to setting up trust again', async ({ app, page }) => {
    app.backend.failNext('sign_in', 'station_untrusted');
    await app.open();
    await page.getByLabel('Username').fill('dana');
    await page.getByLabel('Password').fill('correct horse');
    await page.getByRole('button', { name: 'Sign in' }).click();

    const alert = page.getByRole('alert');
    await expect(alert).toContainText('Central Station not trusted');
    await expect(alert).toContainText(messageFor('station_untrusted'));
    await alert.getByRole('link', { name: 'Set up trust again' }).click();

    await expect(app.heading('Central Station and trust')).toBeVisible();
    await expect(page.getByRole('alert')).toContainText('it has changed since this tablet was set up');
    await expect(page.getByLabel('Central Station URL')).toHaveValue(STATION_URL);
    await page.getByRole('button', { name: "Read the station's certificate" }).click();
    // After "the certificate changed", only the fingerprint from IT (or the CA file) re-trusts.
    await page.getByLabel('Fingerprint IT gave you (SHA-256)').fill(STATION_FINGERPRINT_GROUPED);
    await page.getByRole('button', { name: 'Compare and trust this station' }).click();

    await expect(app.heading('Sign in to ZPair')).toBeVisible();
    expect(app.backend.callsTo('trust_station_fingerprint')).toHaveLength(1);
  });
});

test('an untrusted station while signed in leads to trust set-up inside the app', async ({ app, page }) => {
  app.backend.failNext('list_devices', 'station_untrusted');
  await app.open('#/devices');
  await page.getByRole('alert').getByRole('link', { name: 'Set up trust again' }).click();

  await expect(app.heading('Central Station and trust')).toBeVisible();
  await expect(app.nav('Settings')).toHaveAttribute('aria-current', 'page');
  await page.getByRole('radio', { name: /Import the hospital CA/ }).check();
  await page
    .getByLabel('Hospital CA certificate (PEM file)')
    .setInputFiles({ name: 'hospital-ca.pem', mimeType: 'application/x-pem-file', buffer: Buffer.from(CA_PEM) });
  await page.getByRole('button', { name: 'Trust this CA' }).click();

  await expect(app.heading('Settings')).toBeVisible();
  await expect(page.getByRole('status').filter({ hasText: 'Central Station trust updated' })).toBeVisible();
  const trust = page.getByTestId('current-trust');
  await expect(trust).toContainText('Hospital CA certificate');
  expect(squeezed(await trust.locator('dd').last().textContent())).toBe(grouped(CA_FINGERPRINT));
  // The account is asked for again: a new station may have ended the session.
  expect(app.backend.callsTo('get_account')).toHaveLength(2);
  await expect(page.getByTestId('account')).toContainText('Dana Whitfield');
});

test('Settings shows the station, its trust and the account, and can change the station', async ({ app, page }) => {
  await app.open('#/settings');
  const trust = page.getByTestId('current-trust');
  await expect(trust).toContainText(STATION_URL);
  await expect(trust).toContainText('Confirmed certificate fingerprint');
  await expect(trust).toContainText(app.backend.probe.subject);
  expect(squeezed(await trust.locator('dd').last().textContent())).toBe(STATION_FINGERPRINT_GROUPED);
  const account = page.getByRole('region', { name: 'Account' });
  await expect(account).toContainText('Dana Whitfield');
  await expect(account).toContainText('dana');
  await expect(account).toContainText('Technician');
  await expect(page.getByTestId('sign-in-store')).toHaveText(/Sign-in kept in\s*the kernel's session keyring \(ends at logout\)/);

  await page.getByRole('link', { name: 'Change station or set up trust again' }).click();
  await expect(app.heading('Central Station and trust')).toBeVisible();
  await expect(page.getByLabel('Central Station URL')).toHaveValue(STATION_URL);
  await page.getByRole('link', { name: 'Cancel' }).click();
  await expect(app.heading('Settings')).toBeVisible();
});

test.describe('without a usable system keyring', () => {
  test.use({ scenario: { signInKeptIn: null } });

  test('Settings says the sign-in cannot be kept', async ({ app, page }) => {
    await app.open('#/settings');
    await expect(page.getByTestId('sign-in-store')).toContainText('no usable system keyring');
  });
});
