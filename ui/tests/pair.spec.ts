import { messageFor } from './fake-backend';
import { expect, test } from './fixtures';

test('Scan is the primary entry: the camera, image files and the typed code side by side', async ({ app, page }) => {
  await app.open();
  await expect(app.heading('Scan or type a code')).toBeVisible();
  await expect(app.nav('Scan')).toHaveAttribute('aria-current', 'page');
  await expect(page.getByRole('heading', { name: "Scan the monitor's QR code" })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Scan an image file' })).toBeVisible();
  await expect(page.getByLabel('Device ID')).toBeVisible();
  await expect(page.getByLabel('Pairing code')).toBeVisible();
});

test('the code is formatted by check_code as it is typed', async ({ app, page }) => {
  await app.open();
  const code = page.getByLabel('Pairing code');
  await code.pressSequentially('k7pm');
  await expect(code).toHaveValue('K7P-M');
  await code.pressSequentially('3xq9r');
  await expect(code).toHaveValue('K7P-M3X-Q9R');
  await expect(page.getByText('Code complete')).toBeVisible();
  // The raw keystrokes go to Rust; the upper case and dashes on screen are its answer.
  const inputs = app.backend.callsTo('check_code').map((args) => args.input);
  expect(inputs[0]).toBe('k');
  expect(inputs.at(-1)).toMatch(/r$/);
});

test('look-alike letters are folded into the code', async ({ app, page }) => {
  await app.open();
  // Cyrillic К, Р, М and Х, as a Russian keyboard layout types them.
  await page.getByLabel('Pairing code').pressSequentially('к7р-м3х-q9r');
  await expect(page.getByLabel('Pairing code')).toHaveValue('K7P-M3X-Q9R');
  await expect(page.getByText('Code complete')).toBeVisible();
});

test('a character that never appears in a code is an error tied to the field', async ({ app, page }) => {
  await app.open();
  await page.getByLabel('Device ID').fill('ZM-003');
  const code = page.getByLabel('Pairing code');
  await code.pressSequentially('K70');

  await expect(code).toHaveAttribute('aria-invalid', 'true');
  const error = page.locator('#pairing-code-error');
  await expect(error).toHaveRole('alert');
  await expect(error).toContainText("'0' never appears in a pairing code");
  await expect(code).toHaveAccessibleDescription(/never appears in a pairing code/);
  await expect(page.getByRole('button', { name: 'Pair monitor' })).toBeDisabled();
  // Rust leaves the character out of the code it shows back.
  await expect(code).toHaveValue('K7');

  await code.pressSequentially('PM3XQ9R');
  await expect(code).not.toHaveAttribute('aria-invalid');
  await expect(error).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Pair monitor' })).toBeEnabled();
});

test('the caret stays where the technician is editing', async ({ app, page }) => {
  await app.open();
  const code = page.getByLabel('Pairing code');
  await code.pressSequentially('K7PM3XQ9');
  await expect(code).toHaveValue('K7P-M3X-Q9');
  await code.press('Home');
  for (let i = 0; i < 4; i += 1) await code.press('ArrowRight');
  await code.press('A');
  await expect(code).toHaveValue('K7P-AM3-XQ9');
  expect(await code.evaluate((input: HTMLInputElement) => input.selectionStart)).toBe(5);
});

test('Pair is enabled only with a device ID and a complete code, and starts the pairing', async ({ app, page }) => {
  await app.open();
  const pair = page.getByRole('button', { name: 'Pair monitor' });
  await expect(pair).toBeDisabled();
  await page.getByLabel('Pairing code').pressSequentially('k7pm3xq9r');
  await expect(pair).toBeDisabled();
  await page.getByLabel('Device ID').fill('   ');
  await expect(pair).toBeDisabled();
  await page.getByLabel('Device ID').fill(' ZM-003 ');
  await expect(pair).toBeEnabled();
  await pair.click();

  await expect(app.heading('Pairings')).toBeVisible();
  expect(app.backend.callsTo('start_pairing')).toEqual([{ deviceId: 'ZM-003', code: 'K7P-M3X-Q9R' }]);
  await expect(page.getByTestId('pairing').filter({ hasText: 'ZM-003' })).toContainText('Sending request');
});

test('a pairing refused before its start is answered shows the refusal, not the request', async ({ app, page }) => {
  // The station can refuse within milliseconds: Rust announces the failed pairing before the
  // start_pairing answer (the pairing as it was sent) reaches the page.
  const release = app.backend.holdAnswer('start_pairing');
  await pairWith(app, page);
  await expect.poll(() => app.backend.callsTo('start_pairing').length).toBe(1);
  await app.backend.failPairing('ZM-003', 'device_deprovisioned');
  release();

  await expect(app.heading('Pairings')).toBeVisible();
  const card = page.getByTestId('pairing').filter({ hasText: 'ZM-003' });
  await expect(card.getByRole('alert')).toContainText(messageFor('device_deprovisioned'));
  await expect(card).toContainText('Failed');
});

async function pairWith(app: { open: () => Promise<void> }, page: import('@playwright/test').Page) {
  await app.open();
  await page.getByLabel('Device ID').fill('ZM-003');
  await page.getByLabel('Pairing code').pressSequentially('k7pm3xq9r');
  await page.getByRole('button', { name: 'Pair monitor' }).click();
}

test('an unknown device ID is marked on the device field', async ({ app, page }) => {
  app.backend.failNext('start_pairing', 'unknown_device');
  await pairWith(app, page);
  const device = page.getByLabel('Device ID');
  await expect(device).toHaveAttribute('aria-invalid', 'true');
  await expect(device).toHaveAccessibleDescription(new RegExp(messageFor('unknown_device')));
  await expect(app.heading('Scan or type a code')).toBeVisible();
  await device.fill('ZM-004');
  await expect(device).not.toHaveAttribute('aria-invalid');
});

test('a code the station refuses is marked on the code field', async ({ app, page }) => {
  app.backend.failNext('start_pairing', 'invalid_code');
  await pairWith(app, page);
  const code = page.getByLabel('Pairing code');
  await expect(code).toHaveAttribute('aria-invalid', 'true');
  await expect(code).toHaveAccessibleDescription(new RegExp(messageFor('invalid_code')));
});

test('a monitor already being paired links to its progress', async ({ app, page }) => {
  app.backend.failNext('start_pairing', 'pairing_in_progress');
  await pairWith(app, page);
  const alert = page.getByRole('region', { name: 'Or type the code' }).getByRole('alert');
  await expect(alert).toContainText('Already pairing this monitor');
  await alert.getByRole('link', { name: 'See pairings in progress' }).click();
  await expect(app.heading('Pairings')).toBeVisible();
});

for (const [code, title] of [
  ['token_replayed', 'QR code already used'],
  ['rate_limited', 'Too many attempts'],
  ['forbidden_role', 'Not allowed for your role'],
  ['station_unreachable', 'Cannot reach the Central Station'],
] as const) {
  test(`start_pairing refused with ${code} is explained and the form kept`, async ({ app, page }) => {
    app.backend.failNext('start_pairing', code);
    await pairWith(app, page);
    const alert = page.getByRole('region', { name: 'Or type the code' }).getByRole('alert');
    await expect(alert).toContainText(title);
    await expect(alert).toContainText(messageFor(code));
    await expect(page.getByLabel('Device ID')).toHaveValue('ZM-003');
    await expect(page.getByLabel('Pairing code')).toHaveValue('K7P-M3X-Q9R');
  });
}
