import { ADMIN, chooseImportFile, deliveryCsv } from './admin-screens';
import { keyFor } from './fake-admin';
import { messageFor } from './fake-backend';
import { expect, test } from './fixtures';

test.use({ scenario: ADMIN });

test.describe('the registry', () => {
  test('pages through every monitor with "Load more", the total always shown', async ({ app, page }) => {
    await app.open('#/monitors');
    const rows = page.getByTestId('registry-row');
    await expect(rows).toHaveCount(25);
    await expect(page.getByTestId('registry-count')).toHaveText('Showing 25 of 60 monitors.');
    await expect(rows.first()).toContainText('ZM-001');

    await page.getByRole('button', { name: 'Load more (35 more)' }).click();
    await expect(rows).toHaveCount(50);
    await expect(page.getByTestId('registry-count')).toHaveText('Showing 50 of 60 monitors.');
    await page.getByRole('button', { name: 'Load more (10 more)' }).click();
    await expect(rows).toHaveCount(60);
    await expect(rows.last()).toContainText('ZM-060');
    await expect(page.getByRole('button', { name: /Load more/ })).toHaveCount(0);

    expect(app.backend.callsTo('search_devices')).toEqual([
      { query: { limit: 25 } },
      { query: { limit: 25, after: 'ZM-025' } },
      { query: { limit: 25, after: 'ZM-050' } },
    ]);
  });

  test('a row says what state the monitor is in and when its certificate ends', async ({ app, page }) => {
    await app.open('#/monitors');
    const row = (id: string) => page.getByTestId('registry-row').filter({ hasText: id });
    await expect(row('ZM-001')).toContainText('Provisioned');
    await expect(row('ZM-001')).toContainText('ICU 3 bed 01 · Bed ICU3-01');
    await expect(row('ZM-001')).toContainText('Serial ZMS-001-2291 · 127.0.0.2');
    await expect(row('ZM-003')).toContainText('Not paired');
    await expect(row('ZM-003')).toContainText('No heartbeat yet');
    await expect(row('ZM-004')).toContainText(/Ended \w+ \d+, \d{4}/);
    await expect(row('ZM-007')).toContainText('Last pairing failed');
    await expect(row('ZM-009')).toContainText('De-provisioned');
    await expect(row('ZM-009').getByRole('link', { name: 'Re-admit ZM-009' })).toBeVisible();
    await expect(row('ZM-001').getByRole('link', { name: 'De-provision ZM-001', exact: true })).toBeVisible();
  });

  test('searching waits for the typing to stop, then asks once', async ({ app, page }) => {
    await app.open('#/monitors');
    await expect(page.getByTestId('registry-row')).toHaveCount(25);
    await page.getByLabel('Search').pressSequentially('cardio', { delay: 40 });
    await expect(page.getByTestId('registry-count')).toHaveText('Showing 9 of 9 monitors that match.');
    const searches = app.backend.callsTo('search_devices').slice(1);
    expect(searches).toEqual([{ query: { limit: 25, search: 'cardio' } }]);
    for (const row of await page.getByTestId('registry-row').all()) await expect(row).toContainText('Cardiology');

    await page.getByLabel('Search').fill('no such monitor');
    await expect(page.getByTestId('registry-count')).toHaveText('No monitor matches.');
    await expect(page.getByText('Try fewer letters, or show all monitors.')).toBeVisible();
  });

  const groups = [
    ['Never paired', 'never_paired', 'Not paired', 18],
    ['Provisioned', 'provisioned', 'Provisioned', 35],
    ['Last pairing failed', 'failed', 'Last pairing failed', 8],
    ['Certificate expiring', 'certificate_expiring', 'Provisioned', 10],
    ['De-provisioned', 'deprovisioned', 'De-provisioned', 6],
  ] as const;
  for (const [label, filter, badge, count] of groups) {
    test(`the "${label}" filter shows only those monitors`, async ({ app, page }) => {
      await app.open('#/monitors');
      await expect(page.getByTestId('registry-row')).toHaveCount(25);
      await page.getByRole('radio', { name: label, exact: true }).check();
      await expect(page.getByTestId('registry-count')).toContainText(`of ${String(count)} monitors that match`);
      const rows = page.getByTestId('registry-row');
      await expect(rows).toHaveCount(Math.min(count, 25));
      for (const row of await rows.all()) await expect(row).toContainText(badge);
      expect(app.backend.callsTo('search_devices').at(-1)).toEqual({ query: { limit: 25, filter } });
    });
  }

  test('search and filter stay as they were after visiting a monitor', async ({ app, page }) => {
    await app.open('#/monitors');
    await page.getByRole('radio', { name: 'De-provisioned' }).check();
    await expect(page.getByTestId('registry-row')).toHaveCount(6);
    await page.getByRole('link', { name: 'Re-admit ZM-009' }).click();
    await expect(app.heading('Re-admit ZM-009')).toBeVisible();
    await page.getByRole('link', { name: 'Back to monitors' }).click();
    await expect(page.getByRole('radio', { name: 'De-provisioned' })).toBeChecked();
    await expect(page.getByTestId('registry-row')).toHaveCount(6);
  });

  test('says it is loading until the registry answers', async ({ app, page }) => {
    const release = app.backend.hold('search_devices');
    await app.open('#/monitors');
    await expect(page.getByRole('status').filter({ hasText: 'Loading monitors…' })).toBeVisible();
    release();
    await expect(page.getByTestId('registry-row')).toHaveCount(25);
    await expect(page.getByText('Loading monitors…')).toHaveCount(0);
  });

  test('a registry that cannot be read says why and loads again', async ({ app, page }) => {
    app.backend.failNext('search_devices', 'station_unreachable');
    await app.open('#/monitors');
    const alert = page.getByRole('alert');
    await expect(alert).toContainText('Cannot reach the Central Station');
    await expect(alert).toContainText(messageFor('station_unreachable'));
    await alert.getByRole('button', { name: 'Try again' }).click();
    await expect(page.getByTestId('registry-row')).toHaveCount(25);
    await expect(page.getByRole('alert')).toHaveCount(0);
  });

  test('an empty registry says how to fill it', async ({ app, page }) => {
    app.backend.devices.clear();
    await app.open('#/monitors');
    await expect(page.getByTestId('registry-count')).toHaveText('No monitors are registered yet.');
    await expect(page.getByText('Register monitors one by one, or import the CSV or JSON file of a delivery.')).toBeVisible();
  });
});

