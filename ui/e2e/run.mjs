// @ts-check
// The real ZPair app, end to end, as a technician uses it: trust the station,
// sign in, pair a monitor by its typed code, read its connected status,
// re-provision it and pair it again, see a wrong code refused, pair a third
// from its QR through the app's camera (a virtual one the suite points at
// that monitor's screen), see an expired and a foreign QR refused while
// scanning goes on, sign out.
// `cargo xtask e2e` starts the station and the monitors and sets the
// variables read here; the app runs in a session keyring of its own.
import { dirname, join } from 'node:path';
import { shownPayload as readPayload, VirtualCamera } from './camera.mjs';
import {
  keepSessionTokens,
  newestCard,
  pairByCode,
  pairingEnds,
  screenshot,
  secrets,
  sessionKey as sessionKeyOf,
  signOut,
  writeSecrets,
} from './flows.mjs';
import { control, env, eventually, field, onScreen, runSuite, shownCode as readCode } from './harness.mjs';

const stationUrl = env('ZPAIR_STATION_URL');
const fingerprint = env('ZPAIR_STATION_FINGERPRINT').toLowerCase();
const username = env('ZPAIR_USERNAME');
const password = env('ZPAIR_PASSWORD');
const shots = env('ZPAIR_SCREENSHOTS');

secrets.add(password).add(`${password}-wrong`);

/** @param {string} dir */
const shownCode = (dir) => {
  const code = readCode(dir);
  secrets.add(code);
  return code;
};

/** @param {string} dir */
const shownPayload = (dir) => {
  const payload = readPayload(dir);
  for (const key of ['pairingCode', 'pairingToken']) {
    const value = payload[key];
    if (typeof value === 'string') secrets.add(value);
  }
  return payload;
};
/** The app's virtual camera: what it sees is what this suite puts in the file. */
const camera = new VirtualCamera(join(dirname(shots), 'camera', 'view.png'));
/** Each monitor's screen folder, by device ID. */
const screens = new Map(
  env('ZPAIR_MONITORS')
    .split(',')
    .map((pair) => /** @type {[string, string]} */ (pair.split('=', 2))),
);
const [first, second, third] = [...screens.keys()];
if (first === undefined || second === undefined || third === undefined) {
  throw new Error('ZPAIR_MONITORS names fewer than three monitors');
}

/** @param {string} deviceId */
const screenOf = (deviceId) => {
  const dir = screens.get(deviceId);
  if (dir === undefined) throw new Error(`no screen folder for ${deviceId}`);
  return dir;
};

/** A code in the right format that is not the one the monitor shows. */
const wrongCode = (/** @type {string} */ shown) => (shown.startsWith('2') ? '3' : '2') + shown.slice(1);

/** The ID of the kernel key the app keeps this station's session in, or null. */
const sessionKey = () => sessionKeyOf(stationUrl);

/** The QR payload the third monitor showed when it was scanned: the model of the refused ones. */
let thirdShown = /** @type {Record<string, unknown>} */ ({});

/** The session key found before this run signed in. */
let staleKey = /** @type {string | null} */ (null);

/** The codes each monitor was paired with, so a re-provisioned one is seen to show a new code. */
const usedCodes = new Map();

/**
 * Whether a polygon's corners ("x,y x,y …") go round it without crossing.
 * @param {string} points
 */
function convex(points) {
  const corners = points.trim().split(/\s+/).map((pair) => pair.split(',').map(Number));
  const turns = corners.map((a, i) => {
    const b = corners[(i + 1) % corners.length] ?? [];
    const c = corners[(i + 2) % corners.length] ?? [];
    const [ax = 0, ay = 0, bx = 0, by = 0, cx = 0, cy = 0] = [...a, ...b, ...c];
    return Math.sign((bx - ax) * (cy - by) - (by - ay) * (cx - bx));
  });
  return corners.length >= 3 && (turns.every((t) => t > 0) || turns.every((t) => t < 0));
}

