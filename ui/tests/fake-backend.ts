// A stand-in for the Rust side that keeps the IPC contract (ARCHITECTURE.md, "The app's IPC"):
// the same commands, arguments, results, error codes and events, backed by a
// small in-memory state machine the tests drive step by step.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Account } from '../src/bindings/Account';
import type { AppError } from '../src/bindings/AppError';
import type { CodeCheck } from '../src/bindings/CodeCheck';
import type { ConnectedStatus } from '../src/bindings/ConnectedStatus';
import type { DeviceSummary } from '../src/bindings/DeviceSummary';
import { ERROR_CATALOGUE } from '../src/bindings/ErrorCatalogue';
import type { ErrorCode } from '../src/bindings/ErrorCode';
import type { HistoryEntry } from '../src/bindings/HistoryEntry';
import type { JobState } from '../src/bindings/JobState';
import type { Pairing } from '../src/bindings/Pairing';
import type { SetupState } from '../src/bindings/SetupState';
import type { StationProbe } from '../src/bindings/StationProbe';
import { DAY, MINUTE, Refusal, appError, iso, messageFor, text } from './fake-common';
import { ADMIN_COMMANDS, FakeAdmin, seedAccounts } from './fake-admin';
import { FakeScanner, ScanRefusal } from './fake-scanner';

export { Refusal, appError, messageFor };

export type InvokeResult = { ok: true; value: unknown } | { ok: false; error: AppError };
export type Emit = (event: string, payload: unknown) => Promise<void>;
export interface Call {
  command: string;
  args: Record<string, unknown>;
}

export const TECHNICIAN: Account = {
  username: 'dana',
  displayName: 'Dana Whitfield',
  role: 'technician',
  mustChangePassword: false,
};
export const ADMINISTRATOR: Account = {
  username: 'sam',
  displayName: 'Sam Okafor',
  role: 'administrator',
  mustChangePassword: false,
};
/** An account signed in with the temporary password an administrator handed out. */
export const NEW_TECHNICIAN: Account = {
  username: 'kim',
  displayName: 'Kim Tran',
  role: 'technician',
  mustChangePassword: true,
};
export const PASSWORDS: Record<string, string> = { dana: 'correct horse', sam: 'battery staple', kim: 'Temp-4821-kx' };

export const STATION_URL = 'https://station.hospital.test:8443';
export const STATION_FINGERPRINT = '3f9a0c1be27d4458a6b9e0f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b';
/** A real CA certificate (tests/contract/hospital-ca.pem), read as Rust reads it. */
export const CA_PEM = readFileSync(path.join(import.meta.dirname, 'contract', 'hospital-ca.pem'), 'utf8');
export const CA_FINGERPRINT = caCertificate(CA_PEM).fingerprint;

/** What Rust's CertificateInfo::from_pem reads from a CA file: the first
 * certificate's SHA-256 and subject, or a refusal. */
export function caCertificate(pem: string): { fingerprint: string; subject: string } {
  const block = /-----BEGIN CERTIFICATE-----([^-]*)-----END CERTIFICATE-----/.exec(pem);
  try {
    if (block === null) throw new Error('no certificate');
    const certificate = new X509Certificate(`-----BEGIN CERTIFICATE-----${block[1] ?? ''}-----END CERTIFICATE-----\n`);
    return {
      fingerprint: certificate.fingerprint256.replaceAll(':', '').toLowerCase(),
      // Node lists the attributes one per line; Rust (x509-parser) joins them with ", ".
      subject: certificate.subject.split('\n').join(', '),
    };
  } catch {
    throw new Refusal('invalid_trust_anchor');
  }
}


/** How the monitor was identified, which decides between re-scanning and re-typing. */
export type Entry = 'scanned' | 'typed';

const STEP_MESSAGES: Record<JobState, string> = {
  SUBMITTING: 'Request sent to the Central Station',
  PAIRING: 'Monitor proved its identity',
  CONFIGURING: 'Signed configuration sent to the monitor',
  VALIDATING: 'Monitor is testing its new connection',
  CONFIRMING: "The monitor's answer was lost on the network. Confirming with the monitor.",
  PROVISIONED: 'Monitor connected with its new certificate',
  FAILED: 'Pairing failed',
};