test.describe('registering one monitor', () => {
  test('checks the fields, registers it and says so on the list', async ({ app, page }) => {
    await app.open('#/monitors');
    await page.getByRole('link', { name: 'Register a monitor' }).click();
    await expect(app.heading('Register a monitor')).toBeFocused();
    const submit = page.getByRole('button', { name: 'Register monitor' });
    await expect(submit).toBeDisabled();

    await page.getByLabel('Device ID').fill('ZM 200');
    await page.getByLabel('Serial number').fill('ZMS-200');
    await page.getByLabel('Identity public key').fill('short-key');
    await page.getByLabel('IP address (optional)').fill('10.20.300.1');
    await submit.click();
    await expect(page.getByLabel('Device ID')).toHaveAttribute('aria-invalid', 'true');
    await expect(page.getByLabel('Device ID')).toBeFocused();
    await expect(page.getByLabel('Identity public key')).toHaveAccessibleDescription(/43 characters of letters/);
    await expect(page.getByLabel('IP address (optional)')).toHaveAttribute('aria-invalid', 'true');
    expect(app.backend.callsTo('register_device')).toEqual([]);

    await page.getByLabel('Device ID').fill('ZM-200');
    await page.getByLabel('Identity public key').fill(keyFor('ZM-200'));
    await page.getByLabel('IP address (optional)').fill('10.20.30.1');
    await page.getByLabel('Label (optional)').fill('Ward 9 bed 03');
    await page.getByLabel('Bed (optional)').fill('WARD9-03');
    await expect(page.locator('[aria-invalid="true"]')).toHaveCount(0);
    await submit.click();

    await expect(app.heading('Monitors')).toBeVisible();
    await expect(page.getByRole('status').filter({ hasText: 'ZM-200 is registered' })).toContainText(
      'ZM-200 is registered (Ward 9 bed 03). A technician can pair it now.',
    );
    expect(app.backend.callsTo('register_device')).toEqual([
      {
        record: {
          deviceId: 'ZM-200',
          deviceSerial: 'ZMS-200',
          identityPublicKey: keyFor('ZM-200'),
          firmwareVersion: 'unknown',
          ipAddress: '10.20.30.1',
          deviceLabel: 'Ward 9 bed 03',
          bedId: 'WARD9-03',
        },
      },
    ]);
    await expect(page.getByTestId('registry-count')).toHaveText('Showing 25 of 61 monitors.');
  });

  test("the station's refusal is shown with its reason", async ({ app, page }) => {
    await app.open('#/monitors/register');
    await page.getByLabel('Device ID').fill('ZM-001');
    await page.getByLabel('Serial number').fill('ZMS-001-2291');
    await page.getByLabel('Identity public key').fill(keyFor('a replacement board'));
    await page.getByRole('button', { name: 'Register monitor' }).click();
    const alert = page.getByRole('alert');
    await expect(alert).toContainText('Request not accepted');
    await expect(alert).toContainText(messageFor('identity_conflict'));
    await expect(app.heading('Register a monitor')).toBeVisible();
  });
});

