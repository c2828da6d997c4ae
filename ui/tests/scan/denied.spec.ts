// A camera the technician did not allow.
import { chromium } from '../chromium';
import { expect, test } from '../fixtures';

// A camera is there, but the permission prompt is refused.
test.use({ launchOptions: chromium(['--use-fake-device-for-media-stream', '--deny-permission-prompts']) });

test('says how to allow it, and offers to try again', async ({ app, page }) => {
  await app.open('#/scan');
  const alert = page.getByRole('alert').filter({ hasText: 'Camera not allowed' });
  await expect(alert).toContainText('Allow camera access for ZPair');
  await expect(alert.getByRole('button', { name: 'Try again' })).toBeVisible();
});