// The pairing code's rules as zpair_proto::pairing_code has them.
const ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
const LOOK_ALIKES: Record<string, string> = {
  А: 'A', а: 'A', Α: 'A', α: 'A', В: 'B', в: 'B', Β: 'B', β: 'B', Е: 'E', е: 'E', Ε: 'E', ε: 'E',
  К: 'K', к: 'K', Κ: 'K', κ: 'K', М: 'M', м: 'M', Μ: 'M', Н: 'H', н: 'H', Η: 'H', Р: 'P', р: 'P',
  Ρ: 'P', ρ: 'P', С: 'C', с: 'C', Ϲ: 'C', Т: 'T', т: 'T', Τ: 'T', τ: 'T', Х: 'X', х: 'X', Χ: 'X',
  χ: 'X', У: 'Y', у: 'Y', Υ: 'Y', Ζ: 'Z', Ν: 'N', О: 'O', о: 'O', Ο: 'O', ο: 'O',
};

/** zpair_core::code::check_typed: the code as typed so far, re-formatted, and
 * what is already wrong with it. */
export function checkCode(input: string): CodeCheck {
  const chars: string[] = [];
  let count = 0;
  let error: AppError | null = null;
  for (const raw of input) {
    const code = raw.codePointAt(0) ?? 0;
    const wide = code >= 0xff01 && code <= 0xff5e ? String.fromCodePoint(code - 0xfee0) : raw;
    const folded = LOOK_ALIKES[wide] ?? wide;
    if (/[\s\-_.·\u2010-\u2015\u2212]/u.test(folded)) continue;
    const upper = folded.toUpperCase();
    if (!ALPHABET.includes(upper)) {
      error ??= appError(
        'invalid_code',
        `'${raw}' never appears in a pairing code (codes use no 0, O, 1, I or L). Check the code on the monitor's screen`,
      );
      continue;
    }
    count += 1;
    if (chars.length < 9) chars.push(upper);
  }
  if (count > 9) {
    error ??= appError(
      'invalid_code',
      `a pairing code has 9 characters (XXX-XXX-XXX); this one has ${String(count)}. Check the code on the monitor's screen`,
    );
  }
  const groups = [chars.slice(0, 3), chars.slice(3, 6), chars.slice(6)].filter((g) => g.length > 0);
  return { display: groups.map((g) => g.join('')).join('-'), complete: error === null && count === 9, error };
}

export interface Device {
  summary: DeviceSummary;
  status: ConnectedStatus;
  /** Its last pairing failed (the registry's "failed" group). */
  lastPairingFailed?: boolean;
}


function device(
  deviceId: string,
  bed: string,
  state: DeviceSummary['state'],
  connection: ConnectedStatus['connectionState'],
  validity: 'valid' | 'expiring_soon' | 'expired' | 'revoked' | null,
): Device {
  const now = Date.now();
  const notAfter = { valid: 300 * DAY, expiring_soon: 10 * DAY, expired: -3 * DAY, revoked: 200 * DAY };
  const summary: DeviceSummary = {
    deviceId,
    deviceSerial: `ZMS-${deviceId.slice(3)}-2291`,
    deviceLabel: `ICU 3 bed ${bed}`,
    bedId: `ICU3-${bed}`,
    ipAddress: `127.0.0.${String(Number(bed) + 1)}`,
    state,
  };
  return {
    summary,
    status: {
      deviceId,
      deviceLabel: summary.deviceLabel,
      state,
      connectionState: connection,
      serverUrl: validity === null ? null : STATION_URL,
      certificate:
        validity === null
          ? null
          : {
              serial: `4F:2A:${bed}:9C:11`,
              notBefore: iso(now - 65 * DAY),
              notAfter: iso(now + notAfter[validity]),
              validity,
            },
      lastConnected: connection === 'never' ? null : iso(connection === 'connected' ? now - 20_000 : now - 125 * MINUTE),
      uptimeSeconds: connection === 'connected' ? 3 * 86400 + 4 * 3600 + 5 * 60 : 0,
      counters: { heartbeats: 9250, bytesSent: 4_718_592, errors: connection === 'connected' ? 0 : 3 },
      alert: null,
    },
  };
}

const WARDS = ['ICU 1', 'ICU 2', 'Ward 5', 'Ward 7', 'Cardiology', 'Recovery'];

/** Monitors 6 to `size`, spread over the registry's groups: paired, certificate expiring, never
 * paired, failed, de-provisioned. */