test.describe('importing a file', () => {
  test('shows the dry run row by row, unreadable lines included, then commits and reports', async ({ app, page }) => {
    await app.open('#/monitors');
    await page.getByRole('link', { name: 'Import a file' }).click();
    await expect(app.heading('Import monitors')).toBeFocused();
    await chooseImportFile(app, 'delivery.csv', deliveryCsv());

    const rows = page.getByTestId('dry-run-row');
    await expect(rows).toHaveCount(5);
    expect(app.backend.callsTo('preview_import')).toEqual([{ fileName: 'delivery.csv', text: deliveryCsv() }]);
    const cells = async (index: number) =>
      (await rows.nth(index).getByRole('cell').allInnerTexts()).map((text) => text.replace(/\s+/g, ' ').trim());
    expect(await cells(0)).toEqual(['2', 'ZM-101', 'New', 'Added to the registry']);
    expect(await cells(1)).toEqual(['3', 'ZM-003', 'Updated', 'Changes: label']);
    expect(await cells(2)).toEqual(['4', 'ZM-004', 'Unchanged', 'Already registered exactly so']);
    expect(await cells(3)).toEqual([
      '5',
      'ZM-001',
      'Conflicting',
      `Monitor identity conflict ${messageFor('identity_conflict')}`,
    ]);
    expect(await cells(4)).toEqual([
      '6',
      '—',
      'Unreadable',
      "Line 6: 2 values for the header's 7 columns; identityPublicKey, ipAddress, deviceLabel, bedId, firmwareVersion missing. Give every column a value (empty is fine for the optional ones).",
    ]);
    const totals = page.getByRole('list', { name: 'Totals' });
    await expect(totals).toContainText('1New');
    await expect(totals).toContainText('1Unreadable');
    await expect(page.getByText('2 rows are skipped.')).toBeVisible();
    expect(app.backend.devices.has('ZM-101')).toBe(false);
    await app.screenshot('admin-import-dry-run');

    await page.getByRole('button', { name: 'Commit: import 2 monitors' }).click();
    await expect(page.getByRole('heading', { name: 'Import finished' })).toBeFocused();
    await expect(page.getByRole('region', { name: 'Import finished' }).getByRole('status')).toHaveText(
      '3 monitors imported (added, updated or already so); 1 refused.',
    );
    await expect(page.getByText('ZM-101, ZM-003, ZM-004')).toBeVisible();
    await expect(page.getByRole('listitem').filter({ hasText: 'Line 5 · ZM-001' })).toContainText(
      'Monitor identity conflict',
    );
    expect(app.backend.callsTo('commit_import')).toEqual([{ fileName: 'delivery.csv', text: deliveryCsv() }]);
    expect(app.backend.devices.get('ZM-101')?.summary.deviceLabel).toBe('Ward 9 bed 01');
    expect(app.backend.devices.get('ZM-003')?.summary.deviceLabel).toBe('ICU 3 bed 03 (window)');

    await page.getByRole('button', { name: 'Import another file' }).click();
    await expect(page.getByLabel('Import file (.csv or .json)')).toBeFocused();
  });

  test('a file that would change nothing cannot be committed, and says why', async ({ app, page }) => {
    await app.open('#/monitors/import');
    const unchanged = deliveryCsv().split('\n').filter((line, index) => index === 0 || line.startsWith('ZM-004'));
    await chooseImportFile(app, 'again.csv', unchanged.join('\n'));
    await expect(page.getByTestId('dry-run-row')).toHaveCount(1);
    const commit = page.getByRole('button', { name: /Commit/ });
    await expect(commit).toBeDisabled();
    await expect(commit).toHaveAccessibleDescription(
      'Nothing would change: every row is unchanged, conflicting or unreadable.',
    );
  });

  test('says it is checking the file, and a file of only a header holds nothing to commit', async ({ app, page }) => {
    const release = app.backend.hold('preview_import');
    await app.open('#/monitors/import');
    await chooseImportFile(app, 'empty.csv', 'deviceId,deviceSerial,identityPublicKey\n\n');
    await expect(page.getByRole('status').filter({ hasText: 'Checking empty.csv against the registry…' })).toBeVisible();
    await expect(page.getByLabel('Import file (.csv or .json)')).toBeDisabled();
    release();
    await expect(page.getByText('The file holds no monitors: only its header, or blank lines.')).toBeVisible();
    await expect(page.getByRole('button', { name: /Commit/ })).toBeDisabled();
  });

  test('JSON records as the monitors export them, with one that is not a record', async ({ app, page }) => {
    await app.open('#/monitors/import');
    const records = [
      { deviceId: 'ZM-150', deviceSerial: 'ZMS-150', identityPublicKey: keyFor('ZM-150'), firmwareVersion: '2.5.0' },
      'ZM-151',
    ];
    await chooseImportFile(app, 'exports.json', JSON.stringify(records));
    const rows = page.getByTestId('dry-run-row');
    await expect(rows).toHaveCount(2);
    await expect(rows.nth(0)).toContainText('New');
    await expect(rows.nth(1)).toContainText(
      'Record 2: not a registration record (an object with deviceId, deviceSerial, identityPublicKey…).',
    );
    await expect(page.getByRole('button', { name: 'Commit: import 1 monitor' })).toBeEnabled();
  });

  test('a file that cannot be read at all is explained, and nothing is offered to commit', async ({ app, page }) => {
    await app.open('#/monitors/import');
    await chooseImportFile(app, 'inventory.csv', 'deviceId,serial number,identityPublicKey\nZM-1,S,K\n');
    const alert = page.getByRole('alert');
    await expect(alert).toContainText('Input not usable');
    await expect(alert).toContainText('Line 1, column B: "serial number" is not a column ZPair reads.');
    await expect(page.getByRole('button', { name: /Commit/ })).toHaveCount(0);
  });

  test('a commit the station refuses keeps the dry run and can be tried again', async ({ app, page }) => {
    await app.open('#/monitors/import');
    await chooseImportFile(app, 'delivery.csv', deliveryCsv());
    await expect(page.getByTestId('dry-run-row')).toHaveCount(5);
    app.backend.failNext('commit_import', 'station_busy');
    await page.getByRole('button', { name: 'Commit: import 2 monitors' }).click();
    const alert = page.getByRole('alert');
    await expect(alert).toContainText('Central Station busy');
    await expect(page.getByTestId('dry-run-row')).toHaveCount(5);
    await alert.getByRole('button', { name: 'Try again' }).click();
    await expect(page.getByRole('heading', { name: 'Import finished' })).toBeVisible();
  });
});

