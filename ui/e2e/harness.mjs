// @ts-check
// A small runner for one WebDriver session of the real app: starts
// tauri-driver (which starts WebKitWebDriver, which starts the app), runs
// named steps in order, saves screenshots, and ends with the line CI counts:
// "N passed, N failed". Steps build on each other, so after a failure the
// rest are reported as failed without running.
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, readFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';
import { remote } from 'webdriverio';

/** How long any one wait may take: generous for a loaded 2-core CI machine. */
export const WAIT_MS = 30_000;
/** How long the whole suite may take before it is stopped as hung (it takes about 15 s). */
const SUITE_MS = 10 * 60_000;

/** @param {string} name */
export function env(name) {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is not set: run this suite with \`cargo xtask e2e\``);
  return value;
}

/**
 * A TCP port nobody listens on right now.
 * @returns {Promise<number>}
 */
async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

/** @param {number} port */
async function listening(port) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    /** @type {boolean} */
    const up = await new Promise((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.once('error', () => {
        resolve(false);
      });
    });
    if (up) return;
    if (Date.now() > deadline) throw new Error(`tauri-driver did not listen on port ${String(port)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Runs `steps` against the app at `application`; returns the process exit code.
 * The drivers' and the app's own output goes to `log`.
 * @param {{ application: string, args: string[], tauriDriver: string, screenshots: string, log: string,
 *   steps: Array<[string, (browser: WebdriverIO.Browser) => Promise<void>]> }} options
 */
export async function runSuite({ application, args, tauriDriver, screenshots, log, steps }) {
  mkdirSync(screenshots, { recursive: true });
  const port = await freePort();
  const nativePort = await freePort();
  const output = openSync(log, 'w');
  const driver = spawn(tauriDriver, ['--port', String(port), '--native-port', String(nativePort)], {
    stdio: ['ignore', output, output],
  });
  let passed = 0;
  let failed = 0;
  // A driver that stops answering must not hold CI up: report what ran, count the rest as failed.
  const watchdog = setTimeout(() => {
    console.log(`✗ the suite did not finish within ${String(SUITE_MS / 60_000)} minutes`);
    driver.kill();
    console.log(`${String(passed)} passed, ${String(steps.length - passed)} failed`);
    process.exit(1);
  }, SUITE_MS);
  /** @type {WebdriverIO.Browser | undefined} */
  let browser;
  try {
    await listening(port);
    browser = await remote({
      hostname: '127.0.0.1',
      port,
      logLevel: 'warn',
      connectionRetryCount: 0,
      waitforTimeout: WAIT_MS,
      capabilities: {
        // @ts-expect-error tauri-driver's own capability, unknown to WebdriverIO's types.
        'tauri:options': { application, args },
        // WebKitWebDriver speaks classic WebDriver, not BiDi.
        'wdio:enforceWebDriverClassic': true,
      },
    });
  } catch (error) {
    console.error(`✗ the app did not start under WebDriver: ${describe(error)}`);
  }
  let broken = browser === undefined;
  for (const [name, step] of steps) {
    if (broken || browser === undefined) {
      console.log(`✗ ${name} (not run: an earlier step failed)`);
      failed += 1;
      continue;
    }
    const started = Date.now();
    try {
      await step(browser);
      passed += 1;
      console.log(`✓ ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    } catch (error) {
      failed += 1;
      broken = true;
      console.log(`✗ ${name}\n    ${describe(error)}`);
      await browser.saveScreenshot(join(screenshots, 'failure.png')).catch(() => undefined);
    }
  }
  await browser?.deleteSession().catch(() => undefined);
  driver.kill();
  clearTimeout(watchdog);
  if (failed > 0) console.log(`The app's and the drivers' output: ${log}; the screen at the failure: ${join(screenshots, 'failure.png')}`);
  console.log(`${String(passed)} passed, ${String(failed)} failed`);
  return failed === 0 ? 0 : 1;
}

/** @param {unknown} error */
function describe(error) {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

/**
 * The input a label names, as a person finds a field.
 * @param {WebdriverIO.Browser} browser
 * @param {string} text the label's exact text
 */
export async function field(browser, text) {
  const label = browser.$(`//label[normalize-space()=${xpathString(text)}]`);
  await label.waitForExist();
  const id = await label.getAttribute('for');
  if (id === null) throw new Error(`the label "${text}" names no field`);
  return browser.$(`#${id}`);
}

/**
 * A button or link by its visible text.
 * @param {WebdriverIO.Browser} browser
 * @param {'button' | 'a'} tag
 * @param {string} text
 */
export function control(browser, tag, text) {
  return browser.$(`//${tag}[normalize-space()=${xpathString(text)}]`);
}

/**
 * Waits for the page's one h1 to read `title`.
 * @param {WebdriverIO.Browser} browser
 * @param {string} title
 */
export async function onScreen(browser, title) {
  await browser.$(`//h1[normalize-space()=${xpathString(title)}]`).waitForDisplayed();
}

/**
 * Waits until `read` returns a value `accept` takes; returns it.
 * @template T
 * @param {string} what
 * @param {() => Promise<T> | T} read
 * @param {(value: T) => boolean} accept
 */
export async function eventually(what, read, accept) {
  const deadline = Date.now() + WAIT_MS;
  /** @type {T | undefined} */
  let last;
  for (;;) {
    try {
      last = await read();
      if (accept(last)) return last;
    } catch {
      // Not there yet: a file half-written, an element re-rendered.
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last seen: ${JSON.stringify(last)})`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * The pairing code a monitor shows now, read from its screen folder.
 * @param {string} screenDir
 */
export function shownCode(screenDir) {
  /** @type {unknown} */
  const shown = JSON.parse(readFileSync(join(screenDir, 'qr.json'), 'utf8'));
  const code = typeof shown === 'object' && shown !== null && 'pairingCode' in shown ? shown.pairingCode : null;
  if (typeof code !== 'string') throw new Error(`no pairing code on the screen in ${screenDir}`);
  return code;
}

/** @param {string} text */
function xpathString(text) {
  return text.includes('"') ? `'${text}'` : `"${text}"`;
}
