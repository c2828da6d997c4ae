// @ts-check
// The real ZPair app, end to end, as an administrator uses it with
// technicians at the bedside: the administrator signs in (changing a
// temporary password if the account has one), imports a delivery's CSV
// through the Monitors screen — the world's registered monitors, the spare
// monitor the station does not know yet, and a registered device ID with
// another identity key — reads the dry run, commits, and de-provisions the
// new monitor with its typed device ID. They create an account for a new
// technician, whose temporary password is shown once; the newcomer signs in
// with it, must choose their own, and their pairing of the de-provisioned
// monitor is refused on screen. The administrator re-admits it and the
// world's technician pairs it to PROVISIONED. The administrator then exports
// the monitor's audit rows (CSV) and the shift's pairing report (CSV and
// PDF), and the files are read back. `cargo xtask e2e` runs this after
// run.mjs, against a world of its own with the spare monitor running
// unregistered.
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { VirtualCamera } from './camera.mjs';
import {
  pairByCode,
  pairingEnds,
  screenshot,
  secrets,
  signIn,
  signOut,
  trustStation,
  writeSecrets,
} from './flows.mjs';
import { control, env, eventually, field, onScreen, runSuite, shownCode } from './harness.mjs';

const stationUrl = env('ZPAIR_STATION_URL');
const shots = env('ZPAIR_SCREENSHOTS');
const exportDir = resolve(env('ZPAIR_EXPORT_DIR'));
const technician = { username: env('ZPAIR_USERNAME'), password: env('ZPAIR_PASSWORD') };
const administrator = { username: env('ZPAIR_ADMIN_USERNAME'), password: env('ZPAIR_ADMIN_PASSWORD') };
const [spare = '', spareScreen = ''] = env('ZPAIR_SPARE').split('=', 2);
const spareButtons = env('ZPAIR_SPARE_BUTTONS');

/**
 * Presses `key` on the spare monitor's console (`p`: enter provisioning mode),
 * as a person at the bedside does; the world's named pipe is its keypad.
 * @param {string} key
 */
const pressAtSpare = (key) => {
  writeFileSync(spareButtons, `${key}\n`);
};

/** The code the spare monitor shows, once it shows one. */
const spareCode = () => eventually(`${spare}'s pairing code`, () => shownCode(spareScreen), (code) => code.length > 0);

/**
 * A registration record as monitors export it, with the registry's own fields.
 * @typedef {{ deviceId: string, deviceSerial: string, identityPublicKey: string, firmwareVersion: string,
 *   ipAddress?: string, deviceLabel?: string, bedId?: string }} Registration
 */

/**
 * @param {string} file
 * @returns {unknown}
 */
const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));
// The world wrote these files: their shape is the monitors' export format.
const registered = /** @type {Registration[]} */ (readJson(env('ZPAIR_REGISTRY')));
const spareRecord = /** @type {Registration} */ (readJson(env('ZPAIR_SPARE_RECORD')));
const [kept, clashing] = registered;
if (kept === undefined || clashing === undefined) throw new Error('ZPAIR_REGISTRY lists fewer than two monitors');

/** The column names of the import format (zpair-core's reader), in the order this sheet has them. */
const COLUMNS = /** @type {const} */ (['deviceId', 'deviceSerial', 'ipAddress', 'deviceLabel', 'bedId', 'identityPublicKey', 'firmwareVersion']);

/** A field of a CSV row, quoted when it must be (RFC 4180). */
const cell = (/** @type {string} */ value) => (/[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);

/** An Ed25519 public key no monitor has: base64url of its 32 bytes, as records carry keys. */
const strangerKey = () => {
  const jwk = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
  if (typeof jwk.x !== 'string') throw new Error('no public key in the generated JWK');
  return jwk.x;
};

/**
 * The delivery's sheet: every registered monitor as it is (unchanged) except
 * `clashing`, listed with another identity key (a conflict, refused), and the
 * spare monitor (new), its label needing quotes.
 */
const sheet = [
  COLUMNS.join(','),
  ...[
    ...registered.map((record) => (record === clashing ? { ...record, identityPublicKey: strangerKey() } : record)),
    { ...spareRecord, deviceLabel: 'ICU-MON-04, spare', bedId: 'ICU-BED-04' },
  ].map((record) => COLUMNS.map((column) => cell(record[column] ?? '')).join(',')),
].join('\r\n');
const sheetFile = join(dirname(shots), 'delivery.csv');
writeFileSync(sheetFile, `${sheet}\r\n`);

/** The camera of a tablet pointed at the ward: the technician types codes here. */
const camera = new VirtualCamera(join(dirname(shots), 'camera', 'view.png'));

/**
 * The fields of a CSV file's rows, the header row first (RFC 4180).
 * @param {string} text
 */
function readCsv(text) {
  /** @type {string[][]} */
  const rows = [];
  /** @type {string[]} */
  let row = [];
  let value = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charAt(i);
    if (quoted) {
      if (c === '"' && text.charAt(i + 1) === '"') {
        value += '"';
        i += 1;
      } else if (c === '"') quoted = false;
      else value += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(value);
      value = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text.charAt(i + 1) === '\n') i += 1;
      row.push(value);
      rows.push(row);
      row = [];
      value = '';
    } else value += c;
  }
  if (value !== '' || row.length > 0) rows.push([...row, value]);
  return rows;
}