test.describe('de-provisioning', () => {
  test('needs a reason and the device ID typed exactly, then says it is done', async ({ app, page }) => {
    await app.open('#/monitors');
    await page.getByRole('link', { name: 'De-provision ZM-001' }).click();
    await expect(app.heading('De-provision ZM-001')).toBeFocused();
    await expect(page.getByTestId('monitor-facts')).toContainText('ICU 3 bed 01');
    const confirm = page.getByRole('button', { name: 'De-provision ZM-001' });
    await expect(confirm).toBeDisabled();

    await page.getByLabel('Type ZM-001 to confirm').fill('zm-001');
    await expect(page.getByLabel('Type ZM-001 to confirm')).toHaveAccessibleDescription('Does not match ZM-001 yet.');
    await page.getByLabel('Reason').fill('Sent for repair');
    await expect(confirm).toBeDisabled();
    await page.getByLabel('Type ZM-001 to confirm').fill('ZM-001');
    await expect(confirm).toBeEnabled();
    await page.getByLabel('Reason').fill('   ');
    await expect(confirm).toBeDisabled();
    await page.getByLabel('Reason').fill('Sent for repair');
    await confirm.click();

    await expect(app.heading('Monitors')).toBeVisible();
    await expect(page.getByRole('status').filter({ hasText: 'ZM-001 was de-provisioned' })).toBeVisible();
    expect(app.backend.callsTo('deprovision_device')).toEqual([
      { deviceId: 'ZM-001', reason: 'Sent for repair', confirmDeviceId: 'ZM-001' },
    ]);
    await expect(page.getByTestId('registry-row').filter({ hasText: 'ZM-001' })).toContainText('De-provisioned');
  });

  test('a refusal is shown on the form, which stays filled in', async ({ app, page }) => {
    app.backend.failNext('deprovision_device', 'pairing_in_progress');
    await app.open('#/monitors/ZM-002/deprovision');
    await page.getByLabel('Reason').fill('Replaced');
    await page.getByLabel('Type ZM-002 to confirm').fill('ZM-002');
    await page.getByRole('button', { name: 'De-provision ZM-002' }).click();
    await expect(page.getByRole('alert')).toContainText('Already pairing this monitor');
    await expect(page.getByLabel('Reason')).toHaveValue('Replaced');
  });

  test('Rust’s own check of the typed ID is marked on the field', async ({ app, page }) => {
    app.backend.failNext('deprovision_device', 'confirmation_mismatch');
    await app.open('#/monitors/ZM-002/deprovision');
    await page.getByLabel('Reason').fill('Replaced');
    await page.getByLabel('Type ZM-002 to confirm').fill('ZM-002');
    await page.getByRole('button', { name: 'De-provision ZM-002' }).click();
    await expect(page.getByLabel('Type ZM-002 to confirm')).toHaveAttribute('aria-invalid', 'true');
    await expect(page.getByLabel('Type ZM-002 to confirm')).toHaveAccessibleDescription(
      new RegExp(messageFor('confirmation_mismatch')),
    );
  });

  test('a monitor already de-provisioned offers re-admission instead', async ({ app, page }) => {
    await app.open('#/monitors/ZM-009/deprovision');
    await expect(page.getByText('ZM-009 is already de-provisioned.')).toBeVisible();
    await expect(page.getByLabel('Reason')).toHaveCount(0);
    await page.getByRole('link', { name: 'Re-admit ZM-009' }).click();
    await expect(app.heading('Re-admit ZM-009')).toBeVisible();
  });

  test('an unknown monitor is said to be unknown', async ({ app, page }) => {
    await app.open('#/monitors/ZM-999/deprovision');
    await expect(page.getByRole('alert')).toHaveText("ZM-999 is not in the Central Station's registry. Check the device ID.");
    await expect(page.getByLabel('Reason')).toHaveCount(0);
  });
});

