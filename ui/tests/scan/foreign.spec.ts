// A camera showing a QR code that is not a Z Monitor's.
import { chromium } from '../chromium';
import { fakeCameraArgs, qrVideo } from '../fake-camera';
import { expect, test } from '../fixtures';
import { framesPass, viewfinder } from './helpers';

test.use({ launchOptions: chromium(fakeCameraArgs(qrVideo('https://example.org/asset/17', 'foreign'))) });

test('is refused as not a Z Monitor code while scanning goes on', async ({ app, page }) => {
  await app.open('#/scan');
  const alert = page.getByRole('alert').filter({ hasText: 'Not a Z Monitor QR code' });
  await expect(alert).toContainText("Scan the QR code on the monitor's provisioning screen");
  await expect(viewfinder(page)).toHaveAttribute('data-camera-state', 'scanning');
  await framesPass(app, 3);
});
