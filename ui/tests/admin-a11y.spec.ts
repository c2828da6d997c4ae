// axe on the administrators' screens held both ways on a tablet. (a11y.spec
// runs every screen, these included, in landscape light and dark; this adds
// portrait and the states only administrators reach: dialogs, results, errors.)
import { ADMIN, ADMIN_SCREENS, chooseImportFile, deliveryCsv } from './admin-screens';
import { expect, test, type App } from './fixtures';

// axe is injected as a script tag, which the app's own CSP (rightly) refuses.
test.use({ bypassCSP: true });

const PORTRAIT = { width: 800, height: 1280 };
const LANDSCAPE = { width: 1280, height: 800 };

const STATES: { name: string; show: (app: App) => Promise<void> }[] = [
  {
    name: 'a confirmation dialog with a refusal in it',
    show: async (app) => {
      await app.open('#/accounts');
      await app.page.getByRole('button', { name: 'Disable sam' }).click();
      await app.page.getByRole('dialog').getByRole('button', { name: 'Disable account' }).click();
      await expect(app.page.getByRole('dialog').getByRole('alert')).toBeVisible();
    },
  },
  {
    name: 'the new-account form',
    show: async (app) => {
      await app.open('#/accounts');
      await app.page.getByRole('button', { name: 'New account' }).click();
      await app.page.getByLabel('Username').fill('Rosa');
    },
  },
  {
    name: 'an import committed',
    show: async (app) => {
      await app.open('#/monitors/import');
      await chooseImportFile(app, 'delivery.csv', deliveryCsv());
      await app.page.getByRole('button', { name: 'Commit: import 2 monitors' }).click();
      await expect(app.page.getByRole('heading', { name: 'Import finished' })).toBeVisible();
    },
  },
  {
    name: 'a broken audit chain and an export',
    show: async (app) => {
      app.backend.admin.auditBroken = { id: 12, problem: 'missing', message: 'Rows 12 to 14 are gone.' };
      await app.open('#/audit');
      await app.page.getByRole('button', { name: 'Check the chain' }).click();
      await app.page.getByRole('button', { name: 'Export the log (CSV)' }).click();
      await expect(app.page.getByTestId('exported')).toBeVisible();
    },
  },
  {
    name: 'a registry that cannot be read',
    show: async (app) => {
      app.backend.failNext('search_devices', 'station_unreachable');
      await app.open('#/monitors');
      await expect(app.page.getByRole('alert')).toBeVisible();
    },
  },
  {
    name: 'the monitors filtered to nothing',
    show: async (app) => {
      await app.open('#/monitors');
      await app.page.getByLabel('Search').fill('nothing like this');
      await expect(app.page.getByText('No monitor matches.')).toBeVisible();
    },
  },
  {
    name: 'custom report dates refused',
    show: async (app) => {
      await app.open('#/reports');
      await app.page.getByRole('radio', { name: 'Other dates' }).check();
      await app.page.getByLabel('To', { exact: true }).fill('2020-01-01T00:00');
      await app.page.getByRole('button', { name: 'Show report' }).click();
      await expect(app.page.getByLabel('To', { exact: true })).toHaveAttribute('aria-invalid', 'true');
    },
  },
];

for (const [orientation, viewport] of [
  ['portrait', PORTRAIT],
  ['landscape', LANDSCAPE],
] as const) {
  test.describe(orientation, () => {
    test.use({ viewport });
    if (orientation === 'portrait') {
      for (const screen of ADMIN_SCREENS) {
        test.describe(screen.name, () => {
          test.use({ scenario: screen.scenario });
          test('has no serious or critical axe violations', async ({ app }) => {
            await screen.show(app);
            await app.expectAccessible();
          });
        });
      }
    }
    test.describe('administrator states', () => {
      test.use({ scenario: ADMIN });
      for (const state of STATES) {
        test(`${state.name}: no serious or critical axe violations`, async ({ app }) => {
          await state.show(app);
          await app.expectAccessible();
        });
      }
    });
  });
}
