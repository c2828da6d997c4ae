import { CA_PEM, STATION_FINGERPRINT, STATION_URL, messageFor } from './fake-backend';
import { expect, test } from './fixtures';
import { STATION_FINGERPRINT_GROUPED, shownDateTime, squeezed } from './helpers';

test.use({ scenario: { firstRun: true, account: null } });

test('first run: the station is trusted by typing the fingerprint IT gave', async ({ app, page }) => {
  await app.open();
  await expect(app.heading('Set up the Central Station')).toBeVisible();
  await page.getByLabel('Central Station URL').fill(STATION_URL);
  await page.getByRole('button', { name: "Read the station's certificate" }).click();

  expect(app.backend.callsTo('probe_station')).toEqual([{ stationUrl: STATION_URL }]);
  const card = page.getByRole('region', { name: "The station's certificate" });
  await expect(card).toContainText(app.backend.probe.subject);
  await expect(card).toContainText(app.backend.probe.issuer);
  await expect(card).toContainText(shownDateTime(app.backend.probe.notAfter));
  // Nothing to copy: the station's own fingerprint is not on the screen.
  expect(squeezed(await page.locator('body').textContent())).not.toContain(STATION_FINGERPRINT_GROUPED);
  const trust = card.getByRole('button', { name: 'Compare and trust this station' });
  await expect(trust).toBeDisabled();

  // As IT hands it out: upper case, in pairs with colons.
  await card.getByLabel('Fingerprint IT gave you (SHA-256)').fill(STATION_FINGERPRINT_GROUPED);
  await expect(card.getByTestId('typed-count')).toHaveText('64 of 64 characters');
  await app.screenshot('setup-fingerprint');
  await trust.click();
  await expect(app.heading('Sign in to ZPair')).toBeVisible();
  expect(app.backend.callsTo('trust_station_fingerprint')).toEqual([
    { stationUrl: STATION_URL, fingerprint: STATION_FINGERPRINT },
  ]);
});

test('a typed fingerprint that does not match is never trusted', async ({ app, page }) => {
  await app.open();
  await page.getByLabel('Central Station URL').fill(STATION_URL);
  await page.getByLabel('Central Station URL').press('Enter');
  const card = page.getByRole('region', { name: "The station's certificate" });
  const wrong = STATION_FINGERPRINT.slice(0, 63) + (STATION_FINGERPRINT.endsWith('0') ? '1' : '0');
  await card.getByLabel('Fingerprint IT gave you (SHA-256)').fill(wrong);
  await card.getByRole('button', { name: 'Compare and trust this station' }).click();

  await expect(page.getByRole('alert').filter({ hasText: 'Do not trust this station' })).toBeVisible();
  expect(app.backend.callsTo('trust_station_fingerprint')).toEqual([{ stationUrl: STATION_URL, fingerprint: wrong }]);
  await expect(app.heading('Set up the Central Station')).toBeVisible();
});

test('a fingerprint with characters that are not hexadecimal cannot be sent', async ({ app, page }) => {
  await app.open();
  await page.getByLabel('Central Station URL').fill(STATION_URL);
  await page.getByLabel('Central Station URL').press('Enter');
  const card = page.getByRole('region', { name: "The station's certificate" });
  await card.getByLabel('Fingerprint IT gave you (SHA-256)').fill('ZZ' + STATION_FINGERPRINT.slice(2));
  await expect(card.getByText('A fingerprint has only the characters 0–9 and A–F.')).toBeVisible();
  await expect(card.getByRole('button', { name: 'Compare and trust this station' })).toBeDisabled();
});

test('changing the URL discards a certificate read from the old one', async ({ app, page }) => {
  await app.open();
  await page.getByLabel('Central Station URL').fill(STATION_URL);
  await page.getByRole('button', { name: "Read the station's certificate" }).click();
  await expect(page.getByRole('region', { name: "The station's certificate" })).toBeVisible();
  await page.getByLabel('Central Station URL').fill('https://other-station.hospital.test');
  await expect(page.getByRole('region', { name: "The station's certificate" })).toHaveCount(0);
});

test('first run: the station is trusted by importing the hospital CA file', async ({ app, page }) => {
  await app.open();
  await page.getByLabel('Central Station URL').fill(STATION_URL);
  await page.getByRole('radio', { name: /Import the hospital CA/ }).check();
  const trust = page.getByRole('button', { name: 'Trust this CA' });
  await expect(trust).toBeDisabled();
  await page
    .getByLabel('Hospital CA certificate (PEM file)')
    .setInputFiles({ name: 'hospital-ca.pem', mimeType: 'application/x-pem-file', buffer: Buffer.from(CA_PEM) });
  await expect(page.getByText('Chosen: hospital-ca.pem')).toBeVisible();
  await app.screenshot('setup-ca');
  await trust.click();

  await expect(app.heading('Sign in to ZPair')).toBeVisible();
  expect(app.backend.callsTo('trust_station_ca')).toEqual([{ stationUrl: STATION_URL, caPem: CA_PEM }]);
});

test('a CA file the Rust side refuses shows its message', async ({ app, page }) => {
  await app.open();
  await page.getByLabel('Central Station URL').fill(STATION_URL);
  await page.getByRole('radio', { name: /Import the hospital CA/ }).check();
  await page
    .getByLabel('Hospital CA certificate (PEM file)')
    .setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a certificate') });
  await page.getByRole('button', { name: 'Trust this CA' }).click();

  await expect(page.getByRole('alert')).toContainText(messageFor('invalid_trust_anchor'));
  await expect(app.heading('Set up the Central Station')).toBeVisible();
});

test('an unreachable station is reported while reading its certificate', async ({ app, page }) => {
  app.backend.failNext('probe_station', 'station_unreachable');
  await app.open();
  await page.getByLabel('Central Station URL').fill(STATION_URL);
  await page.getByRole('button', { name: "Read the station's certificate" }).click();

  const alert = page.getByRole('alert');
  await expect(alert).toContainText('Cannot reach the Central Station');
  await expect(alert).toContainText(messageFor('station_unreachable'));
});

test.describe('started with --station, as the demo does', () => {
  test.use({ scenario: { firstRun: true, account: null, suggestedStationUrl: STATION_URL } });

  test('the address is filled in and only the fingerprint is left to compare', async ({ app, page }) => {
    await app.open();
    await expect(page.getByLabel('Central Station URL')).toHaveValue(STATION_URL);
    await page.getByRole('button', { name: "Read the station's certificate" }).click();
    expect(app.backend.callsTo('probe_station')).toEqual([{ stationUrl: STATION_URL }]);
    // Nothing is trusted until the fingerprint is typed and compared.
    expect(app.backend.callsTo('trust_station_fingerprint')).toEqual([]);
    await expect(app.heading('Set up the Central Station')).toBeVisible();
  });
});
