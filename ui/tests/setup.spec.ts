import { CA_PEM, MESSAGES, STATION_FINGERPRINT, STATION_URL } from './fake-backend';
import { expect, test } from './fixtures';
import { STATION_FINGERPRINT_GROUPED, shownDateTime, squeezed } from './helpers';

test.use({ scenario: { firstRun: true, account: null } });

test('first run: the station is trusted by confirming its fingerprint', async ({ app, page }) => {
  await app.open();
  await expect(app.heading('Set up the Central Station')).toBeVisible();
  await page.getByLabel('Central Station URL').fill(STATION_URL);
  await page.getByRole('button', { name: "Read the station's certificate" }).click();

  expect(app.backend.callsTo('probe_station')).toEqual([{ stationUrl: STATION_URL }]);
  const card = page.getByRole('region', { name: "The station's certificate" });
  expect(squeezed(await card.getByTestId('probe-fingerprint').textContent())).toBe(STATION_FINGERPRINT_GROUPED);
  await expect(card).toContainText(app.backend.probe.subject);
  await expect(card).toContainText(app.backend.probe.issuer);
  await expect(card).toContainText(shownDateTime(app.backend.probe.notAfter));
  await app.screenshot('setup-fingerprint');

  await card.getByRole('button', { name: 'Yes, it matches: trust this station' }).click();
  await expect(app.heading('Sign in to ZPair')).toBeVisible();
  expect(app.backend.callsTo('trust_station_fingerprint')).toEqual([
    { stationUrl: STATION_URL, fingerprint: STATION_FINGERPRINT },
  ]);
});

test('a fingerprint that does not match is never trusted', async ({ app, page }) => {
  await app.open();
  await page.getByLabel('Central Station URL').fill(STATION_URL);
  await page.getByLabel('Central Station URL').press('Enter');
  await page.getByRole('button', { name: 'No, it does not match' }).click();

  await expect(page.getByRole('alert')).toContainText('Do not trust this station');
  await expect(page.getByRole('region', { name: "The station's certificate" })).toHaveCount(0);
  expect(app.backend.callsTo('trust_station_fingerprint')).toEqual([]);
  await expect(app.heading('Set up the Central Station')).toBeVisible();
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

  await expect(page.getByRole('alert')).toContainText(MESSAGES.invalid_ca ?? '');
  await expect(app.heading('Set up the Central Station')).toBeVisible();
});

test('an unreachable station is reported while reading its certificate', async ({ app, page }) => {
  app.backend.failNext('probe_station', 'station_unreachable');
  await app.open();
  await page.getByLabel('Central Station URL').fill(STATION_URL);
  await page.getByRole('button', { name: "Read the station's certificate" }).click();

  const alert = page.getByRole('alert');
  await expect(alert).toContainText('Cannot reach the Central Station');
  await expect(alert).toContainText(MESSAGES.station_unreachable ?? '');
});
