// @ts-check
// What each screen of the real app costs while it sits open: CPU (percent of
// one core) and memory of the app and each WebKit process, on the sign-in
// screen, on the Scan screen (where signing in lands) with its camera (the
// virtual one, 1280x720 at 30 fps, as a tablet's camera gives) seeing a
// room and then a monitor's QR, and on the Devices screen just after: what
// the web view still works off once the camera has stopped. `cargo xtask bench app` runs it against the release build; it prints
// one table row per screen.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { VirtualCamera } from './camera.mjs';
import { control, env, field, onScreen, runSuite } from './harness.mjs';
import { measure } from './measure.mjs';

/** How long each screen is measured, after it has settled. */
const MEASURE_MS = 10_000;
const SETTLE_MS = 2_000;

const stationUrl = env('ZPAIR_STATION_URL');
const shots = env('ZPAIR_SCREENSHOTS');
const camera = new VirtualCamera(join(dirname(shots), 'camera', 'view.png'));
const [firstScreen] = env('ZPAIR_MONITORS')
  .split(',')
  .map((pair) => pair.split('=', 2)[1] ?? '');
if (firstScreen === undefined) throw new Error('ZPAIR_MONITORS names no monitor');
camera.showScene(null);

/** @type {string[]} */
const rows = [];

/**
 * Measures the screen as it is now; adds its table row.
 * @param {string} what
 */
async function row(what) {
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  const costs = await measure(MEASURE_MS);
  const cpuOf = (/** @type {string} */ program) =>
    costs.filter((c) => c.program === program).reduce((sum, c) => sum + c.cpu, 0);
  const cpu = costs.reduce((sum, c) => sum + c.cpu, 0);
  const pss = costs.reduce((sum, c) => sum + c.pssMiB, 0);
  const percent = (/** @type {number} */ value) => `${value.toFixed(1)} %`;
  rows.push(
    `| ${what} | ${percent(cpuOf('zpair-app'))} | ${percent(cpuOf('WebKitWebProcess'))} | ` +
      `${percent(cpuOf('WebKitNetworkProcess'))} | ${percent(cpu)} | ${pss.toFixed(0)} MiB |`,
  );
}

/** @type {Array<[string, (browser: WebdriverIO.Browser) => Promise<void>]>} */
const steps = [
  [
    'the sign-in screen, then signed in',
    async (browser) => {
      await onScreen(browser, 'Set up the Central Station');
      await (await field(browser, 'Central Station URL')).setValue(stationUrl);
      await control(browser, 'button', "Read the station's certificate").click();
      await (await field(browser, 'Fingerprint IT gave you (SHA-256)')).setValue(env('ZPAIR_STATION_FINGERPRINT'));
      await control(browser, 'button', 'Compare and trust this station').click();
      await onScreen(browser, 'Sign in to ZPair');
      await row('Sign-in screen');
      await (await field(browser, 'Username')).setValue(env('ZPAIR_USERNAME'));
      await (await field(browser, 'Password')).setValue(env('ZPAIR_PASSWORD'));
      await control(browser, 'button', 'Sign in').click();
      await browser.$('[data-testid="account"]').waitForDisplayed();
    },
  ],
  [
    'the Scan screen, no code in view',
    async (browser) => {
      await onScreen(browser, 'Scan or type a code');
      await browser.$('[data-testid="viewfinder"][data-camera-kind="app"][data-camera-state="scanning"]').waitForExist();
      await row('Scan screen, camera on, no code in view');
    },
  ],
  [
    "the Scan screen, a monitor's QR in view",
    async (browser) => {
      camera.showScene(readFileSync(join(firstScreen, 'qr.json'), 'utf8'));
      await browser.$('[data-testid="found-monitor"]').waitForDisplayed();
      await row("Scan screen, camera on, a monitor's QR in view (found, countdown running)");
    },
  ],
  [
    'the Devices screen',
    async (browser) => {
      await control(browser, 'a', 'Devices').click();
      await onScreen(browser, 'Devices');
      await row('Devices screen, from 2 s after leaving Scan');
    },
  ],
];

const exitCode = await runSuite({
  application: env('ZPAIR_APP'),
  args: ['--camera', `file:${camera.file}`],
  tauriDriver: env('ZPAIR_TAURI_DRIVER'),
  screenshots: shots,
  log: env('ZPAIR_APP_LOG'),
  steps,
});
console.log('');
console.log(`| screen (${String(MEASURE_MS / 1000)} s each) | zpair-app | WebKitWebProcess | WebKitNetworkProcess | all | PSS, all |`);
console.log('| --- | --- | --- | --- | --- | --- |');
for (const line of rows) console.log(line);
process.exitCode = exitCode;
