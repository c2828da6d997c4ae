// A camera showing a monitor in provisioning mode: found, shown, paired once; the camera released on leaving.
import { chromium } from '../chromium';
import { fakeCameraArgs, qrVideo, VIDEO_HEIGHT, VIDEO_WIDTH } from '../fake-camera';
import { monitorPayload } from '../fake-scanner';
import { expect, test } from '../fixtures';
import { card, framesPass, MONITOR, viewfinder } from './helpers';

// axe-core is injected as an inline script, which the app's CSP refuses.
test.use({
  bypassCSP: true,
  launchOptions: chromium(fakeCameraArgs(qrVideo(JSON.stringify(monitorPayload(MONITOR)), 'monitor'))),
});

test('the monitor in view is found, shown and paired with one tap', async ({ app, page }) => {
  await app.open('#/scan');
  await expect(card(page)).toBeVisible();
  await expect(card(page).getByRole('heading', { name: `Found ${MONITOR}` })).toBeVisible();
  await expect(card(page)).toContainText(`SN-${MONITOR}`);
  await expect(card(page)).toContainText('10.20.30.40');
  await expect(card(page)).toContainText('3.2.1');
  await expect(card(page).getByText(/^\d+:\d\d$/)).toBeVisible();
  // The page sent the camera's frames as grey pixels, one byte each, numbered
  // in their stream so the decoder can take its costlier passes in turn.
  expect(app.backend.scanner.frames[0]).toEqual({ width: VIDEO_WIDTH, height: VIDEO_HEIGHT, index: 0 });
  expect(app.backend.scanner.frames.map((frame) => frame.index)).toEqual(app.backend.scanner.frames.map((_, i) => i));
  await expect(viewfinder(page).locator('polygon')).toHaveCount(1);
  await expect(app.liveRegion()).toHaveText(`Found monitor ${MONITOR}.`);
  await app.expectAccessible();
  await app.screenshot('scan-found');

  await card(page).getByRole('button', { name: `Pair ${MONITOR}` }).click();
  await expect(page.getByTestId('pairing').and(page.locator(`[data-device="${MONITOR}"]`))).toBeVisible();
  expect(app.backend.callsTo('pair_scanned')).toEqual([{ scanId: 'scan-1' }]);
});

test('the same QR is never sent twice: back on Scan it shows as pairing', async ({ app, page }) => {
  await app.open('#/scan');
  await card(page).getByRole('button', { name: `Pair ${MONITOR}` }).click();
  await app.nav('Scan').click();
  await expect(viewfinder(page).getByRole('status')).toHaveText(`${MONITOR} is pairing: see its progress under Pairings.`);
  await framesPass(app, 5);
  await expect(card(page)).toHaveCount(0);
  expect(app.backend.callsTo('pair_scanned')).toHaveLength(1);
});

test('a pairing that cannot start keeps the card for another tap; an expired one takes it away', async ({ app, page }) => {
  await app.open('#/scan');
  app.backend.failNext('pair_scanned', 'station_unreachable');
  await card(page).getByRole('button', { name: `Pair ${MONITOR}` }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'Cannot reach the Central Station' })).toBeVisible();
  await expect(card(page)).toHaveCount(1);
  app.backend.failNext('pair_scanned', 'qr_expired');
  await card(page).getByRole('button', { name: `Pair ${MONITOR}` }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'QR code expired' })).toBeVisible();
  await expect(card(page)).toHaveCount(0);
});

test('"Not this one" puts the monitor away while its QR stays in view', async ({ app, page }) => {
  await app.open('#/scan');
  await card(page).getByRole('button', { name: 'Not this one' }).click();
  await expect(card(page)).toHaveCount(0);
  await framesPass(app, 5);
  await expect(card(page)).toHaveCount(0);
  expect(app.backend.callsTo('dismiss_scanned')).toEqual([{ scanId: 'scan-1' }]);
});

test('with "pair as soon as found" on, the monitor pairs without a tap', async ({ app, page }) => {
  await page.addInitScript(() => {
    localStorage.setItem('zpair.scan.autoPair', 'true');
  });
  await app.open('#/scan');
  await expect(page.getByRole('switch', { name: 'Pair as soon as a monitor is found' })).toBeChecked();
  await expect.poll(() => app.backend.callsTo('pair_scanned')).toEqual([{ scanId: 'scan-1' }]);
  await expect(viewfinder(page).getByRole('status')).toContainText(`${MONITOR} is pairing`);
  await expect(app.nav('Pairings')).toHaveAccessibleName('Pairings 1 in progress');
});

test('leaving the Scan screen releases the camera', async ({ app, page }) => {
  // Watch the real getUserMedia, so the test sees every track the page opened.
  await page.addInitScript(() => {
    const opened: MediaStreamTrack[] = [];
    (window as unknown as { __tracks: MediaStreamTrack[] }).__tracks = opened;
    const open = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
    navigator.mediaDevices.getUserMedia = async (constraints) => {
      const stream = await open(constraints);
      opened.push(...stream.getTracks());
      return stream;
    };
  });
  const states = () =>
    page.evaluate(() => (window as unknown as { __tracks: MediaStreamTrack[] }).__tracks.map((t) => t.readyState));
  await app.open('#/scan');
  await expect(card(page)).toBeVisible();
  expect(await states()).toEqual(['live']);
  await app.nav('Devices').click();
  await expect.poll(states).toEqual(['ended']);
  const sent = app.backend.scanner.frames.length;
  await page.waitForTimeout(500);
  expect(app.backend.scanner.frames.length).toBe(sent);
});