function moreMonitors(size: number): Device[] {
  const monitors: Device[] = [];
  for (let i = 6; i <= size; i += 1) {
    const id = `ZM-${String(i).padStart(3, '0')}`;
    const bed = String((i % 12) + 1).padStart(2, '0');
    const made =
      i % 9 === 0
        ? device(id, bed, 'DEPROVISIONED', 'disconnected', 'revoked')
        : i % 7 === 0
          ? { ...device(id, bed, 'UNPROVISIONED', 'never', null), lastPairingFailed: true }
          : i % 5 === 0
            ? device(id, bed, 'UNPROVISIONED', 'never', null)
            : i % 4 === 0
              ? device(id, bed, 'PROVISIONED', 'connected', 'expiring_soon')
              : device(id, bed, 'PROVISIONED', i % 3 === 0 ? 'disconnected' : 'connected', 'valid');
    const ward = WARDS[i % WARDS.length] ?? 'ICU 1';
    made.summary.deviceSerial = `ZMS-${String(40000 + i * 37)}`;
    made.summary.deviceLabel = `${ward} bed ${bed}`;
    made.summary.bedId = `${ward.replace(/\s/g, '').toUpperCase()}-${bed}`;
    made.summary.ipAddress = `10.20.${String(10 + (i % 6))}.${String(i)}`;
    made.status.deviceLabel = made.summary.deviceLabel;
    if (made.status.certificate !== null) {
      made.status.certificate.serial = `4F:2A:${String(i).padStart(2, '0')}:9C:${bed}`;
      if (made.status.certificate.validity === 'expiring_soon') {
        made.status.certificate.notAfter = iso(Date.now() + ((i * 3) % 28) * DAY + 5 * 3_600_000);
      }
    }
    monitors.push(made);
  }
  return monitors;
}

/** A monitor just registered: never paired, never connected. */
function registered(summary: DeviceSummary): Device {
  return {
    summary,
    status: {
      deviceId: summary.deviceId,
      deviceLabel: summary.deviceLabel,
      state: summary.state,
      connectionState: 'never',
      serverUrl: null,
      certificate: null,
      lastConnected: null,
      uptimeSeconds: 0,
      counters: { heartbeats: 0, bytesSent: 0, errors: 0 },
      alert: null,
    },
  };
}

export interface Scenario {
  /** No station set up yet: the app opens on the setup screen. */
  firstRun?: boolean;
  /** The session Rust restores at start-up; null opens on the sign-in screen. */
  account?: Account | null;
  /** The address the app was started with (`--station`), as the demo does. */
  suggestedStationUrl?: string;
  /** Monitors in the registry (at least the five the technicians' tests use). */
  registrySize?: number;
  /** Where Rust keeps the sign-in (null: no usable system store). */
  signInKeptIn?: string | null;
}

/** Commands that ask the station for something the account must change its password before
 * (the others are the app's own, or the station's exceptions: sign-in, sign-out, the password). */
const STATION_COMMANDS = new Set(['list_devices', 'device_status', 'reprovision', 'start_pairing', 'retry_pairing', 'pair_scanned']);

/** What Rust reports for the kernel's session keyring (zpair-core's StoreKind label). */
export const SESSION_KEYRING = "the kernel's session keyring (ends at logout)";

export class FakeBackend {
  setup: SetupState;
  probe: StationProbe = {
    stationUrl: STATION_URL,
    fingerprint: STATION_FINGERPRINT,
    subject: 'CN=station.hospital.test, O=St Example Hospital',
    issuer: 'CN=St Example Hospital Root CA',
    notAfter: iso(Date.now() + 400 * DAY),
  };
  account: Account | null;
  devices = new Map<string, Device>();
  pairings: Pairing[] = [];
  history: HistoryEntry[];
  readonly calls: Call[] = [];
  readonly scanner = new FakeScanner();
  readonly admin: FakeAdmin;
  readonly #queued = new Map<string, AppError[]>();
  readonly #held = new Map<string, Promise<void>[]>();
  readonly #heldAnswers = new Map<string, Promise<void>[]>();
  #emit: Emit = () => Promise.resolve();
  #nextPairing = 1;
  #clock = Date.now() - 2 * MINUTE;