test.describe('re-admitting', () => {
  test('takes a reason and puts the monitor back to "not paired"', async ({ app, page }) => {
    await app.open('#/monitors/ZM-009/readmit');
    await expect(page.getByTestId('monitor-facts')).toContainText('De-provisioned');
    const confirm = page.getByRole('button', { name: 'Re-admit ZM-009' });
    await expect(confirm).toBeDisabled();
    await page.getByLabel('Reason').fill('Back from repair');
    await confirm.click();
    await expect(page.getByRole('status').filter({ hasText: 'ZM-009 was re-admitted' })).toBeVisible();
    expect(app.backend.callsTo('readmit_device')).toEqual([{ deviceId: 'ZM-009', reason: 'Back from repair' }]);
    await expect(page.getByTestId('registry-row').filter({ hasText: 'ZM-009' })).toContainText('Not paired');
  });

  test('a monitor that is not de-provisioned has nothing to re-admit', async ({ app, page }) => {
    await app.open('#/monitors/ZM-001/readmit');
    await expect(page.getByText('ZM-001 is not de-provisioned, so there is nothing to re-admit.')).toBeVisible();
    await expect(page.getByRole('button', { name: 'Re-admit ZM-001' })).toHaveCount(0);
  });

  test("the station's refusal is explained", async ({ app, page }) => {
    app.backend.failNext('readmit_device', 'device_not_deprovisioned');
    await app.open('#/monitors/ZM-009/readmit');
    await page.getByLabel('Reason').fill('Back from repair');
    await page.getByRole('button', { name: 'Re-admit ZM-009' }).click();
    await expect(page.getByRole('alert')).toContainText('Monitor not de-provisioned');
    await expect(page.getByRole('alert')).toContainText(messageFor('device_not_deprovisioned'));
  });
});