/** @type {Array<[string, (browser: WebdriverIO.Browser) => Promise<void>]>} */
const steps = [
  [
    'the first start has the station filled in and shows its real certificate to compare',
    async (browser) => {
      await onScreen(browser, 'Set up the Central Station');
      // Started with --station, as the demo starts it: only the fingerprint is left.
      const shown = await (await field(browser, 'Central Station URL')).getValue();
      if (shown.replace(/\/$/, '') !== stationUrl.replace(/\/$/, '')) {
        throw new Error(`the station URL is filled in as "${shown}", not ${stationUrl}`);
      }
      await control(browser, 'button', "Read the station's certificate").click();
      // A wrong fingerprint is refused by the app's comparison, nothing saved.
      const typed = await field(browser, 'Fingerprint IT gave you (SHA-256)');
      const wrong = fingerprint.slice(0, 63) + (fingerprint.endsWith('0') ? '1' : '0');
      await typed.setValue(wrong);
      const trust = control(browser, 'button', 'Compare and trust this station');
      await trust.click();
      await browser.$('//*[@role="alert"][contains(., "Do not trust this station")]').waitForDisplayed();
      // The fingerprint IT gave, typed as it is handed out.
      await typed.setValue((fingerprint.toUpperCase().match(/../g) ?? []).join(':'));
      await browser.execute('arguments[0].scrollIntoView({ block: "end" })', await trust.getElement());
      await screenshot(browser, 'setup');
      await trust.click();
      await onScreen(browser, 'Sign in to ZPair');
    },
  ],
  [
    'a wrong password is refused; the right one signs in and the session goes to the kernel keyring',
    async (browser) => {
      staleKey = sessionKey();
      if (staleKey !== null) throw new Error('a session from before this run is in its keyring');
      await (await field(browser, 'Username')).setValue(username);
      await (await field(browser, 'Password')).setValue(`${password}-wrong`);
      await control(browser, 'button', 'Sign in').click();
      const refused = browser.$('[role="alert"][data-code="invalid_credentials"]');
      await refused.waitForDisplayed();
      await screenshot(browser, 'sign-in');
      if (sessionKey() !== staleKey) throw new Error('a refused sign-in stored a session in the keyring');
      await (await field(browser, 'Password')).setValue(password);
      await control(browser, 'button', 'Sign in').click();
      await browser.$('[data-testid="account"]').waitForDisplayed();
      // The session's own tokens, to look for in the app's log.
      keepSessionTokens(
        await eventually('the session in the session keyring', sessionKey, (found) => found !== null && found !== staleKey),
      );
    },
  ],
  [
    `pairing ${first} by its typed code goes through every step to PROVISIONED`,
    async (browser) => {
      const code = shownCode(screenOf(first));
      usedCodes.set(first, code);
      await pairByCode(browser, first, code);
      const card = await pairingEnds(browser, first, 'Provisioned');
      const steps = await card.$$('.step .label').map((label) => label.getText());
      for (const state of ['Pairing', 'Configuring', 'Testing connection', 'Provisioned']) {
        if (!steps.includes(state)) throw new Error(`no ${state} step among ${steps.join(', ')}`);
      }
      await screenshot(browser, 'pairing-provisioned');
    },
  ],
  [
    `${first}'s connected status: connected over mTLS to the station, certificate valid`,
    async (browser) => {
      await newestCard(browser, first).$('a=See connected status').click();
      await browser.$(`//h1[starts-with(normalize-space(), "${first} · ")]`).waitForDisplayed();
      await eventually(
        'the monitor to report its connection',
        async () => (await browser.$('[data-testid="connection-state"]').getText()).trim(),
        (text) => text === 'Connected',
      );
      const validity = (await browser.$('[data-testid="validity"]').getText()).trim();
      if (validity !== 'Valid') throw new Error(`certificate shown as ${validity}`);
      const serverUrl = await browser.$('//dt[normalize-space()="Server URL"]/following-sibling::dd[1]').getText();
      if (!serverUrl.startsWith(stationUrl)) throw new Error(`server URL shown as ${serverUrl}`);
      await screenshot(browser, 'device-details');
    },
  ],
  [
    `re-provisioning ${first} takes the password, a reason and its typed ID, then it pairs again`,
    async (browser) => {
      await control(browser, 'a', `Re-provision ${first}…`).click();
      await onScreen(browser, `Re-provision ${first}`);
      const confirm = control(browser, 'button', `Re-provision ${first}`);
      await (await field(browser, 'Your password')).setValue(password);
      await (await field(browser, 'Reason')).setValue('Moved to ICU bed 4');
      await (await field(browser, `Type ${first} to confirm`)).setValue(first.slice(0, -1));
      await browser.$(`//p[normalize-space()="Does not match ${first} yet."]`).waitForDisplayed();
      if (await confirm.isEnabled()) throw new Error('re-provisioning was offered before the ID was typed in full');
      await (await field(browser, `Type ${first} to confirm`)).setValue(first);
      await screenshot(browser, 'reprovision');
      await confirm.click();
      await onScreen(browser, 'Scan or type a code');
      await browser.$(`//p[contains(normalize-space(), "is back in provisioning mode")]`).waitForDisplayed();
      const after = await eventually(
        `${first} to show a new code`,
        () => shownCode(screenOf(first)),
        (code) => code !== usedCodes.get(first),
      );
      const deviceId = await (await field(browser, 'Device ID')).getValue();
      if (deviceId !== first) throw new Error(`the form starts with device ID "${deviceId}"`);
      await pairByCode(browser, first, after);
      await pairingEnds(browser, first, 'Provisioned');
      const cards = await browser.$$(`li[data-testid="pairing"][data-device="${first}"]`).length;
      if (cards !== 2) throw new Error(`${String(cards)} pairings of ${first} listed, not 2`);
    },
  ],
  [
    `a wrong code for ${second} is refused by the monitor, with what to do next`,
    async (browser) => {
      await control(browser, 'a', 'Pair another monitor').click();
      await pairByCode(browser, second, wrongCode(shownCode(screenOf(second))));
      const card = await pairingEnds(browser, second, 'Failed');
      const failure = card.$('[role="alert"][data-code="code_mismatch"]');
      await failure.waitForDisplayed();
      const message = await failure.getText();
      if (!message.includes("The pairing code does not match the monitor's.")) {
        throw new Error(`the failure says: ${message}`);
      }
      await card.$('a=Enter the code again').waitForDisplayed();
      await screenshot(browser, 'wrong-code');
    },
  ],
  [
    `${third} is found through the app's camera, pointed at its screen, and paired from its QR`,
    async (browser) => {
      await control(browser, 'a', 'Scan').click();
      await onScreen(browser, 'Scan or type a code');
      await browser.$('[data-testid="viewfinder"][data-camera-kind="app"][data-camera-state="scanning"]').waitForExist();
      thirdShown = shownPayload(screenOf(third));
      camera.showFile(join(screenOf(third), 'qr.png'));
      const found = browser.$(`//article[@data-testid="found-monitor"][.//h3[normalize-space()="Found ${third}"]]`);
      await found.waitForDisplayed();
      await eventually(
        "the camera's preview on screen",
        async () => Number(await browser.$('[data-testid="viewfinder"] img').getProperty('naturalWidth')),
        (width) => width > 0,
      );
      await eventually(
        "the found code's outline drawn around it",
        () => browser.$('[data-testid="viewfinder"] polygon').getAttribute('points'),
        (points) => points !== null && convex(points),
      );
      await screenshot(browser, 'scan-found');
      await control(browser, 'button', `Pair ${third}`).click();
      await onScreen(browser, 'Pairings');
      await pairingEnds(browser, third, 'Provisioned');
    },
  ],
  [
    "an expired QR and a QR that is not a Z Monitor's are each refused with their message while scanning goes on",
    async (browser) => {
      await control(browser, 'a', 'Scan').click();
      await onScreen(browser, 'Scan or type a code');
      const expiredAt = new Date(Date.now() - 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
      await camera.showQr(JSON.stringify({ ...thirdShown, expiresAt: expiredAt }));
      await browser.$('[role="alert"][data-code="qr_expired"]').waitForDisplayed();
      await screenshot(browser, 'scan-expired');
      await camera.showQr('https://example.org/asset/17');
      await browser.$('[role="alert"][data-code="qr_not_json"]').waitForDisplayed();
      await browser.$('[data-testid="viewfinder"][data-camera-state="scanning"]').waitForExist();
      if ((await browser.$$('[data-testid="found-monitor"]').length) !== 0) {
        throw new Error('a refused QR was offered for pairing');
      }
    },
  ],
  [
    'signing out returns to the sign-in screen and clears the keyring',
    async (browser) => {
      await signOut(browser, stationUrl);
    },
  ],
];

const exitCode = await runSuite({
  application: env('ZPAIR_APP'),
  // The virtual camera, re-read whenever the suite changes what it shows;
  // the station's address, as the demo passes it.
  args: ['--camera', `file:${camera.file}`, '--station', stationUrl],
  tauriDriver: env('ZPAIR_TAURI_DRIVER'),
  screenshots: shots,
  log: env('ZPAIR_APP_LOG'),
  steps,
});
writeSecrets();
process.exitCode = exitCode;