  constructor(scenario: Scenario = {}) {
    const suggestedStationUrl = scenario.suggestedStationUrl ?? null;
    const signInKeptIn = scenario.signInKeptIn === undefined ? SESSION_KEYRING : scenario.signInKeptIn;
    this.setup = scenario.firstRun
      ? { stationUrl: null, trust: null, suggestedStationUrl, signInKeptIn }
      : {
          stationUrl: STATION_URL,
          trust: { kind: 'fingerprint', fingerprint: STATION_FINGERPRINT, subject: this.probe.subject },
          suggestedStationUrl,
          signInKeptIn,
        };
    // A copy: a password change edits the session's account, and the constants are shared by every test.
    this.account = scenario.account === undefined ? { ...TECHNICIAN } : scenario.account && { ...scenario.account };
    for (const d of [
      device('ZM-001', '01', 'PROVISIONED', 'connected', 'valid'),
      device('ZM-002', '02', 'PROVISIONED', 'disconnected', 'expiring_soon'),
      device('ZM-003', '03', 'UNPROVISIONED', 'never', null),
      device('ZM-004', '04', 'PROVISIONED', 'connected', 'expired'),
      device('ZM-005', '05', 'AWAITING_REPROVISION', 'disconnected', 'revoked'),
      ...moreMonitors(scenario.registrySize ?? 5),
    ]) {
      this.devices.set(d.summary.deviceId, d);
    }
    const now = Date.now();
    this.admin = new FakeAdmin({ devices: this.devices, newDevice: registered }, seedAccounts(now));
    this.history = [
      { at: iso(now - 3 * DAY), deviceId: 'ZM-001', action: 'paired', outcome: 'provisioned', failureCode: null },
      { at: iso(now - 2 * DAY), deviceId: 'ZM-002', action: 'paired', outcome: 'failed', failureCode: 'code_expired' },
      { at: iso(now - 100 * MINUTE), deviceId: 'ZM-005', action: 'reprovisioned', outcome: 'started', failureCode: null },
    ];
  }

  /** Where events go: the page the app runs in. */
  connect(emit: Emit): void {
    this.#emit = emit;
  }

  /** The next call of `command` rejects with this error (Rust's `{ code, message }`). */
  failNext(command: string, code: ErrorCode, message?: string): void {
    const queue = this.#queued.get(command) ?? [];
    queue.push(appError(code, message));
    this.#queued.set(command, queue);
  }

  /** The next call of `command` waits until the returned function is called: a screen's loading state. */
  hold(command: string): () => void {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.#held.set(command, [...(this.#held.get(command) ?? []), held]);
    return release;
  }

  /** The next call of `command` is handled at once, but its answer reaches the page only when the
   * returned function is called: events sent meanwhile arrive first, as they can from Rust. */
  holdAnswer(command: string): () => void {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.#heldAnswers.set(command, [...(this.#heldAnswers.get(command) ?? []), held]);
    return release;
  }

  callsTo(command: string): Record<string, unknown>[] {
    return this.calls.filter((call) => call.command === command).map((call) => call.args);
  }

  status(deviceId: string): ConnectedStatus {
    const found = this.devices.get(deviceId);
    if (!found) throw new Error(`no fake device ${deviceId}`);
    return found.status;
  }

