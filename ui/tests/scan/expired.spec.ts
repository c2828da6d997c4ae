// A camera showing an expired QR: refused with its message while scanning goes on.
import { chromium } from '../chromium';
import { fakeCameraArgs, qrVideo } from '../fake-camera';
import { monitorPayload } from '../fake-scanner';
import { expect, test } from '../fixtures';
import { card, framesPass, MONITOR, viewfinder } from './helpers';

test.use({
  launchOptions: chromium(fakeCameraArgs(qrVideo(JSON.stringify(monitorPayload(MONITOR, -60_000)), 'expired'))),
});

test('is refused with its message while scanning goes on', async ({ app, page }) => {
  await app.open('#/scan');
  const alert = page.getByRole('alert').filter({ hasText: 'QR code expired' });
  await expect(alert).toContainText('choose Enter Provisioning Mode again');
  await expect(card(page)).toHaveCount(0);
  await expect(viewfinder(page)).toHaveAttribute('data-camera-state', 'scanning');
  await framesPass(app, 3);
  expect(app.backend.callsTo('pair_scanned')).toHaveLength(0);
});
