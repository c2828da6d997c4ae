// @ts-check
// What the scenarios do the same way in the real app: trust the station,
// sign in and out, pair a monitor by its typed code and wait for how the
// pairing ends, save a screenshot; and the run's secrets, which every
// scenario hands to `cargo xtask e2e` to look for in the app's log.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { control, env, eventually, field, onScreen } from './harness.mjs';

/**
 * Every secret that went through the app in this run (passwords, codes, QR
 * tokens, the sessions' tokens); `writeSecrets` puts them in ZPAIR_SECRETS
 * at the end, and `cargo xtask e2e` searches the app's trace-level log for each.
 * @type {Set<string>}
 */
export const secrets = new Set();

export function writeSecrets() {
  writeFileSync(env('ZPAIR_SECRETS'), JSON.stringify([...secrets]));
}

/**
 * Saves the screen as `NAME.png` in ZPAIR_SCREENSHOTS.
 * @param {WebdriverIO.Browser} browser
 * @param {string} name
 */
export async function screenshot(browser, name) {
  // Two animation frames: the screen as last rendered, not a frame from before the last change.
  await browser.execute('return new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))');
  await browser.saveScreenshot(join(env('ZPAIR_SCREENSHOTS'), `${name}.png`));
}

/**
 * The ID of the kernel key the app keeps `stationUrl`'s session in, or null.
 * The app's store keeps it in this run's session keyring only (never the
 * user's persistent one), so none is there before this run signs in.
 * @param {string} stationUrl
 */
export const sessionKey = (stationUrl) =>
  execFileSync('keyctl', ['show', '@s'], { encoding: 'utf8' })
    .split('\n')
    .find((line) => line.includes(`user: keyring:${stationUrl}`))
    ?.trim()
    .split(/\s+/)[0] ?? null;

/**
 * Adds the tokens of the session stored under `key` to the run's secrets.
 * @param {string | null} key
 */
export function keepSessionTokens(key) {
  if (key === null) return;
  /** @type {unknown} */
  const stored = JSON.parse(execFileSync('keyctl', ['pipe', key], { encoding: 'utf8' }));
  if (typeof stored === 'object' && stored !== null) {
    for (const [name, value] of Object.entries(stored)) {
      if (name.endsWith('Token') && typeof value === 'string') secrets.add(value);
    }
  }
}

/**
 * The first start's happy path: the station's URL is filled in (the app was
 * started with --station); compare the fingerprint IT gave and trust it.
 * @param {WebdriverIO.Browser} browser
 * @param {string} fingerprint SHA-256, hex
 */
export async function trustStation(browser, fingerprint) {
  await onScreen(browser, 'Set up the Central Station');
  await control(browser, 'button', "Read the station's certificate").click();
  await (await field(browser, 'Fingerprint IT gave you (SHA-256)')).setValue(fingerprint);
  await control(browser, 'button', 'Compare and trust this station').click();
  await onScreen(browser, 'Sign in to ZPair');
}

/**
 * Signs in from the sign-in screen; returns once the app is past it (the
 * account bar, or the password-change screen of a temporary password).
 * The session's tokens join the run's secrets.
 * @param {WebdriverIO.Browser} browser
 * @param {string} stationUrl
 * @param {string} username
 * @param {string} password
 */
export async function signIn(browser, stationUrl, username, password) {
  secrets.add(password);
  await onScreen(browser, 'Sign in to ZPair');
  const before = sessionKey(stationUrl);
  await (await field(browser, 'Username')).setValue(username);
  await (await field(browser, 'Password')).setValue(password);
  await control(browser, 'button', 'Sign in').click();
  await browser
    .$('//*[@data-testid="account"] | //h1[normalize-space()="Change your password"]')
    .waitForDisplayed();
  keepSessionTokens(
    await eventually('the session in the session keyring', () => sessionKey(stationUrl), (key) => key !== null && key !== before),
  );
}

/**
 * Signs out from the account bar; returns on the sign-in screen, the session gone from the keyring.
 * @param {WebdriverIO.Browser} browser
 * @param {string} stationUrl
 */
export async function signOut(browser, stationUrl) {
  await control(browser, 'button', 'Sign out').click();
  await onScreen(browser, 'Sign in to ZPair');
  await eventually('the session gone from the keyring', () => sessionKey(stationUrl), (key) => key === null);
}

/**
 * On the Scan screen, types the device ID and a code, and sends them; the
 * app then shows the Pairings screen, or a refusal where it stands.
 * @param {WebdriverIO.Browser} browser
 * @param {string} deviceId
 * @param {string} code
 */
export async function typeCode(browser, deviceId, code) {
  secrets.add(code);
  await onScreen(browser, 'Scan or type a code');
  await (await field(browser, 'Device ID')).setValue(deviceId);
  await (await field(browser, 'Pairing code')).setValue(code.replaceAll('-', '').toLowerCase());
  await browser.$('//p[normalize-space()="Code complete"]').waitForDisplayed();
  await control(browser, 'button', 'Pair monitor').click();
}

/**
 * Types the device ID and the code, sends them, and waits for the Pairings screen.
 * @param {WebdriverIO.Browser} browser
 * @param {string} deviceId
 * @param {string} code
 */
export async function pairByCode(browser, deviceId, code) {
  await typeCode(browser, deviceId, code);
  await onScreen(browser, 'Pairings');
}

/**
 * The newest pairing card of a monitor on the Pairings screen.
 * @param {WebdriverIO.Browser} browser
 * @param {string} deviceId
 */
export const newestCard = (browser, deviceId) => browser.$(`li[data-testid="pairing"][data-device="${deviceId}"]`);

/**
 * Waits until the monitor's newest pairing shows `badge`.
 * @param {WebdriverIO.Browser} browser
 * @param {string} deviceId
 * @param {string} badge
 */
export async function pairingEnds(browser, deviceId, badge) {
  const card = newestCard(browser, deviceId);
  await eventually(
    `${deviceId}'s pairing to show ${badge}`,
    async () => (await card.$('.badge').getText()).trim(),
    (text) => text === badge,
  );
  return card;
}
