import { messageFor } from './fake-backend';
import { expect, test } from './fixtures';
import { shownDateTime } from './helpers';

test('history lists what this technician did, newest first, with the outcome', async ({ app, page }) => {
  await app.open('#/history');
  const entries = page.getByTestId('history-entry');
  await expect(entries).toHaveCount(3);
  const [oldest, , newest] = app.backend.history;
  if (oldest === undefined || newest === undefined) throw new Error('fixture history');

  await expect(entries.nth(0)).toContainText('Re-provisioned ZM-005');
  await expect(entries.nth(0)).toContainText('Started');
  await expect(entries.nth(0)).toContainText('2 hours ago');
  await expect(entries.nth(0)).toContainText(shownDateTime(newest.at));
  await expect(entries.nth(1)).toContainText('Paired ZM-002');
  await expect(entries.nth(1)).toContainText('Failed');
  await expect(entries.nth(1)).toContainText('Pairing code expired');
  await expect(entries.nth(2)).toContainText('Paired ZM-001');
  await expect(entries.nth(2)).toContainText('Provisioned');
  await expect(entries.nth(2)).toContainText(shownDateTime(oldest.at));
  await app.screenshot('history');
});

test('a pairing done now shows up in history with its outcome', async ({ app, page }) => {
  await app.open();
  await page.getByLabel('Device ID').fill('ZM-003');
  await page.getByLabel('Pairing code').pressSequentially('k7pm3xq9r');
  await page.getByRole('button', { name: 'Pair monitor' }).click();
  await expect(app.heading('Pairings')).toBeVisible();
  await app.backend.advance('ZM-003', 'PROVISIONED');
  await app.nav('History').click();
  const first = page.getByTestId('history-entry').first();
  await expect(first).toContainText('Paired ZM-003');
  await expect(first).toContainText('Provisioned');
});

test('an empty history says what will appear there', async ({ app, page }) => {
  app.backend.history = [];
  await app.open('#/history');
  await expect(page.getByText('Nothing yet.')).toBeVisible();
});

test('a history that fails to load can be loaded again', async ({ app, page }) => {
  app.backend.failNext('history', 'history_unavailable');
  await app.open('#/history');
  await expect(page.getByRole('alert')).toContainText(messageFor('history_unavailable'));
  await page.getByRole('alert').getByRole('button', { name: 'Try again' }).click();
  await expect(page.getByTestId('history-entry')).toHaveCount(3);
});
