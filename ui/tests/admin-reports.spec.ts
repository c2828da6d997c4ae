import { ADMIN } from './admin-screens';
import { EXPORT_DIR } from './fake-admin';
import { formatMs } from '../src/lib/format';
import { messageFor } from './fake-backend';
import { expect, test } from './fixtures';

test.use({ scenario: ADMIN });

const HOUR = 3600_000;

function asked(app: { backend: { callsTo: (c: string) => Record<string, unknown>[] } }) {
  const query = app.backend.callsTo('pairing_report').at(-1)?.query as { from: string; to: string; technician?: string };
  return { ...query, from: Date.parse(query.from), to: Date.parse(query.to) };
}

test('opens on the current shift: the last 12 hours, with totals and the median', async ({ app, page }) => {
  const before = Date.now();
  await app.open('#/reports');
  await expect(page.getByRole('radio', { name: 'This shift (last 12 hours)' })).toBeChecked();
  const rows = page.getByTestId('report-row');
  await expect(rows.first()).toBeVisible();
  const query = asked(app);
  expect(query.to - query.from).toBe(12 * HOUR);
  expect(query.to).toBeGreaterThanOrEqual(before);
  expect(query.technician).toBeUndefined();

  const report = app.backend.admin.report({ from: new Date(query.from).toISOString(), to: new Date(query.to).toISOString() });
  await expect(rows).toHaveCount(report.pairings.length);
  const totals = page.getByTestId('report-totals');
  await expect(totals).toContainText(`${String(report.pairings.length)}Pairings`);
  await expect(totals).toContainText(`${String(report.provisioned)}Provisioned`);
  await expect(totals).toContainText(`${String(report.failed)}Failed`);
  await expect(totals).toContainText('1Still running');
  await expect(totals).toContainText(formatMs(report.medianDurationMs ?? 0));
  await expect(totals).toContainText('Median time to provisioned');

  // Who, which monitor, when, how long, how it ended, and why it failed.
  const first = report.pairings[0];
  if (first === undefined) throw new Error('the fake report is empty');
  await expect(rows.first()).toContainText(first.technician);
  await expect(rows.first()).toContainText(first.deviceId);
  await expect(rows.first()).toContainText(first.deviceLabel);
  const failed = rows.filter({ hasText: 'Failed' }).first();
  await expect(failed).toContainText(/\((code_expired|monitor_unreachable|code_mismatch|connection_test_failed)\)/);
  await expect(rows.filter({ hasText: 'Running' })).toContainText('—');
});

test('the presets ask for today, yesterday and the last 7 days', async ({ app, page }) => {
  await app.open('#/reports');
  await expect(page.getByTestId('report-row').first()).toBeVisible();
  const midnight = new Date();
  midnight.setUTCHours(0, 0, 0, 0);
  const day = 24 * HOUR;

  await page.getByRole('radio', { name: 'Today' }).check();
  await expect.poll(() => asked(app).from).toBe(midnight.getTime());
  expect(asked(app).to).toBe(midnight.getTime() + day);

  await page.getByRole('radio', { name: 'Yesterday' }).check();
  await expect.poll(() => asked(app).from).toBe(midnight.getTime() - day);
  expect(asked(app).to).toBe(midnight.getTime());
  await expect(page.getByRole('heading', { level: 2 })).toContainText(
    new Intl.DateTimeFormat('en-US', { dateStyle: 'medium', timeZone: 'UTC' }).format(midnight.getTime() - day),
  );

  await page.getByRole('radio', { name: 'Last 7 days' }).check();
  await expect.poll(() => asked(app).to - asked(app).from).toBe(7 * day);
  const report = app.backend.admin.report({
    from: new Date(asked(app).from).toISOString(),
    to: new Date(asked(app).to).toISOString(),
  });
  await expect(page.getByTestId('report-row')).toHaveCount(report.pairings.length);
});

