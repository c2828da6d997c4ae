// The administrators' screens in a state worth looking at, for the
// accessibility, layout and screenshot passes (added to SCREENS).
import { ADMINISTRATOR, type Scenario } from './fake-backend';
import { keyFor } from './fake-admin';
import { expect, type App } from './fixtures';
import type { ScreenCase } from './screens';

/** An administrator signed in, with a registry of sixty monitors. */
export const ADMIN: Scenario = { account: ADMINISTRATOR, registrySize: 60 };

/** An import file with a new, an updated, an unchanged, a conflicting and an unreadable row. */
export function deliveryCsv(): string {
  return [
    'deviceId,deviceSerial,identityPublicKey,ipAddress,deviceLabel,bedId,firmwareVersion',
    `ZM-101,ZMS-90101,${keyFor('ZM-101')},10.20.9.101,Ward 9 bed 01,WARD9-01,2.4.1`,
    `ZM-003,ZMS-003-2291,${keyFor('ZM-003')},127.0.0.4,ICU 3 bed 03 (window),ICU3-03,2.4.1`,
    `ZM-004,ZMS-004-2291,${keyFor('ZM-004')},127.0.0.5,ICU 3 bed 04,ICU3-04,2.4.1`,
    `ZM-001,ZMS-001-2291,${keyFor('replacement')},127.0.0.2,ICU 3 bed 01,ICU3-01,2.4.1`,
    'ZM-102,ZMS-90102',
  ].join('\n');
}

export async function chooseImportFile(app: App, name: string, text: string): Promise<void> {
  await app.page
    .getByLabel('Import file (.csv or .json)')
    .setInputFiles({ name, mimeType: name.endsWith('.json') ? 'application/json' : 'text/csv', buffer: Buffer.from(text) });
}

export const ADMIN_SCREENS: ScreenCase[] = [
  {
    name: 'admin-monitors',
    scenario: ADMIN,
    show: async (app) => {
      await app.open('#/monitors');
      await expect(app.page.getByTestId('registry-row')).toHaveCount(25);
    },
  },
  {
    name: 'admin-register',
    scenario: ADMIN,
    show: async (app) => {
      await app.open('#/monitors/register');
      await app.page.getByLabel('Device ID').fill('ZM-200');
      await app.page.getByLabel('Serial number').fill('ZMS-200');
      await app.page.getByLabel('Identity public key').fill('too-short');
      await app.page.getByRole('button', { name: 'Register monitor' }).click();
      await expect(app.page.locator('#register-key-error')).toBeVisible();
    },
  },
  {
    name: 'admin-import',
    scenario: ADMIN,
    show: async (app) => {
      await app.open('#/monitors/import');
      await chooseImportFile(app, 'delivery.csv', deliveryCsv());
      await expect(app.page.getByTestId('dry-run-row')).toHaveCount(5);
    },
  },
  {
    name: 'admin-deprovision',
    scenario: ADMIN,
    show: async (app) => {
      await app.open('#/monitors/ZM-001/deprovision');
      await expect(app.page.getByTestId('monitor-facts')).toBeVisible();
      await app.page.getByLabel('Reason').fill('Sent for repair');
      await app.page.getByLabel('Type ZM-001 to confirm').fill('ZM-0');
    },
  },
  {
    name: 'admin-accounts',
    scenario: ADMIN,
    show: async (app) => {
      await app.open('#/accounts');
      await expect(app.page.getByTestId('account-card')).toHaveCount(7);
    },
  },
  {
    name: 'admin-temporary-password',
    scenario: ADMIN,
    show: async (app) => {
      await app.open('#/accounts');
      await app.page.getByRole('button', { name: 'New account' }).click();
      await app.page.getByLabel('Username').fill('rosa');
      await app.page.getByLabel('Display name').fill('Rosa Lind');
      await app.page.getByRole('button', { name: 'Create account' }).click();
      await expect(app.page.getByRole('dialog', { name: 'Temporary password for rosa' })).toBeVisible();
    },
  },
  {
    name: 'admin-audit',
    scenario: ADMIN,
    show: async (app) => {
      await app.open('#/audit');
      await expect(app.page.getByTestId('audit-row')).toHaveCount(50);
      await app.page.getByRole('button', { name: 'Check the chain' }).click();
      await expect(app.page.getByTestId('chain-result')).toBeVisible();
    },
  },
  {
    name: 'admin-reports',
    scenario: ADMIN,
    show: async (app) => {
      await app.open('#/reports');
      await expect(app.page.getByTestId('report-row').first()).toBeVisible();
      await app.page.getByRole('button', { name: 'Export PDF' }).click();
      await expect(app.page.getByTestId('exported')).toBeVisible();
    },
  },
  {
    name: 'admin-certificates',
    scenario: ADMIN,
    show: async (app) => {
      await app.open('#/certificates');
      await expect(app.page.getByTestId('certificates-expiring')).toBeVisible();
    },
  },
  {
    name: 'password-change',
    scenario: { account: { username: 'kim', displayName: 'Kim Tran', role: 'technician', mustChangePassword: true } },
    show: async (app) => {
      await app.open();
      await app.page.getByLabel('New password', { exact: true }).fill('short');
      await expect(app.heading('Change your password')).toBeVisible();
    },
  },
];
