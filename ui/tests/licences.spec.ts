import { readFileSync } from 'node:fs';
import { expect, test } from './fixtures';

// What `cargo xtask notices` generated from the lock files, as the app ships it.
const LIST = JSON.parse(readFileSync(new URL('../third-party/licences.json', import.meta.url), 'utf8')) as {
  packages: { ecosystem: 'rust' | 'npm'; name: string; version: string; licence: string }[];
};

test('Settings leads to the open-source licences, which list every package the app ships', async ({ app, page }) => {
  await app.open('#/settings');
  await page.getByRole('link', { name: 'Open-source licences' }).click();
  await expect(app.heading('Open-source licences')).toBeVisible();

  for (const ecosystem of ['rust', 'npm'] as const) {
    const expected = LIST.packages.filter((p) => p.ecosystem === ecosystem);
    expect(expected.length).toBeGreaterThan(0);
    const entries = page.getByTestId(`${ecosystem}-packages`).getByTestId('licence-entry');
    await expect(entries).toHaveCount(expected.length);
    const shown = (await entries.allTextContents()).map((text) => text.replace(/\s+/g, ' ').trim());
    expect(shown).toEqual(expected.map((p) => `${p.name} ${p.version} ${p.licence}`));
  }
  await expect(page.getByRole('heading', { name: `Rust crates (${String(LIST.packages.filter((p) => p.ecosystem === 'rust').length)})` })).toBeVisible();
  await expect(page.getByTestId('npm-packages')).toContainText('@tauri-apps/api');

  await page.getByRole('link', { name: 'Back to Settings' }).click();
  await expect(app.heading('Settings')).toBeVisible();
});

test('the list filters by name or licence', async ({ app, page }) => {
  await app.open('#/settings/licences');
  await page.getByLabel('Filter by name or licence').fill('mpl-2.0');
  const mpl = LIST.packages.filter((p) => p.licence.includes('MPL-2.0'));
  await expect(page.getByTestId('licence-entry')).toHaveCount(mpl.length);
  await expect(page.getByTestId('rust-packages')).toContainText('option-ext');
  await expect(page.getByRole('region', { name: /npm packages/ })).toContainText('None match');
});

test('the full licence texts are there, as the .deb installs them', async ({ app, page }) => {
  await app.open('#/settings/licences');
  await page.getByText('Full licence texts').click();
  const notices = page.getByTestId('notices');
  await expect(notices).toContainText('ZPair: third-party software notices');
  await expect(notices).toContainText('Apache License');
  await expect(notices).toContainText('Mozilla Public License');
  const first = LIST.packages[0];
  if (first === undefined) throw new Error('no packages');
  await expect(notices).toContainText(`${first.name} ${first.version}\n  Licence: ${first.licence}`);
});