/**
 * A CSV file's rows as records by header name; the header must name `columns`.
 * @param {string} file
 * @param {string[]} columns
 */
function csvRecords(file, columns) {
  const [header = [], ...rows] = readCsv(readFileSync(file, 'utf8'));
  const missing = columns.filter((name) => !header.includes(name));
  if (missing.length > 0) throw new Error(`${file} has no column ${missing.join(', ')} (its header: ${header.join(',')})`);
  return rows.map((row) => Object.fromEntries(header.map((name, i) => [name, row[i] ?? ''])));
}

/** The password the station chose for the new colleague's account. */
let temporaryPassword = '';

/** The administrator's password now: the world's, or their own once a temporary one was changed. */
let adminPassword = administrator.password;

/** The new colleague's account, which the administrator creates. */
const colleague = { username: 'newcomer', displayName: 'New Technician' };

/**
 * On the "Change your password" screen: replaces the temporary `current`
 * with a new password of the run's, and returns it once the app is open.
 * @param {WebdriverIO.Browser} browser
 * @param {string} current
 * @param {string} shot the screenshot's name
 */
async function changeTemporaryPassword(browser, current, shot) {
  await onScreen(browser, 'Change your password');
  const chosen = `zpair-e2e-${randomBytes(9).toString('base64url')}`;
  secrets.add(chosen);
  await (await field(browser, 'Current password')).setValue(current);
  await (await field(browser, 'New password')).setValue(chosen);
  await (await field(browser, 'Repeat the new password')).setValue(chosen);
  await screenshot(browser, shot);
  await control(browser, 'button', 'Change password').click();
  await browser.$('[data-testid="account"]').waitForDisplayed();
  return chosen;
}

/**
 * Signs in as the administrator; a temporary password is changed first, as the app asks.
 * @param {WebdriverIO.Browser} browser
 */
async function signInAsAdministrator(browser) {
  await signIn(browser, stationUrl, administrator.username, adminPassword);
  if (await browser.$('//h1[normalize-space()="Change your password"]').isDisplayed()) {
    adminPassword = await changeTemporaryPassword(browser, adminPassword, 'admin-change-password');
  }
  await browser.$('//p[normalize-space()="Administration"]').waitForExist();
}

/**
 * Signs out, then in as `account`.
 * @param {WebdriverIO.Browser} browser
 * @param {'technician' | 'administrator'} account
 */
async function switchTo(browser, account) {
  await signOut(browser, stationUrl);
  if (account === 'administrator') await signInAsAdministrator(browser);
  else await signIn(browser, stationUrl, technician.username, technician.password);
}

/**
 * Opens a screen from the navigation bar.
 * @param {WebdriverIO.Browser} browser
 * @param {string} tab
 * @param {string} title
 */
async function open(browser, tab, title) {
  await browser.$(`//nav[@aria-label="Main"]//a[normalize-space()="${tab}"]`).click();
  await onScreen(browser, title);
}

/**
 * The spare monitor's row on the Monitors screen.
 * @param {WebdriverIO.Browser} browser
 */
const spareRow = (browser) => browser.$(`//tr[@data-testid="registry-row"][th/span[normalize-space()="${spare}"]]`);

/**
 * Waits until the spare monitor's row shows `state`.
 * @param {WebdriverIO.Browser} browser
 * @param {string} state
 */
async function spareShows(browser, state) {
  await eventually(
    `${spare}'s row to show ${state}`,
    async () => (await spareRow(browser).$('td[data-label="State"]').getText()).trim(),
    (text) => text.startsWith(state),
  );
}

/**
 * The totals of the import's dry run, by name.
 * @param {WebdriverIO.Browser} browser
 */
