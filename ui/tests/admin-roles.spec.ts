// Navigation by role: administrators see the administration screens besides
// the technicians' ones; technicians never see them, nor reach them by address.
import { ADMIN } from './admin-screens';
import { ADMIN_COMMANDS } from './fake-admin';
import { expect, test } from './fixtures';

const ADMIN_TABS = [
  ['Monitors', 'Monitors'],
  ['Accounts', 'Accounts'],
  ['Audit', 'Audit log'],
  ['Reports', 'Reports'],
  ['Certificates', 'Certificates'],
] as const;

test.describe('an administrator', () => {
  test.use({ scenario: ADMIN });

  test('has an Administration group after the everyday tabs, and each tab opens its screen', async ({ app, page }) => {
    await app.open();
    const nav = page.getByRole('navigation', { name: 'Main' });
    await expect(nav.getByRole('list', { name: 'Administration' }).getByRole('link')).toHaveText(
      ADMIN_TABS.map(([tab]) => new RegExp(tab)),
    );
    await expect(nav.getByRole('link')).toHaveCount(10);
    for (const [tab, heading] of ADMIN_TABS) {
      await app.nav(tab).click();
      await expect(app.heading(heading)).toBeFocused();
      await expect(app.nav(tab)).toHaveAttribute('aria-current', 'page');
    }
    await app.open('#/monitors/import');
    await expect(app.nav('Monitors')).toHaveAttribute('aria-current', 'page');
  });
});

test.describe('a technician', () => {
  test('sees none of the administration tabs', async ({ app, page }) => {
    await app.open();
    const nav = page.getByRole('navigation', { name: 'Main' });
    await expect(nav.getByRole('link')).toHaveCount(5);
    await expect(nav.getByRole('list', { name: 'Administration' })).toHaveCount(0);
    for (const [tab] of ADMIN_TABS) await expect(app.nav(tab)).toHaveCount(0);
  });

  for (const address of [
    '#/monitors',
    '#/monitors/register',
    '#/monitors/import',
    '#/monitors/ZM-001/deprovision',
    '#/monitors/ZM-005/readmit',
    '#/accounts',
    '#/audit',
    '#/audit?device=ZM-001',
    '#/reports',
    '#/certificates',
  ]) {
    test(`is refused ${address} without a call to the station`, async ({ app, page }) => {
      await app.open(address);
      await expect(app.heading('For administrators only')).toBeFocused();
      await expect(page.getByRole('alert')).toContainText("Your account's role (Technician) cannot open it");
      expect(app.backend.calls.filter((call) => ADMIN_COMMANDS.has(call.command))).toEqual([]);
      await page.getByRole('link', { name: 'Back to Scan' }).click();
      await expect(app.heading('Scan or type a code')).toBeVisible();
    });
  }
});
