import { ADMIN } from './admin-screens';
import { EXPORT_DIR } from './fake-admin';
import { messageFor } from './fake-backend';
import { expect, test } from './fixtures';

test.use({ scenario: ADMIN });

const rowIds = async (page: import('@playwright/test').Page): Promise<number[]> =>
  (await page.getByTestId('audit-row').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-id')))).map(Number);

test('shows the newest rows first and loads older ones page by page to the end', async ({ app, page }) => {
  await app.open('#/audit');
  await expect(page.getByTestId('audit-row')).toHaveCount(50);
  const first = await rowIds(page);
  expect(first[0]).toBe(260);
  expect(first).toEqual([...first].sort((a, b) => b - a));
  await expect(page.getByTestId('audit-count')).toHaveText('50 rows, newest first.');

  const older = page.getByRole('button', { name: 'Load older rows' });
  await older.click();
  await expect(page.getByTestId('audit-row')).toHaveCount(100);
  expect(app.backend.callsTo('audit_page')).toEqual([{ query: { limit: 50 } }, { query: { before: 211, limit: 50 } }]);
  for (let page_ = 3; page_ <= 6; page_ += 1) await older.click();
  await expect(page.getByTestId('audit-row')).toHaveCount(260);
  await expect(older).toHaveCount(0);
  await expect(page.getByTestId('audit-count')).toHaveText('260 rows, newest first: that is all of them.');
  expect((await rowIds(page)).at(-1)).toBe(1);
});

test('a row says when, what, on which monitor or account, who, and how it went', async ({ app, page }) => {
  await app.open('#/audit');
  const failed = page.getByTestId('audit-row').filter({ hasText: 'Provisioning failed' }).first();
  await expect(failed).toContainText('Failed');
  await expect(failed).toContainText(/Job job-\d+/);
  await expect(failed).toContainText('station');
  const account = page.getByTestId('audit-row').filter({ hasText: 'Account created' }).first();
  await expect(account).toContainText(/Account temp\d+/);
  await expect(account).toContainText('sam');
});

test('filters by event type and monitor, then clears', async ({ app, page }) => {
  await app.open('#/audit');
  await expect(page.getByTestId('audit-row')).toHaveCount(50);
  await page.getByLabel('Event').selectOption({ label: 'Provisioning failed' });
  await page.getByRole('button', { name: 'Show rows' }).click();
  await expect(page.getByTestId('audit-count')).toContainText('that match');
  for (const row of await page.getByTestId('audit-row').all()) await expect(row).toContainText('Provisioning failed');
  expect(app.backend.callsTo('audit_page').at(-1)).toEqual({ query: { eventType: 'provisioning_failed', limit: 50 } });

  await page.getByLabel('Monitor').fill('ZM-004');
  await page.getByLabel('Who').fill('station');
  await page.getByRole('button', { name: 'Show rows' }).click();
  await expect(page.getByTestId('audit-count')).toContainText('that match');
  for (const row of await page.getByTestId('audit-row').all()) {
    await expect(row).toContainText('ZM-004');
    await expect(row).toContainText('Provisioning failed');
  }
  expect(app.backend.callsTo('audit_page').at(-1)).toEqual({
    query: { deviceId: 'ZM-004', actor: 'station', eventType: 'provisioning_failed', limit: 50 },
  });

  await page.getByLabel('Monitor').fill('ZM-999');
  await page.getByRole('button', { name: 'Show rows' }).click();
  await expect(page.getByText('No audit rows match these filters.')).toBeVisible();

  await page.getByRole('button', { name: 'Clear filters' }).click();
  await expect(page.getByTestId('audit-row')).toHaveCount(50);
  await expect(page.getByLabel('Monitor')).toHaveValue('');
  expect(app.backend.callsTo('audit_page').at(-1)).toEqual({ query: { limit: 50 } });
});

test('filters by period, from and to as the tablet shows them', async ({ app, page }) => {
  await app.open('#/audit');
  const now = Date.now();
  const local = (ms: number) => new Date(ms).toISOString().slice(0, 16);
  const since = local(now - 24 * 3600_000);
  const until = local(now - 12 * 3600_000);
  await page.getByLabel('From', { exact: true }).fill(since);
  await page.getByLabel('To', { exact: true }).fill(until);
  await page.getByRole('button', { name: 'Show rows' }).click();
  await expect(page.getByTestId('audit-count')).toContainText('that match');
  expect(app.backend.callsTo('audit_page').at(-1)).toEqual({
    query: { since: `${since}:00.000Z`, until: `${until}:00.000Z`, limit: 50 },
  });
  const times = await page.locator('[data-testid="audit-row"] time').evaluateAll((els) => els.map((el) => el.getAttribute('datetime') ?? ''));
  for (const time of times) {
    expect(time >= `${since}:00.000Z`).toBe(true);
    expect(time < `${until}:00.000Z`).toBe(true);
  }

  await page.getByLabel('To', { exact: true }).fill(local(now - 48 * 3600_000));
  await page.getByRole('button', { name: 'Show rows' }).click();
  await expect(page.getByLabel('To', { exact: true })).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByLabel('To', { exact: true })).toHaveAccessibleDescription(/The end must be after the start/);
});