test("one technician's pairings", async ({ app, page }) => {
  await app.open('#/reports');
  await page.getByRole('radio', { name: 'Last 7 days' }).check();
  await expect(page.getByTestId('report-row').first()).toBeVisible();
  await page.getByLabel('Technician (optional)').fill('joe');
  await page.getByRole('button', { name: 'Show report' }).click();
  await expect.poll(() => asked(app).technician).toBe('joe');
  for (const row of await page.getByTestId('report-row').all()) await expect(row).toContainText('joe');

  await page.getByLabel('Technician (optional)').fill('nobody');
  await page.getByRole('button', { name: 'Show report' }).click();
  await expect(page.getByText('No pairings in this period by nobody.')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Export CSV' })).toHaveCount(0);
});

test('other dates: checked before asking, then reported', async ({ app, page }) => {
  await app.open('#/reports');
  await expect(page.getByTestId('report-row').first()).toBeVisible();
  await page.getByRole('radio', { name: 'Other dates' }).check();
  const calls = app.backend.callsTo('pairing_report').length;
  await page.getByLabel('From', { exact: true }).fill('2026-10-01T00:00');
  await page.getByLabel('To', { exact: true }).fill('2026-11-15T00:00');
  await page.getByRole('button', { name: 'Show report' }).click();
  await expect(page.getByLabel('To', { exact: true })).toHaveAccessibleDescription(/A report covers at most 31 days/);
  await page.getByLabel('To', { exact: true }).fill('2026-09-15T00:00');
  await page.getByRole('button', { name: 'Show report' }).click();
  await expect(page.getByLabel('To', { exact: true })).toHaveAccessibleDescription(/The end must be after the start/);
  expect(app.backend.callsTo('pairing_report')).toHaveLength(calls);

  const from = new Date(Date.now() - 3 * 24 * HOUR).toISOString().slice(0, 16);
  const to = new Date(Date.now() - 24 * HOUR).toISOString().slice(0, 16);
  await page.getByLabel('From', { exact: true }).fill(from);
  await page.getByLabel('To', { exact: true }).fill(to);
  await page.getByRole('button', { name: 'Show report' }).click();
  await expect.poll(() => asked(app).from).toBe(Date.parse(`${from}:00Z`));
  expect(asked(app).to).toBe(Date.parse(`${to}:00Z`));
  await expect(page.getByLabel('To', { exact: true })).not.toHaveAttribute('aria-invalid', 'true');
});

test('exports the report as CSV and PDF and says where each went', async ({ app, page }) => {
  await app.open('#/reports');
  await expect(page.getByTestId('report-row').first()).toBeVisible();
  const count = await page.getByTestId('report-row').count();
  await page.getByRole('button', { name: 'Export CSV' }).click();
  const notice = page.getByTestId('exported');
  await expect(notice).toContainText(`Report exported: ${String(count)} rows written to`);
  await expect(notice).toContainText(new RegExp(`${EXPORT_DIR}/zpair-pairings-\\d{8}-\\d{4}\\.csv`));
  await page.getByRole('button', { name: 'Export PDF' }).click();
  await expect(notice).toContainText(/\.pdf$/);
  const [csv, pdf] = app.backend.callsTo('export_report');
  expect(csv?.format).toBe('csv');
  expect(pdf?.format).toBe('pdf');
  expect(csv?.query).toEqual(app.backend.callsTo('pairing_report').at(-1)?.query);
});

test('says it is loading, explains a failure and loads again', async ({ app, page }) => {
  const release = app.backend.hold('pairing_report');
  app.backend.failNext('pairing_report', 'station_unreachable');
  await app.open('#/reports');
  await expect(page.getByRole('status').filter({ hasText: 'Loading the report…' })).toBeVisible();
  release();
  const alert = page.getByRole('alert');
  await expect(alert).toContainText('Cannot reach the Central Station');
  await expect(alert).toContainText(messageFor('station_unreachable'));
  await alert.getByRole('button', { name: 'Try again' }).click();
  await expect(page.getByTestId('report-row').first()).toBeVisible();
});

test('a period without pairings says so', async ({ app, page }) => {
  app.backend.admin.pairingRecords = [];
  await app.open('#/reports');
  await expect(page.getByText('No pairings in this period.')).toBeVisible();
  await expect(page.getByTestId('report-totals')).toContainText('0Pairings');
  await expect(page.getByTestId('report-totals')).toContainText('—Median time to provisioned');
});