  async invoke(command: string, args: Record<string, unknown>): Promise<InvokeResult> {
    // Frames are recorded by the scanner, by size: a call list of megabyte bodies would help no test.
    if (command !== 'scan_frame') this.calls.push({ command, args });
    const held = this.#held.get(command)?.shift();
    if (held) await held;
    const queued = this.#queued.get(command)?.shift();
    if (queued) return { ok: false, error: queued };
    try {
      // A structured clone, as JSON over IPC would be: the page never shares objects with the backend.
      const value: unknown = structuredClone(this.#handle(command, args));
      const answerHeld = this.#heldAnswers.get(command)?.shift();
      if (answerHeld) await answerHeld;
      return { ok: true, value };
    } catch (error) {
      if (error instanceof Refusal) return { ok: false, error: error.appError };
      if (error instanceof ScanRefusal) return { ok: false, error: appError(error.code) };
      throw error;
    }
  }

  // ---- what the tests do on the Rust side's behalf ----

  /** Adds a pairing as if started earlier in this run (what list_pairings returns). */
  seedPairing(deviceId: string, state: JobState = 'PAIRING'): Pairing {
    const pairing = this.#newPairing(deviceId);
    for (const next of ['PAIRING', 'CONFIGURING', 'VALIDATING', 'PROVISIONED'] as const) {
      if (pairing.state === state) break;
      this.#step(pairing, next, STEP_MESSAGES[next]);
    }
    return pairing;
  }

  /** The station reports the next state of the latest pairing of `deviceId`. */
  async advance(deviceId: string, state: JobState, message = STEP_MESSAGES[state]): Promise<Pairing> {
    const pairing = this.latestPairing(deviceId);
    pairing.jobId ??= `job-${pairing.pairingId}`;
    this.#step(pairing, state, message);
    if (state === 'PROVISIONED') {
      const found = this.devices.get(deviceId);
      if (found) {
        found.summary.state = 'PROVISIONED';
        found.status.state = 'PROVISIONED';
        found.status.connectionState = 'connected';
      }
      this.admin.pairingEnded(deviceId, true);
      this.#finishHistory(deviceId, 'provisioned');
    }
    await this.#emit('pairing://status', pairing);
    return pairing;
  }

  /** The latest pairing of `deviceId` fails with `code` (a job's failure, or
   * the station's refusal of the pair request), with the next action Rust's
   * catalogue gives for a monitor identified by `entry`. */
  async failPairing(deviceId: string, code: ErrorCode, entry: Entry = 'typed'): Promise<Pairing> {
    const pairing = this.latestPairing(deviceId);
    const { message, [entry]: nextAction } = ERROR_CATALOGUE[code];
    this.#step(pairing, 'FAILED', message);
    pairing.failure = { code, message };
    pairing.nextAction = nextAction;
    this.admin.pairingEnded(deviceId, false);
    this.#finishHistory(deviceId, 'failed', code);
    await this.#emit('pairing://status', pairing);
    return pairing;
  }

  /** The refresh token was refused: every command needing a session now fails until a new sign-in. */
  async expireSession(): Promise<void> {
    this.account = null;
    await this.#emit('session://expired', null);
  }

  latestPairing(deviceId: string): Pairing {
    const pairing = this.pairings.find((p) => p.deviceId === deviceId);
    if (!pairing) throw new Error(`no fake pairing for ${deviceId}`);
    return pairing;
  }

  // ---- the commands ----

  #handle(command: string, args: Record<string, unknown>): unknown {
    if (this.account?.mustChangePassword && (STATION_COMMANDS.has(command) || ADMIN_COMMANDS.has(command))) {
      throw new Refusal('password_change_required');
    }
    if (ADMIN_COMMANDS.has(command)) {
      const account = this.#requireSession();
      if (account.role !== 'administrator') throw new Refusal('forbidden_role');
      return this.admin.handle(command, args, account);
    }
    switch (command) {
      case 'get_setup':
        return this.setup;
      case 'probe_station':
        return { ...this.probe, stationUrl: text(args, 'stationUrl') };
      case 'trust_station_fingerprint': {
        if (text(args, 'fingerprint') !== this.probe.fingerprint) throw new Refusal('station_untrusted');
        this.setup = {
          ...this.setup,
          stationUrl: text(args, 'stationUrl'),
          trust: { kind: 'fingerprint', fingerprint: this.probe.fingerprint, subject: this.probe.subject },
        };
        return this.setup;
      }
      case 'trust_station_ca': {
        const ca = caCertificate(text(args, 'caPem'));
        this.setup = { ...this.setup, stationUrl: text(args, 'stationUrl'), trust: { kind: 'ca', ...ca } };
        return this.setup;
      }
      case 'get_account':
        return this.account;
      case 'sign_in':
        this.account = this.admin.signIn(text(args, 'username'), text(args, 'password'));
        return this.account;
      case 'change_password':
        return this.admin.changePassword(this.#requireSession(), args);
      case 'sign_out':
        this.account = null;
        return null;
      case 'check_code':
        return checkCode(text(args, 'input'));
      case 'start_pairing':
        return this.#startPairing(text(args, 'deviceId'), text(args, 'code'));
      case 'retry_pairing': {
        const pairing = this.#signedInPairing(text(args, 'pairingId'));
        pairing.failure = null;
        pairing.nextAction = null;
        this.#step(pairing, 'SUBMITTING', 'Trying again with the same code');
        return pairing;
      }
      case 'dismiss_pairing': {
        const pairing = this.#pairing(text(args, 'pairingId'));
        if (pairing.state !== 'PROVISIONED' && pairing.state !== 'FAILED') throw new Refusal('pairing_in_progress');
        this.pairings = this.pairings.filter((p) => p !== pairing);
        return null;
      }
      case 'list_pairings':
        return this.pairings;
      case 'list_devices':
        this.#requireSession();
        return [...this.devices.values()].map((d) => d.summary);
      case 'device_status':
        this.#requireSession();
        return this.#device(text(args, 'deviceId')).status;
      case 'reprovision':
        return this.#reprovision(args);
      case 'scan_frame': {
        const report = this.scanner.scan(text(args, 'body'), args.headers as Record<string, string>, (deviceId) =>
          this.#running(deviceId),
        );
        if (report.sighting.kind === 'refused') Object.assign(report.sighting, appError(report.sighting.code));
        return report;
      }
      case 'pair_scanned': {
        const account = this.#requireSession();
        if (account.role !== 'technician') throw new Refusal('forbidden_role');
        const { deviceId } = this.scanner.take(text(args, 'scanId'));
        this.history.push({ at: iso(Date.now()), deviceId, action: 'paired', outcome: 'started', failureCode: null });
        return this.#newPairing(deviceId);
      }
      case 'list_cameras':
        // The web view's camera is the one these tests drive.
        return [];
      case 'dismiss_scanned':
        this.scanner.dismiss(text(args, 'scanId'));
        return null;
      case 'history':
        return this.history;
      default:
        throw new Error(`the fake backend has no command ${command}`);
    }
  }

  #startPairing(deviceId: string, code: string): Pairing {
    const account = this.#requireSession();
    if (account.role !== 'technician') throw new Refusal('forbidden_role');
    if (!checkCode(code).complete) throw new Refusal('invalid_code');
    this.#device(deviceId);
    if (this.#running(deviceId)) throw new Refusal('pairing_in_progress');
    this.history.push({ at: iso(Date.now()), deviceId, action: 'paired', outcome: 'started', failureCode: null });
    return this.#newPairing(deviceId);
  }

  #reprovision(args: Record<string, unknown>): DeviceSummary {
    const account = this.#requireSession();
    if (account.role !== 'technician') throw new Refusal('forbidden_role');
    if (this.admin.passwordOf(account.username) !== text(args, 'password')) throw new Refusal('invalid_credentials');
    const deviceId = text(args, 'deviceId');
    if (text(args, 'confirmDeviceId') !== deviceId) throw new Refusal('confirmation_mismatch');
    const found = this.#device(deviceId);
    found.summary.state = 'AWAITING_REPROVISION';
    found.status.state = 'AWAITING_REPROVISION';
    if (found.status.certificate) found.status.certificate.validity = 'revoked';
    this.history.push({ at: iso(Date.now()), deviceId, action: 'reprovisioned', outcome: 'started', failureCode: null });
    return found.summary;
  }

