// Every screen of the app in a state worth looking at, for the accessibility,
// layout and screenshot passes.
import { ADMIN_SCREENS } from './admin-screens';
import type { Scenario } from './fake-backend';
import { expect, type App } from './fixtures';
import { STATION_URL } from './fake-backend';

export interface ScreenCase {
  name: string;
  scenario: Scenario;
  show: (app: App) => Promise<void>;
}

export const SCREENS: ScreenCase[] = [
  {
    name: 'setup',
    scenario: { firstRun: true, account: null },
    show: async (app) => {
      await app.open();
      await app.page.getByLabel('Central Station URL').fill(STATION_URL);
      await app.page.getByRole('button', { name: "Read the station's certificate" }).click();
      await expect(app.page.getByRole('region', { name: "The station's certificate" })).toBeVisible();
    },
  },
  {
    name: 'sign-in',
    scenario: { account: null },
    show: async (app) => {
      await app.open();
      await app.page.getByLabel('Username').fill('dana');
      await app.page.getByLabel('Password').fill('wrong');
      await app.page.getByRole('button', { name: 'Sign in' }).click();
      await expect(app.page.getByRole('alert')).toBeVisible();
    },
  },
  {
    name: 'scan',
    scenario: {},
    show: async (app) => {
      await app.open('#/scan');
      await app.page.getByLabel('Device ID').fill('ZM-003');
      await app.page.getByLabel('Pairing code').pressSequentially('K7P0');
      await expect(app.page.locator('#pairing-code-error')).toBeVisible();
    },
  },
  {
    name: 'pairings',
    scenario: {},
    show: async (app) => {
      app.backend.seedPairing('ZM-002', 'PROVISIONED');
      app.backend.seedPairing('ZM-003', 'CONFIGURING');
      app.backend.seedPairing('ZM-005', 'PAIRING');
      await app.open('#/watch');
      await app.backend.failPairing('ZM-005', 'code_mismatch');
      await expect(app.page.getByRole('link', { name: 'Enter the code again' })).toBeVisible();
    },
  },
  {
    name: 'devices',
    scenario: {},
    show: async (app) => {
      await app.open('#/devices');
      await expect(app.page.getByRole('list', { name: 'Devices' }).getByRole('listitem')).toHaveCount(5);
    },
  },
  {
    name: 'device-status',
    scenario: {},
    show: async (app) => {
      await app.open('#/devices/ZM-002');
      await expect(app.page.getByTestId('validity')).toHaveText('Expiring soon');
    },
  },
  {
    name: 'reprovision',
    scenario: {},
    show: async (app) => {
      await app.open('#/devices/ZM-001/reprovision');
      await app.page.getByLabel('Reason').fill('Moved to ward 5');
      await app.page.getByLabel('Type ZM-001 to confirm').fill('ZM-0');
      await expect(app.page.getByText('Does not match ZM-001 yet.')).toBeVisible();
    },
  },
  {
    name: 'history',
    scenario: {},
    show: async (app) => {
      await app.open('#/history');
      await expect(app.page.getByTestId('history-entry')).toHaveCount(3);
    },
  },
  {
    name: 'settings',
    scenario: {},
    show: async (app) => {
      await app.open('#/settings');
      await expect(app.page.getByTestId('current-trust')).toBeVisible();
    },
  },
  {
    name: 'licences',
    scenario: {},
    show: async (app) => {
      await app.open('#/settings/licences');
      await expect(app.page.getByTestId('npm-packages').getByTestId('licence-entry')).not.toHaveCount(0);
    },
  },
  {
    name: 'station-untrusted',
    scenario: {},
    show: async (app) => {
      await app.open('#/station?untrusted');
      await expect(app.heading('Central Station and trust')).toBeVisible();
    },
  },
  {
    name: 'session-dialog',
    scenario: {},
    show: async (app) => {
      await app.open('#/devices');
      await app.backend.expireSession();
      await expect(app.page.getByRole('dialog', { name: 'Sign in again' })).toBeVisible();
    },
  },
  ...ADMIN_SCREENS,
];