test("a monitor's Audit link opens the log filtered to it", async ({ app, page }) => {
  await app.open('#/monitors');
  await page.getByRole('link', { name: 'Audit of ZM-003' }).click();
  await expect(app.heading('Audit log')).toBeVisible();
  await expect(page.getByLabel('Monitor')).toHaveValue('ZM-003');
  await expect(page.getByTestId('audit-row').first()).toContainText('ZM-003');
  expect(app.backend.callsTo('audit_page')).toEqual([{ query: { deviceId: 'ZM-003', limit: 50 } }]);
});

test('exports the rows shown to CSV and says where the file is and how many rows it has', async ({ app, page }) => {
  await app.open('#/audit');
  await page.getByRole('button', { name: 'Export the log (CSV)' }).click();
  const notice = page.getByTestId('exported');
  await expect(notice).toContainText('Audit log exported: 260 rows written to');
  await expect(notice).toContainText(new RegExp(`${EXPORT_DIR}/zpair-audit-\\d{8}-\\d{4}\\.csv`));

  await page.getByLabel('Event').selectOption({ label: 'Sign in failed' });
  await page.getByRole('button', { name: 'Show rows' }).click();
  await expect(notice).toHaveCount(0);
  await page.getByRole('button', { name: 'Export these rows (CSV)' }).click();
  const expected = app.backend.admin.audit.filter((e) => e.eventType === 'sign_in_failed').length;
  await expect(notice).toContainText(`Audit log exported: ${String(expected)} rows written to`);
  expect(app.backend.callsTo('export_audit')).toEqual([{ query: {} }, { query: { eventType: 'sign_in_failed' } }]);
});

test('an export that fails says why', async ({ app, page }) => {
  app.backend.failNext('export_audit', 'station_unreachable');
  await app.open('#/audit');
  await page.getByRole('button', { name: 'Export the log (CSV)' }).click();
  await expect(page.getByRole('alert')).toContainText('Cannot reach the Central Station');
});

test('the chain check shows an intact chain with its head hash', async ({ app, page }) => {
  await app.open('#/audit');
  await page.getByRole('button', { name: 'Check the chain' }).click();
  const result = page.getByTestId('chain-result');
  await expect(result).toContainText('The audit chain is intact: 260 rows checked.');
  await expect(result).toContainText(/Head hash \(keep a copy to prove the log later\): [0-9a-f]{64}/);
});

test('the chain check shows the first broken link', async ({ app, page }) => {
  app.backend.admin.auditBroken = {
    id: 137,
    problem: 'edited',
    message: 'Row 137 does not match its hash: it was changed after it was written.',
  };
  await app.open('#/audit');
  await page.getByRole('button', { name: 'Check the chain' }).click();
  const result = page.getByTestId('chain-result');
  await expect(result).toHaveAttribute('role', 'alert');
  await expect(result).toContainText('The audit chain is broken');
  await expect(result).toContainText('First broken link: row 137, changed after it was written.');
  await expect(result).toContainText('136 rows before it are sound.');
});

test('says it is loading, explains a failure and loads again', async ({ app, page }) => {
  const release = app.backend.hold('audit_page');
  app.backend.failNext('audit_page', 'internal_error');
  await app.open('#/audit');
  await expect(page.getByRole('status').filter({ hasText: 'Loading the audit log…' })).toBeVisible();
  release();
  const alert = page.getByRole('alert');
  await expect(alert).toContainText('Central Station error');
  await expect(alert).toContainText(messageFor('internal_error'));
  await alert.getByRole('button', { name: 'Try again' }).click();
  await expect(page.getByTestId('audit-row')).toHaveCount(50);
});

test('an empty log says so', async ({ app, page }) => {
  app.backend.admin.audit = [];
  await app.open('#/audit');
  await expect(page.getByText('The audit log is empty.')).toBeVisible();
});