  #running(deviceId: string): boolean {
    return this.pairings.some((p) => p.deviceId === deviceId && p.state !== 'PROVISIONED' && p.state !== 'FAILED');
  }

  #requireSession(): Account {
    if (this.account === null) throw new Refusal('session_expired');
    return this.account;
  }

  #device(deviceId: string): Device {
    const found = this.devices.get(deviceId);
    if (!found) throw new Refusal('unknown_device');
    return found;
  }

  #pairing(pairingId: string): Pairing {
    const pairing = this.pairings.find((p) => p.pairingId === pairingId);
    if (!pairing) throw new Error(`no fake pairing ${pairingId}`);
    return pairing;
  }

  #signedInPairing(pairingId: string): Pairing {
    this.#requireSession();
    return this.#pairing(pairingId);
  }

  #newPairing(deviceId: string): Pairing {
    const at = this.#tick();
    const pairing: Pairing = {
      pairingId: `p-${String(this.#nextPairing++)}`,
      jobId: null,
      deviceId,
      state: 'SUBMITTING',
      steps: [{ state: 'SUBMITTING', message: STEP_MESSAGES.SUBMITTING, at }],
      failure: null,
      nextAction: null,
      startedAt: at,
      revision: 1,
    };
    this.pairings.unshift(pairing);
    return pairing;
  }

  #step(pairing: Pairing, state: JobState, message: string): void {
    pairing.revision += 1;
    pairing.state = state;
    pairing.steps.push({ state, message, at: this.#tick() });
  }

  #finishHistory(deviceId: string, outcome: HistoryEntry['outcome'], failureCode: ErrorCode | null = null): void {
    const entry = this.history.findLast((e) => e.deviceId === deviceId && e.action === 'paired');
    if (entry) {
      entry.outcome = outcome;
      entry.failureCode = failureCode;
    }
  }

  /** Steps 1.2 s apart, so their times and offsets are distinct on screen. */
  #tick(): string {
    this.#clock += 1200;
    return iso(this.#clock);
  }
}