async function tallies(browser) {
  /** @type {Record<string, number>} */
  const found = {};
  for await (const item of browser.$$('ul.tallies li')) {
    found[(await item.$('.name').getText()).trim()] = Number((await item.$('.value').getText()).trim());
  }
  return found;
}

/**
 * The file an export wrote, from the notice that says where; it must be in the export folder.
 * @param {WebdriverIO.Browser} browser
 * @param {string} extension
 */
async function exported(browser, extension) {
  const path = await eventually(
    `a .${extension} file named in the export notice`,
    async () => (await browser.$('[data-testid="exported"] .path').getText()).trim(),
    (text) => text.endsWith(`.${extension}`),
  );
  if (dirname(resolve(path)) !== exportDir) throw new Error(`exported to ${path}, not into ${exportDir}`);
  return path;
}

/** @type {Array<[string, (browser: WebdriverIO.Browser) => Promise<void>]>} */
const steps = [
  [
    'the administrator trusts the station, signs in and is shown the administration screens',
    async (browser) => {
      await trustStation(browser, env('ZPAIR_STATION_FINGERPRINT'));
      await signInAsAdministrator(browser);
      await open(browser, 'Monitors', 'Monitors');
      await eventually(
        'the registry to list the world\'s monitors',
        async () => (await browser.$('[data-testid="registry-count"]').getText()).trim(),
        (text) => text === `Showing ${String(registered.length)} of ${String(registered.length)} monitors.`,
      );
      if (await spareRow(browser).isExisting()) throw new Error(`${spare} is registered before the import`);
    },
  ],
  [
    "a delivery's CSV, chosen through the file input, is checked: one new, one conflicting with its reason",
    async (browser) => {
      await control(browser, 'a', 'Import a file').click();
      await onScreen(browser, 'Import monitors');
      // WebDriver's Element Send Keys on a file input chooses the file at that path, as the picker would.
      await browser.$('#import-file').addValue(sheetFile);
      await browser.$('//h2[normalize-space()="What importing delivery.csv would do"]').waitForDisplayed();
      const totals = await tallies(browser);
      const expected = { New: 1, Updated: 0, Unchanged: registered.length - 1, Conflicting: 1, Unreadable: 0 };
      if (JSON.stringify(totals) !== JSON.stringify(expected)) {
        throw new Error(`the dry run's totals are ${JSON.stringify(totals)}, not ${JSON.stringify(expected)}`);
      }
      const newRow = browser.$(`//tr[@data-testid="dry-run-row"][@data-outcome="new"][td[normalize-space()="${spare}"]]`);
      await newRow.waitForDisplayed();
      const conflict = browser.$(
        `//tr[@data-testid="dry-run-row"][@data-outcome="conflicting"][td[normalize-space()="${clashing.deviceId}"]]`,
      );
      const reason = await conflict.$('td[data-label="Changes or reason"]').getText();
      if (!reason.includes('Monitor identity conflict')) throw new Error(`the conflicting row's reason reads: ${reason}`);
      const line = await conflict.$('td[data-label="Line"]').getText();
      const sheetLine = registered.indexOf(clashing) + 2;
      if (line.trim() !== String(sheetLine)) throw new Error(`the conflict is shown on line ${line}, not ${String(sheetLine)}`);
      await screenshot(browser, 'admin-import-dry-run');
    },
  ],
  [
    'committing imports the new monitor and refuses the conflicting row; the registry lists it, never paired',
    async (browser) => {
      await control(browser, 'button', 'Commit: import 1 monitor').click();
      await browser.$('//h2[normalize-space()="Import finished"]').waitForDisplayed();
      const outcome = await browser.$('//section[.//h2[normalize-space()="Import finished"]]//*[@role="status"]').getText();
      const imported = registered.length;
      if (!outcome.includes(`${String(imported)} monitors imported`) || !outcome.includes('1 refused')) {
        throw new Error(`the import's outcome reads: ${outcome}`);
      }
      const refused = await browser.$('ul.rejected').getText();
      if (!refused.includes(clashing.deviceId)) throw new Error(`the refused rows read: ${refused}`);
      // No screenshot here: WebKitWebDriver never answers one of this page
      // (UND_ERR_HEADERS_TIMEOUT), so the monitors list after it is taken.
      await control(browser, 'a', 'Back to monitors').click();
      await onScreen(browser, 'Monitors');
      await spareShows(browser, 'Not paired');
      const facts = await spareRow(browser).$('th').getText();
      if (!facts.includes('ICU-MON-04, spare')) throw new Error(`${spare}'s row reads: ${facts}`);
    },
  ],
  [
    `de-provisioning ${spare} takes a reason and its device ID typed in full`,
    async (browser) => {
      await spareRow(browser).$(`.//a[normalize-space()="De-provision ${spare}"]`).click();
      await onScreen(browser, `De-provision ${spare}`);
      await browser.$('[data-testid="monitor-facts"]').waitForDisplayed();
      const confirm = control(browser, 'button', `De-provision ${spare}`);
      await (await field(browser, 'Reason')).setValue('Sent for repair');
      await (await field(browser, `Type ${spare} to confirm`)).setValue(spare.slice(0, -1));
      if (await confirm.isEnabled()) throw new Error('de-provisioning was offered before the ID was typed in full');
      await (await field(browser, `Type ${spare} to confirm`)).setValue(spare);
      await screenshot(browser, 'admin-deprovision');
      await confirm.click();
      await onScreen(browser, 'Monitors');
      await browser.$(`//*[@role="status"][contains(., "${spare} was de-provisioned")]`).waitForDisplayed();
      await spareShows(browser, 'De-provisioned');
      await screenshot(browser, 'admin-monitors');
    },
  ],
  [
    'the administrator creates a technician account for a new colleague: its temporary password is shown once',
    async (browser) => {
      await open(browser, 'Accounts', 'Accounts');
      await control(browser, 'button', 'New account').click();
      await (await field(browser, 'Username')).setValue(colleague.username);
      await (await field(browser, 'Display name')).setValue(colleague.displayName);
      await control(browser, 'button', 'Create account').click();
      const shown = browser.$('[data-testid="temporary-password"]');
      await shown.waitForDisplayed();
      temporaryPassword = (await shown.getText()).trim();
      secrets.add(temporaryPassword);
      if (temporaryPassword.length < 12) throw new Error(`a temporary password of ${String(temporaryPassword.length)} characters`);
      await screenshot(browser, 'admin-temporary-password');
      await control(browser, 'button', 'Done, I have it').click();
      const card = browser.$(`//ul[@aria-label="Accounts"]/li[contains(., "${colleague.displayName}")]`);
      await card.waitForDisplayed();
      const facts = await card.getText();
      if (!facts.includes('Must change password')) throw new Error(`the new account's card reads: ${facts}`);
    },
  ],
  [
    `the new colleague chooses their own password at first sign-in; their pairing of the de-provisioned ${spare} is refused, with what to do`,
    async (browser) => {
      await signOut(browser, stationUrl);
      await signIn(browser, stationUrl, colleague.username, temporaryPassword);
      await changeTemporaryPassword(browser, temporaryPassword, 'change-password');
      if (await browser.$('//p[normalize-space()="Administration"]').isExisting()) {
        throw new Error("a technician is shown the administrators' screens");
      }
      await open(browser, 'Scan', 'Scan or type a code');
      // De-provisioning told the monitor too (its screen is blank): the
      // colleague puts it back into provisioning mode at the bedside.
      pressAtSpare('p');
      await pairByCode(browser, spare, await spareCode());
      const card = await pairingEnds(browser, spare, 'Failed');
      const refusal = card.$('[role="alert"][data-code="device_deprovisioned"]');
      await refusal.waitForDisplayed();
      const message = await refusal.getText();
      if (!message.includes('Ask an administrator to re-admit it')) throw new Error(`the refusal says: ${message}`);
      await screenshot(browser, 'deprovisioned-refused');
    },
  ],
  [
    `the administrator re-admits ${spare} with a reason`,
    async (browser) => {
      await switchTo(browser, 'administrator');
      await open(browser, 'Monitors', 'Monitors');
      await spareRow(browser).$(`.//a[normalize-space()="Re-admit ${spare}"]`).click();
      await onScreen(browser, `Re-admit ${spare}`);
      await browser.$('[data-testid="monitor-facts"]').waitForDisplayed();
      await (await field(browser, 'Reason')).setValue('Back from repair');
      await screenshot(browser, 'admin-readmit');
      await control(browser, 'button', `Re-admit ${spare}`).click();
      await onScreen(browser, 'Monitors');
      await browser.$(`//*[@role="status"][contains(., "${spare} was re-admitted")]`).waitForDisplayed();
      await spareShows(browser, 'Not paired');
    },
  ],
  [
    `the technician pairs the re-admitted ${spare} by its code to PROVISIONED`,
    async (browser) => {
      await switchTo(browser, 'technician');
      await open(browser, 'Scan', 'Scan or type a code');
      await pairByCode(browser, spare, await spareCode());
      await pairingEnds(browser, spare, 'Provisioned');
    },
  ],
  [
    `${spare}'s audit rows, exported as CSV, hold the de-provisioning, the refused pairing, the re-admission and the pairing`,
    async (browser) => {
      await switchTo(browser, 'administrator');
      await open(browser, 'Monitors', 'Monitors');
      await spareRow(browser).$(`.//a[normalize-space()="Audit of ${spare}"]`).click();
      await onScreen(browser, 'Audit log');
      for (const event of ['Deprovisioned', 'Readmitted', 'Provisioning completed']) {
        await browser.$(`//tr[@data-testid="audit-row"][td[@data-label="Event"][starts-with(normalize-space(), "${event}")]]`).waitForDisplayed();
      }
      await control(browser, 'button', 'Export these rows (CSV)').click();
      const file = await exported(browser, 'csv');
      await screenshot(browser, 'admin-audit');
      const records = csvRecords(file, ['eventType', 'deviceId', 'actor', 'success', 'errorMessage']);
      const stranger = records.find((record) => record.deviceId !== spare);
      if (stranger !== undefined) throw new Error(`the export of ${spare}'s rows holds ${JSON.stringify(stranger)}`);
      const notice = await browser.$('[data-testid="exported"]').getText();
      if (!notice.includes(`${String(records.length)} rows`)) throw new Error(`the notice reads "${notice}" for ${String(records.length)} rows`);
      // The story the rows tell, oldest first: event, who (null: whoever), whether it succeeded, the refusal's code.
      /** @type {Array<[string, string | null, boolean, string]>} */
      const story = [
        ['device_registered', administrator.username, true, ''],
        ['deprovisioned', administrator.username, true, ''],
        ['pairing_requested', colleague.username, false, 'device_deprovisioned'],
        ['readmitted', administrator.username, true, ''],
        ['pairing_requested', technician.username, true, ''],
        ['provisioning_completed', null, true, ''],
      ];
      let from = 0;
      for (const [event, who, success, error] of story) {
        const at = records.findIndex(
          (record, index) =>
            index >= from &&
            record.eventType === event &&
            (who === null || record.actor === who) &&
            record.success === String(success) &&
            (record.errorMessage ?? '').includes(error),
        );
        if (at < 0) {
          const told = records.map((r) => `${r.eventType ?? ''}/${r.actor ?? ''}/${r.success ?? ''}`).join(', ');
          throw new Error(`no ${event} row by ${who ?? 'anyone'} after row ${String(from)} of ${file}: ${told}`);
        }
        from = at + 1;
      }
    },
  ],
  [
    "this shift's pairing report shows the technician's pairing; its CSV and PDF exports hold it",
    async (browser) => {
      await open(browser, 'Reports', 'Reports');
      const row = browser.$(`//tr[@data-testid="report-row"][td[@data-label="Monitor"]/span[normalize-space()="${spare}"]]`);
      await row.waitForDisplayed();
      const shown = await row.getText();
      if (!shown.includes(technician.username) || !shown.includes('Provisioned')) throw new Error(`the report's row reads: ${shown}`);
      await control(browser, 'button', 'Export CSV').click();
      const csv = csvRecords(await exported(browser, 'csv'), ['deviceId', 'technician', 'outcome']);
      const pairing = csv.find((record) => record.deviceId === spare);
      if (pairing?.technician !== technician.username || pairing.outcome !== 'provisioned') {
        throw new Error(`the CSV's row of ${spare} reads: ${JSON.stringify(pairing)}`);
      }
      await control(browser, 'button', 'Export PDF').click();
      const pdf = await exported(browser, 'pdf');
      const text = execFileSync('pdftotext', ['-layout', pdf, '-'], { encoding: 'utf8' });
      const line = text.split('\n').find((l) => l.includes(spare));
      if (line === undefined) throw new Error(`${spare} is not in the PDF's text:\n${text}`);
      if (!line.includes(technician.username) || !/provisioned/i.test(line)) throw new Error(`the PDF's line of ${spare} reads: ${line}`);
      await screenshot(browser, 'admin-report');
    },
  ],
  [
    'signing out returns to the sign-in screen and clears the keyring',
    async (browser) => {
      await signOut(browser, stationUrl);
    },
  ],
];

secrets.add(technician.password).add(administrator.password);
const exitCode = await runSuite({
  application: env('ZPAIR_APP'),
  args: ['--camera', `file:${camera.file}`, '--station', stationUrl],
  tauriDriver: env('ZPAIR_TAURI_DRIVER'),
  screenshots: shots,
  log: env('ZPAIR_APP_LOG'),
  steps,
});
writeSecrets();
process.exitCode = exitCode;
