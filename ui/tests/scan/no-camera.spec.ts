// A device with no camera: the state says what to do; image files and the typed code still work.
import { qrPng } from '../fake-camera';
import { monitorPayload } from '../fake-scanner';
import { expect, test } from '../fixtures';
import { card, MONITOR, viewfinder } from './helpers';

// axe-core is injected as an inline script, which the app's CSP refuses.
test.use({ bypassCSP: true });

test('says so, with what to do, and keeps the typed code and image files', async ({ app, page }) => {
  await app.open('#/scan');
  const alert = page.getByRole('alert').filter({ hasText: 'No camera' });
  await expect(alert).toContainText('Connect a camera and tap Try again');
  await expect(alert.getByRole('button', { name: 'Try again' })).toBeVisible();
  await expect(viewfinder(page)).toBeHidden();
  await expect(page.getByLabel('Device ID')).toBeEditable();
  await expect(page.getByRole('button', { name: 'Scan an image file' })).toBeEnabled();
  await app.expectAccessible();
});

test('a photo of the QR chosen with the file picker is scanned by the same decoder', async ({ app, page }) => {
  await app.open('#/scan');
  const payload = JSON.stringify(monitorPayload(MONITOR));
  const chooser = page.waitForEvent('filechooser');
  await page.getByRole('button', { name: 'Scan an image file' }).click();
  await (await chooser).setFiles({ name: 'monitor.png', mimeType: 'image/png', buffer: await qrPng(payload) });
  await expect(card(page).getByRole('heading', { name: `Found ${MONITOR}` })).toBeVisible();
  expect(app.backend.scanner.frames).toHaveLength(1);
  // A single picture, not a stream's frame: the decoder gives it every pass.
  expect(app.backend.scanner.frames[0]?.index).toBeNull();
});

test('a photo dropped on the screen is scanned', async ({ app, page }) => {
  await app.open('#/scan');
  const png = (await qrPng(JSON.stringify(monitorPayload('ZM-ICU-09')))).toString('base64');
  const dataTransfer = await page.evaluateHandle((data) => {
    const transfer = new DataTransfer();
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    transfer.items.add(new File([bytes], 'dropped.png', { type: 'image/png' }));
    return transfer;
  }, png);
  await page.getByTestId('image-drop').dispatchEvent('drop', { dataTransfer });
  await expect(card(page).getByRole('heading', { name: 'Found ZM-ICU-09' })).toBeVisible();
});

test('a file that is not an image, and an image with no QR, each get their message', async ({ app, page }) => {
  await app.open('#/scan');
  const choose = async (file: { name: string; mimeType: string; buffer: Buffer }) => {
    const chooser = page.waitForEvent('filechooser');
    await page.getByRole('button', { name: 'Scan an image file' }).click();
    await (await chooser).setFiles(file);
  };
  await choose({ name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('not a picture') });
  await expect(page.getByRole('alert').filter({ hasText: 'Image not readable' })).toContainText('notes.png');
  // A white PNG, drawn by the browser itself.
  const blank = Buffer.from(
    await page.evaluate(() => {
      const canvas = document.createElement('canvas');
      canvas.width = 64;
      canvas.height = 64;
      const context = canvas.getContext('2d');
      if (context !== null) {
        context.fillStyle = '#fff';
        context.fillRect(0, 0, 64, 64);
      }
      return canvas.toDataURL('image/png').split(',')[1] ?? '';
    }),
    'base64',
  );
  await choose({ name: 'blank.png', mimeType: 'image/png', buffer: blank });
  await expect(page.getByRole('alert').filter({ hasText: 'No QR code in the image' })).toContainText('blank.png');
});
