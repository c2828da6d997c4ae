import { STATION_URL, messageFor } from './fake-backend';
import { expect, test } from './fixtures';
import { shownDateTime } from './helpers';

test('the device list shows every registered monitor with its state', async ({ app, page }) => {
  await app.open('#/devices');
  const devices = page.getByRole('list', { name: 'Devices' }).getByRole('listitem');
  await expect(devices).toHaveCount(5);
  await expect(devices.nth(0)).toContainText('ZM-001');
  await expect(devices.nth(0)).toContainText('ICU 3 bed 01 · Bed ICU3-01');
  await expect(devices.nth(0)).toContainText('Provisioned');
  await expect(devices.nth(2)).toContainText('Not paired');
  await expect(devices.nth(4)).toContainText('Waiting to be paired again');
  expect(app.backend.callsTo('list_devices')).toHaveLength(1);
  await app.screenshot('devices');
});

test("a monitor's connected status shows every detail", async ({ app, page }) => {
  await app.open('#/devices');
  await page.getByRole('link', { name: /ZM-001/ }).click();
  await expect(app.heading('ZM-001 · ICU 3 bed 01')).toBeVisible();
  const status = app.backend.status('ZM-001');
  const certificate = status.certificate;
  if (certificate === null || status.lastConnected === null) throw new Error('fixture without certificate');

  await expect(page.getByTestId('connection-state')).toHaveText('Connected');
  await expect(page.getByText(STATION_URL)).toBeVisible();
  await expect(page.getByTestId('last-connected')).toContainText(/\d+ seconds ago/);
  await expect(page.getByTestId('last-connected')).toContainText(shownDateTime(status.lastConnected));
  await expect(page.getByTestId('uptime')).toHaveText('3 d 4 h');
  await expect(page.getByTestId('heartbeats')).toHaveText('9,250');
  await expect(page.getByTestId('bytes-sent')).toHaveText('4.7 MB');
  await expect(page.getByTestId('errors')).toHaveText('0');
  await expect(page.getByText(certificate.serial)).toBeVisible();
  await expect(page.getByTestId('validity')).toHaveText('Valid');
  await expect(page.getByTestId('expires')).toContainText(shownDateTime(certificate.notAfter));
  await expect(page.getByTestId('expires')).toContainText('in 10 months');
  expect(app.backend.callsTo('device_status')[0]).toEqual({ deviceId: 'ZM-001' });
  await app.screenshot('device-status');
});

for (const [deviceId, label, tone] of [
  ['ZM-002', 'Expiring soon', 'warn'],
  ['ZM-004', 'Expired', 'bad'],
  ['ZM-005', 'Revoked', 'bad'],
] as const) {
  test(`a certificate that is ${label.toLowerCase()} is marked in words and with an icon`, async ({ app, page }) => {
    await app.open(`#/devices/${deviceId}`);
    const badge = page.getByTestId('validity').locator('.badge');
    await expect(badge).toHaveText(label);
    await expect(badge).toHaveClass(new RegExp(tone));
    await expect(badge.locator('svg')).toHaveCount(1);
  });
}

test('a monitor that never connected says so and offers to pair it', async ({ app, page }) => {
  await app.open('#/devices/ZM-003');
  await expect(page.getByTestId('connection-state')).toHaveText('Never connected');
  await expect(page.getByTestId('last-connected')).toHaveText('Never');
  await expect(page.getByText('No certificate: this monitor has not been paired.')).toBeVisible();
  await page.getByRole('link', { name: 'Pair this monitor' }).click();
  await expect(page.getByLabel('Device ID')).toHaveValue('ZM-003');
});

test('a monitor the station refused shows the alert, and none shows without one', async ({ app, page }) => {
  await app.open('#/devices/ZM-001');
  await expect(page.getByTestId('heartbeats')).toHaveText('9,250');
  await expect(page.getByTestId('device-alert')).toHaveCount(0);

  const message = 'The monitor presented a certificate the Central Station refused (revoked).';
  const at = new Date(Date.now() - 60_000).toISOString();
  app.backend.status('ZM-002').alert = { message, at };
  await app.open('#/devices/ZM-002');
  const alert = page.getByTestId('device-alert');
  await expect(alert).toContainText('This monitor believes it is paired and is not');
  await expect(alert).toContainText(message);
  await expect(alert).toContainText(shownDateTime(at));
});

test('a disconnected monitor is marked with its last connection', async ({ app, page }) => {
  await app.open('#/devices/ZM-002');
  await expect(page.getByTestId('connection-state')).toHaveText('Disconnected');
  await expect(page.getByTestId('last-connected')).toContainText('2 hours ago');
  await expect(page.getByTestId('errors')).toHaveText('3');
});

test('details refresh every 3 s while visible, and stop when hidden or left', async ({ app, page }) => {
  await page.clock.install();
  await app.open('#/devices/ZM-001');
  await expect(page.getByTestId('heartbeats')).toHaveText('9,250');
  const polls = () => app.backend.callsTo('device_status').length;
  expect(polls()).toBe(1);

  app.backend.status('ZM-001').counters.heartbeats = 9300;
  await page.clock.runFor(3000);
  await expect(page.getByTestId('heartbeats')).toHaveText('9,300');
  expect(polls()).toBe(2);

  await page.evaluate(() => {
    Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
  });
  await page.clock.runFor(12_000);
  expect(polls()).toBe(2);

  app.backend.status('ZM-001').counters.heartbeats = 9400;
  await page.evaluate(() => {
    Object.defineProperty(document, 'visibilityState', { value: 'visible', configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
  });
  await expect(page.getByTestId('heartbeats')).toHaveText('9,400');
  expect(polls()).toBe(3);

  await page.getByRole('link', { name: 'All devices' }).click();
  await expect(app.heading('Devices')).toBeVisible();
  await page.clock.runFor(12_000);
  expect(polls()).toBe(3);
});

test('an unknown monitor is reported and not asked about again', async ({ app, page }) => {
  await page.clock.install();
  await app.open('#/devices/ZM-999');
  const alert = page.getByRole('alert');
  await expect(alert).toContainText('Unknown monitor');
  await expect(alert).toContainText(messageFor('unknown_device'));
  await page.clock.runFor(9000);
  expect(app.backend.callsTo('device_status')).toHaveLength(1);
  await page.getByRole('link', { name: 'All devices' }).click();
  await expect(app.heading('Devices')).toBeVisible();
});

test('a failing refresh keeps the last details and recovers on the next poll', async ({ app, page }) => {
  await page.clock.install();
  await app.open('#/devices/ZM-001');
  await expect(page.getByTestId('heartbeats')).toHaveText('9,250');
  app.backend.failNext('device_status', 'station_unreachable');
  await page.clock.runFor(3000);
  await expect(page.getByRole('alert')).toContainText('Cannot reach the Central Station');
  await expect(page.getByTestId('heartbeats')).toHaveText('9,250');
  await page.clock.runFor(3000);
  await expect(page.getByRole('alert')).toHaveCount(0);
});

test('a device list that fails to load can be loaded again', async ({ app, page }) => {
  app.backend.failNext('list_devices', 'station_unreachable');
  await app.open('#/devices');
  await expect(page.getByRole('alert')).toContainText(messageFor('station_unreachable'));
  await page.getByRole('alert').getByRole('button', { name: 'Try again' }).click();
  await expect(page.getByRole('list', { name: 'Devices' }).getByRole('listitem')).toHaveCount(5);
});
