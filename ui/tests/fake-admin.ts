// The administrators' side of the fake backend: the station's registry with
// its search, import dry run and de-provisioning, accounts, the audit log,
// pairing reports and the certificates overview, answered as the app's
// admin commands answer them (IPC contract: /work/notes/common.md, "The
// Tauri IPC contract"), with the station's rules (zpair_proto::admin and the
// station's validation) copied where the screens depend on them.
import { createHash, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import type { Account } from '../src/bindings/Account';
import type { AccountRecord } from '../src/bindings/AccountRecord';
import type { AuditEvent } from '../src/bindings/AuditEvent';
import type { AuditPage } from '../src/bindings/AuditPage';
import type { AuditQuery } from '../src/bindings/AuditQuery';
import type { AuditVerification } from '../src/bindings/AuditVerification';
import type { BrokenLink } from '../src/bindings/BrokenLink';
import type { CertificateEntry } from '../src/bindings/CertificateEntry';
import type { CertificateOverview } from '../src/bindings/CertificateOverview';
import type { DeviceImport } from '../src/bindings/DeviceImport';
import type { DevicePage } from '../src/bindings/DevicePage';
import type { DeviceQuery } from '../src/bindings/DeviceQuery';
import type { DeviceState } from '../src/bindings/DeviceState';
import type { DeviceSummary } from '../src/bindings/DeviceSummary';
import type { ErrorCode } from '../src/bindings/ErrorCode';
import type { ExportedFile } from '../src/bindings/ExportedFile';
import type { ImportDryRun } from '../src/bindings/ImportDryRun';
import type { ImportPreview } from '../src/bindings/ImportPreview';
import type { ImportPreviewRow } from '../src/bindings/ImportPreviewRow';
import type { ImportReport } from '../src/bindings/ImportReport';
import type { NewAccount } from '../src/bindings/NewAccount';
import type { PairingRecord } from '../src/bindings/PairingRecord';
import type { PairingReport } from '../src/bindings/PairingReport';
import type { RegistryEntry } from '../src/bindings/RegistryEntry';
import type { RegistryFilter } from '../src/bindings/RegistryFilter';
import type { ReportQuery } from '../src/bindings/ReportQuery';
import type { TemporaryPassword } from '../src/bindings/TemporaryPassword';
import type { Device } from './fake-backend';
import { DAY, HOUR, MINUTE, Refusal, appError, iso, object, text } from './fake-common';
import { readImportFile } from './fake-import';

/** Where exports land: the user's download folder, as the app's export folder defaults to. */
export const EXPORT_DIR = '/home/sam/Downloads';

// zpair_proto::admin's limits.
const MAX_PAGE = 1000;
const DEFAULT_PAGE = 100;
const EXPIRING_WITHIN_DAYS = 30;
const MAX_REPORT_DAYS = 31;
const MIN_PASSWORD_CHARS = 12;
const MAX_REASON_CHARS = 500;
/** Failed sign-ins before an account locks, and for how long. */
const LOCK_AFTER = 5;
const LOCK_MS = 15 * MINUTE;

/** What the registry keeps beside a monitor's summary. */
export interface Registration {
  identityPublicKey: string;
  firmwareVersion: string;
  lastPairingFailed: boolean;
  everPaired: boolean;
}

export interface FakeAccount {
  record: AccountRecord;
  password: string;
  failedSignIns: number;
}

/** An Ed25519 key's shape (base64url, 32 bytes): the fake cannot check the curve point. */
export const keyFor = (seed: string): string => createHash('sha256').update(seed).digest('base64url');
const hex = (seed: string, length: number): string => createHash('sha256').update(seed).digest('hex').slice(0, length);

/** The device IDs Rust accepts (zpair_proto::device::is_device_id). */
const isDeviceId = (id: string): boolean =>
  /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(id) && !['import', 'heartbeat'].includes(id.toLowerCase());
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const isPrintable = (value: string, min: number, max: number): boolean =>
  Array.from(value).length >= min && Array.from(value).length <= max && !CONTROL.test(value);

/** zpair_proto::api::check_reason: 1 to 500 characters once trimmed, one line. */
function reasonOf(args: Record<string, unknown>): string {
  const reason = text(args, 'reason').trim();
  if (reason === '' || Array.from(reason).length > MAX_REASON_CHARS || CONTROL.test(reason)) {
    throw new Refusal('invalid_reason', 'Give a reason of 1 to 500 characters, on one line, for the audit log.');
  }
  return reason;
}

/** The station's record checks (central-station registry::validate), with its messages. */
function validate(record: DeviceImport): { ok: true; label: string; bed: string } | { ok: false; message: string } {
  const bad = (message: string) => ({ ok: false as const, message });
  if (!isDeviceId(record.deviceId)) {
    return bad('deviceId must be 1 to 64 letters, digits, \'.\', \'_\' or \'-\', starting with a letter or digit.');
  }
  if (!isPrintable(record.deviceSerial, 1, 64)) return bad('deviceSerial must be 1 to 64 printable characters.');
  if (!/^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/.test(record.identityPublicKey)) {
    return bad(
      "identityPublicKey must be the monitor's Ed25519 public key, base64url (as `bedside-monitor` exports it).",
    );
  }
  if (!isPrintable(record.firmwareVersion, 1, 32)) return bad('firmwareVersion must be 1 to 32 printable characters.');
  if (record.ipAddress && isIP(record.ipAddress) === 0) return bad('ipAddress must be an IPv4 or IPv6 address.');
  const label = orDefault(record.deviceLabel, record.deviceId);
  if (!isPrintable(label, 1, 64)) return bad('deviceLabel must be 1 to 64 printable characters.');
  const bed = record.bedId ?? '';
  if (!isPrintable(bed, 0, 64)) return bad('bedId must be at most 64 printable characters.');
  return { ok: true, label, bed };
}

/** An optional field's value, or `fallback` when it is absent or empty (as the station reads them). */
function orDefault<T>(value: string | null | undefined, fallback: T): string | T {
  return value === undefined || value === null || value === '' ? fallback : value;
}

const PAIRED: DeviceState[] = ['PROVISIONED', 'PAIRING', 'AWAITING_REPROVISION'];

function invalidRequest(message: string): Refusal {
  return new Refusal('invalid_request', message);
}

function limitOf(limit: number | null | undefined): number {
  if (limit === undefined || limit === null) return DEFAULT_PAGE;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
    throw invalidRequest(`limit must be 1 to ${String(MAX_PAGE)}.`);
  }
  return limit;
}

function timeOf(value: string | null | undefined, name: string): number | null {
  if (value === undefined || value === null) return null;
  const ms = Date.parse(value);
  if (Number.isNaN(ms) || !/^\d{4}-\d{2}-\d{2}T/.test(value)) {
    throw invalidRequest(`${name} must be a date and time in RFC 3339 form (2026-12-07T08:30:00Z).`);
  }
  return ms;
}

/** The commands this module answers. */
export const ADMIN_COMMANDS = new Set([
  'list_accounts',
  'create_account',
  'reset_password',
  'unlock_account',
  'disable_account',
  'enable_account',
  'end_account_sessions',
  'search_devices',
  'register_device',
  'preview_import',
  'commit_import',
  'deprovision_device',
  'readmit_device',
  'audit_page',
  'verify_audit',
  'export_audit',
  'pairing_report',
  'export_report',
  'certificate_overview',
]);

export interface AdminHost {
  devices: Map<string, Device>;
  /** A new monitor's summary and status, as the registry would show it. */
  newDevice: (summary: DeviceSummary) => Device;
}

export class FakeAdmin {
  readonly registrations = new Map<string, Registration>();
  readonly accounts = new Map<string, FakeAccount>();
  audit: AuditEvent[] = [];
  pairingRecords: PairingRecord[] = [];
  renewed: CertificateEntry[] = [];
  revoked: CertificateEntry[] = [];
  /** Set to make the audit chain's verification find this broken link. */
  auditBroken: BrokenLink | null = null;
  readonly #host: AdminHost;
  #auditClock: number;

  constructor(host: AdminHost, accounts: { record: AccountRecord; password: string }[]) {
    this.#host = host;
    for (const account of accounts) this.accounts.set(account.record.username, { ...account, failedSignIns: 0 });
    const now = Date.now();
    this.#auditClock = now - 5 * MINUTE;
    for (const [deviceId, device] of host.devices) {
      const state = device.summary.state;
      this.registrations.set(deviceId, {
        identityPublicKey: keyFor(deviceId),
        firmwareVersion: '2.4.1',
        lastPairingFailed: device.lastPairingFailed ?? false,
        everPaired: state !== 'UNPROVISIONED',
      });
    }
    this.audit = seedAudit(now, [...host.devices.keys()]);
    this.pairingRecords = seedPairings(now, host.devices);
    this.#seedCertificates(now);
  }

  entry(deviceId: string): RegistryEntry {
    const device = this.#device(deviceId);
    const registration = this.#registration(deviceId);
    const certificate = device.status.certificate;
    return {
      ...device.summary,
      lastPairingFailed: registration.lastPairingFailed,
      certificateNotAfter: certificate === null || certificate.validity === 'revoked' ? null : certificate.notAfter,
      lastHeartbeat: device.status.lastConnected,
    };
  }

  /** A pairing ended: the registry's "never paired" and "failed" groups follow it. */
  pairingEnded(deviceId: string, provisioned: boolean): void {
    const registration = this.registrations.get(deviceId);
    if (!registration) return;
    registration.lastPairingFailed = !provisioned;
    if (provisioned) registration.everPaired = true;
  }

  // ---- sign-in and the account's own password ----

  signIn(username: string, password: string): Account {
    const account = this.accounts.get(username);
    if (!account) throw new Refusal('invalid_credentials');
    const { record } = account;
    if (record.disabled) throw new Refusal('account_disabled');
    if (record.lockedUntil !== null && Date.parse(record.lockedUntil) > Date.now()) throw new Refusal('account_locked');
    if (account.password !== password) {
      account.failedSignIns += 1;
      if (account.failedSignIns >= LOCK_AFTER) {
        record.lockedUntil = iso(Date.now() + LOCK_MS);
        account.failedSignIns = 0;
        throw new Refusal('account_locked');
      }
      throw new Refusal('invalid_credentials');
    }
    account.failedSignIns = 0;
    record.lockedUntil = null;
    record.activeSessions += 1;
    record.lastSignIn = iso(Date.now());
    return {
      username: record.username,
      displayName: record.displayName,
      role: record.role,
      mustChangePassword: record.mustChangePassword,
    };
  }

  passwordOf(username: string): string | undefined {
    return this.accounts.get(username)?.password;
  }

  changePassword(session: Account, args: Record<string, unknown>): null {
    const account = this.#account(session.username);
    const current = text(args, 'currentPassword');
    const next = text(args, 'newPassword');
    if (account.password !== current) throw new Refusal('invalid_credentials');
    if (Array.from(next).length < MIN_PASSWORD_CHARS) {
      throw invalidRequest(`The new password must have at least ${String(MIN_PASSWORD_CHARS)} characters.`);
    }
    if (next === current) throw invalidRequest('The new password must differ from the current one.');
    account.password = next;
    account.record.mustChangePassword = false;
    session.mustChangePassword = false;
    this.#log('password_changed', '', session.username, { subject: session.username });
    return null;
  }

  // ---- the commands ----

  handle(command: string, args: Record<string, unknown>, caller: Account): unknown {
    switch (command) {
      case 'list_accounts':
        return [...this.accounts.values()]
          .map((a) => a.record)
          .sort((a, b) => a.username.localeCompare(b.username));
      case 'create_account':
        return this.#createAccount(object(args, 'account') as NewAccount, caller);
      case 'reset_password':
        return this.#resetPassword(text(args, 'username'), caller);
      case 'unlock_account':
        return this.#changeAccount(text(args, 'username'), caller, 'account_unlocked', (account) => {
          account.record.lockedUntil = null;
          account.failedSignIns = 0;
        });
      case 'disable_account':
        return this.#disable(text(args, 'username'), caller);
      case 'enable_account':
        return this.#changeAccount(text(args, 'username'), caller, 'account_enabled', (account) => {
          account.record.disabled = false;
        });
      case 'end_account_sessions':
        return this.#changeAccount(text(args, 'username'), caller, 'sessions_ended', (account) => {
          account.record.activeSessions = 0;
        });
      case 'search_devices':
        return this.search(object(args, 'query'));
      case 'register_device':
        return this.#register(object(args, 'record') as DeviceImport, caller);
      case 'preview_import':
        return this.#dryRun(text(args, 'fileName'), text(args, 'text'));
      case 'commit_import':
        return this.#commit(text(args, 'fileName'), text(args, 'text'), caller);
      case 'deprovision_device':
        return this.#deprovision(args, caller);
      case 'readmit_device':
        return this.#readmit(args, caller);
      case 'audit_page':
        return this.auditPage(object(args, 'query'));
      case 'verify_audit':
        return this.#verify();
      case 'export_audit': {
        const query = object(args, 'query') as AuditQuery;
        const rows = this.#auditMatching(query).length;
        return { path: `${EXPORT_DIR}/zpair-audit-${stamp()}.csv`, rows } satisfies ExportedFile;
      }
      case 'pairing_report':
        return this.report(object(args, 'query') as ReportQuery);
      case 'export_report': {
        const format = text(args, 'format');
        if (format !== 'csv' && format !== 'pdf') throw invalidRequest('format must be csv or pdf.');
        const report = this.report(object(args, 'query') as ReportQuery);
        return {
          path: `${EXPORT_DIR}/zpair-pairings-${stamp()}.${format}`,
          rows: report.pairings.length,
        } satisfies ExportedFile;
      }
      case 'certificate_overview':
        return this.#certificates();
      default:
        throw new Error(`the fake backend has no admin command ${command}`);
    }
  }

  // ---- accounts ----

  #account(username: string): FakeAccount {
    const account = this.accounts.get(username);
    if (!account) throw new Refusal('unknown_user');
    return account;
  }

  #createAccount(request: NewAccount, caller: Account): TemporaryPassword {
    if (!/^[a-z][a-z0-9._-]{2,63}$/.test(request.username)) {
      throw invalidRequest(
        "A username is 3 to 64 of a-z, 0-9, '.', '_' and '-', starting with a letter.",
      );
    }
    if (!isPrintable(request.displayName, 1, 100) || request.displayName.trim() === '') {
      throw invalidRequest('A display name is 1 to 100 characters, with no control characters.');
    }
    if (this.accounts.has(request.username)) {
      // The contract names a 409 for a taken username but no code of its own.
      throw invalidRequest(`An account named ${request.username} already exists. Choose another username.`);
    }
    const password = temporaryPassword();
    this.accounts.set(request.username, {
      password,
      failedSignIns: 0,
      record: {
        username: request.username,
        displayName: request.displayName,
        role: request.role,
        disabled: false,
        lockedUntil: null,
        mustChangePassword: true,
        activeSessions: 0,
        lastSignIn: null,
        createdAt: iso(Date.now()),
      },
    });
    this.#log('account_created', '', caller.username, { subject: request.username });
    return { username: request.username, password };
  }

  #resetPassword(username: string, caller: Account): TemporaryPassword {
    const account = this.#account(username);
    account.password = temporaryPassword();
    account.failedSignIns = 0;
    Object.assign(account.record, { mustChangePassword: true, activeSessions: 0, lockedUntil: null });
    this.#log('password_reset', '', caller.username, { subject: username });
    return { username, password: account.password };
  }

  #disable(username: string, caller: Account): AccountRecord {
    const account = this.#account(username);
    const otherAdministrators = [...this.accounts.values()].filter(
      (a) => a.record.role === 'administrator' && !a.record.disabled && a.record.username !== username,
    );
    if (username === caller.username || (account.record.role === 'administrator' && otherAdministrators.length === 0)) {
      throw new Refusal('last_administrator');
    }
    return this.#changeAccount(username, caller, 'account_disabled', (a) => {
      a.record.disabled = true;
      a.record.activeSessions = 0;
    });
  }

  #changeAccount(username: string, caller: Account, event: string, change: (account: FakeAccount) => void): AccountRecord {
    const account = this.#account(username);
    change(account);
    this.#log(event, '', caller.username, { subject: username });
    return account.record;
  }

  // ---- the registry ----

  #device(deviceId: string): Device {
    const device = this.#host.devices.get(deviceId);
    if (!device) throw new Refusal('unknown_device');
    return device;
  }

  #registration(deviceId: string): Registration {
    const registration = this.registrations.get(deviceId);
    if (!registration) throw new Error(`no registration for ${deviceId}`);
    return registration;
  }

  #inGroup(entry: RegistryEntry, filter: RegistryFilter): boolean {
    switch (filter) {
      case 'never_paired':
        return !this.#registration(entry.deviceId).everPaired && entry.state === 'UNPROVISIONED';
      case 'provisioned':
        return entry.state === 'PROVISIONED';
      case 'failed':
        return entry.lastPairingFailed;
      case 'certificate_expiring':
        return (
          entry.state === 'PROVISIONED' &&
          entry.certificateNotAfter !== null &&
          Date.parse(entry.certificateNotAfter) - Date.now() <= EXPIRING_WITHIN_DAYS * DAY
        );
      case 'deprovisioned':
        return entry.state === 'DEPROVISIONED';
    }
  }

  search(query: DeviceQuery): DevicePage {
    const limit = limitOf(query.limit);
    const needle = (query.search ?? '').trim().toLowerCase();
    const filter = query.filter ?? null;
    const matching = [...this.#host.devices.keys()]
      .sort()
      .map((id) => this.entry(id))
      .filter(
        (e) =>
          needle === '' ||
          [e.deviceId, e.deviceSerial, e.deviceLabel, e.bedId, e.ipAddress ?? ''].some((field) =>
            field.toLowerCase().includes(needle),
          ),
      )
      .filter((e) => filter === null || this.#inGroup(e, filter));
    const after = query.after ?? null;
    const rest = after === null ? matching : matching.filter((e) => e.deviceId > after);
    const devices = rest.slice(0, limit);
    const last = devices.at(-1);
    return {
      devices,
      total: matching.length,
      nextAfter: rest.length > limit && last !== undefined ? last.deviceId : null,
    };
  }

  /** What importing `records` would do, row by row (the station's dry run). */
  #preview(records: DeviceImport[]): ImportPreview {
    const seen = new Set<string>();
    const rows: ImportPreviewRow[] = records.map((record, index) => {
      const row = (outcome: ImportPreviewRow['outcome'], changes: string[] = [], problem: ImportPreviewRow['problem'] = null) => ({
        index,
        deviceId: record.deviceId === '' ? null : record.deviceId,
        outcome,
        changes,
        problem,
      });
      const valid = validate(record);
      if (!valid.ok) return row('conflicting', [], appError('invalid_record', valid.message));
      if (seen.has(record.deviceId)) return row('conflicting', [], appError('duplicate_in_import'));
      seen.add(record.deviceId);
      const existing = this.#host.devices.get(record.deviceId);
      if (!existing) return row('new');
      const registration = this.#registration(record.deviceId);
      if (PAIRED.includes(existing.summary.state) && registration.identityPublicKey !== record.identityPublicKey) {
        return row('conflicting', [], appError('identity_conflict'));
      }
      const changes: string[] = [];
      if (existing.summary.deviceLabel !== valid.label) changes.push('deviceLabel');
      if (existing.summary.bedId !== valid.bed) changes.push('bedId');
      if (record.ipAddress && existing.summary.ipAddress !== record.ipAddress) changes.push('ipAddress');
      if (registration.firmwareVersion !== record.firmwareVersion) changes.push('firmwareVersion');
      if (existing.summary.deviceSerial !== record.deviceSerial) changes.push('deviceSerial');
      if (registration.identityPublicKey !== record.identityPublicKey) changes.push('identityPublicKey');
      return changes.length === 0 ? row('unchanged') : row('updated', changes);
    });
    const count = (outcome: ImportPreviewRow['outcome']) => rows.filter((r) => r.outcome === outcome).length;
    return {
      rows,
      new: count('new'),
      unchanged: count('unchanged'),
      updated: count('updated'),
      conflicting: count('conflicting'),
    };
  }

  #dryRun(fileName: string, body: string): ImportDryRun {
    const file = readImportFile(fileName, body);
    return {
      format: file.format,
      lines: file.records.map((r) => r.line),
      preview: this.#preview(file.records.map((r) => r.device)),
      unreadable: file.unreadable,
    };
  }

  #commit(fileName: string, body: string, caller: Account): ImportReport {
    const records = readImportFile(fileName, body).records.map((r) => r.device);
    const preview = this.#preview(records);
    const report: ImportReport = { imported: [], rejected: [] };
    for (const row of preview.rows) {
      const record = records[row.index];
      if (record === undefined) continue;
      if (row.outcome === 'conflicting') {
        report.rejected.push({ index: row.index, deviceId: row.deviceId, error: row.problem ?? appError('invalid_record') });
        continue;
      }
      this.#store(record);
      this.#log('device_registered', record.deviceId, caller.username);
      report.imported.push(record.deviceId);
    }
    return report;
  }

  #register(record: DeviceImport, caller: Account): DeviceSummary {
    const row = this.#preview([record]).rows[0];
    if (row?.outcome === 'conflicting') throw invalidRequest(row.problem?.message ?? 'The record was refused.');
    this.#store(record);
    this.#log('device_registered', record.deviceId, caller.username);
    return this.#device(record.deviceId).summary;
  }

  /** Adds or updates a monitor from a record that passed the checks. */
  #store(record: DeviceImport): void {
    const label = orDefault(record.deviceLabel, record.deviceId);
    const bed = record.bedId ?? '';
    const existing = this.#host.devices.get(record.deviceId);
    if (existing) {
      Object.assign(existing.summary, {
        deviceSerial: record.deviceSerial,
        deviceLabel: label,
        bedId: bed,
        ipAddress: orDefault(record.ipAddress, existing.summary.ipAddress),
      });
      existing.status.deviceLabel = label;
      Object.assign(this.#registration(record.deviceId), {
        identityPublicKey: record.identityPublicKey,
        firmwareVersion: record.firmwareVersion,
      });
      return;
    }
    this.#host.devices.set(
      record.deviceId,
      this.#host.newDevice({
        deviceId: record.deviceId,
        deviceSerial: record.deviceSerial,
        deviceLabel: label,
        bedId: bed,
        ipAddress: orDefault(record.ipAddress, null),
        state: 'UNPROVISIONED',
      }),
    );
    this.registrations.set(record.deviceId, {
      identityPublicKey: record.identityPublicKey,
      firmwareVersion: record.firmwareVersion,
      lastPairingFailed: false,
      everPaired: false,
    });
  }

  #deprovision(args: Record<string, unknown>, caller: Account): DeviceSummary {
    const deviceId = text(args, 'deviceId');
    if (text(args, 'confirmDeviceId') !== deviceId) throw new Refusal('confirmation_mismatch');
    reasonOf(args);
    const device = this.#device(deviceId);
    if (device.summary.state === 'PAIRING') throw new Refusal('pairing_in_progress');
    const certificate = device.status.certificate;
    device.summary.state = 'DEPROVISIONED';
    device.status.state = 'DEPROVISIONED';
    this.#log('deprovisioned', deviceId, caller.username);
    if (certificate !== null && certificate.validity !== 'revoked') {
      certificate.validity = 'revoked';
      this.revoked.unshift({
        serial: certificate.serial.replaceAll(':', '').toLowerCase(),
        deviceId,
        deviceLabel: device.summary.deviceLabel,
        standing: 'revoked',
        issuedAt: certificate.notBefore,
        notAfter: certificate.notAfter,
        revokedAt: iso(Date.now()),
        revocationReason: 'deprovisioned',
      });
      this.#log('certificate_revoked', deviceId, caller.username);
    }
    return device.summary;
  }

  #readmit(args: Record<string, unknown>, caller: Account): DeviceSummary {
    const deviceId = text(args, 'deviceId');
    reasonOf(args);
    const device = this.#device(deviceId);
    if (device.summary.state !== 'DEPROVISIONED') throw new Refusal('device_not_deprovisioned');
    device.summary.state = 'UNPROVISIONED';
    device.status.state = 'UNPROVISIONED';
    this.#log('readmitted', deviceId, caller.username);
    return device.summary;
  }

  // ---- the audit log ----

  #log(eventType: string, deviceId: string, actor: string, extra: Partial<AuditEvent> = {}): void {
    const last = this.audit.at(-1);
    this.#auditClock = Math.max(Date.now(), this.#auditClock + 1000);
    this.audit.push({
      id: (last?.id ?? 0) + 1,
      timestamp: iso(this.#auditClock),
      eventType,
      deviceId,
      success: true,
      actor,
      sourceAddress: '10.20.4.17:52114',
      ...extra,
    });
  }

  #auditMatching(query: AuditQuery): AuditEvent[] {
    const since = timeOf(query.since, 'since');
    const until = timeOf(query.until, 'until');
    return this.audit.filter(
      (e) =>
        (query.deviceId == null || e.deviceId === query.deviceId) &&
        (query.actor == null || e.actor === query.actor) &&
        (query.eventType == null || e.eventType === query.eventType) &&
        (since === null || Date.parse(e.timestamp) >= since) &&
        (until === null || Date.parse(e.timestamp) < until),
    );
  }

  auditPage(query: AuditQuery): AuditPage {
    const limit = limitOf(query.limit);
    const before = query.before ?? null;
    const newestFirst = this.#auditMatching(query)
      .filter((e) => before === null || e.id < before)
      .sort((a, b) => b.id - a.id);
    const events = newestFirst.slice(0, limit);
    const last = events.at(-1);
    return { events, nextBefore: newestFirst.length > limit && last !== undefined ? last.id : null };
  }

  #verify(): AuditVerification {
    if (this.auditBroken !== null) {
      return { intact: false, rowsChecked: this.auditBroken.id - 1, firstBrokenLink: this.auditBroken };
    }
    const head = this.audit.at(-1);
    return {
      intact: true,
      rowsChecked: this.audit.length,
      headHash: hex(`audit-${String(head?.id ?? 0)}-${head?.timestamp ?? ''}`, 64),
    };
  }

  // ---- reports ----

  report(query: ReportQuery): PairingReport {
    const from = timeOf(query.from, 'from');
    const to = timeOf(query.to, 'to');
    if (from === null || to === null) throw invalidRequest('from and to are required.');
    if (to <= from) throw invalidRequest('The period must end after it starts: to must be later than from.');
    if (to - from > MAX_REPORT_DAYS * DAY) {
      throw invalidRequest(`A report covers at most ${String(MAX_REPORT_DAYS)} days. Choose a shorter period.`);
    }
    const technician = query.technician ?? null;
    const pairings = this.pairingRecords
      .filter((p) => {
        const at = Date.parse(p.startedAt);
        return at >= from && at < to && (technician === null || p.technician === technician);
      })
      .sort((a, b) => a.startedAt.localeCompare(b.startedAt));
    const durations = pairings
      .filter((p) => p.outcome === 'provisioned' && p.durationMs !== null)
      .map((p) => p.durationMs ?? 0)
      .sort((a, b) => a - b);
    const middle = Math.floor(durations.length / 2);
    const median =
      durations.length === 0
        ? null
        : durations.length % 2 === 1
          ? (durations[middle] ?? 0)
          : Math.floor(((durations[middle - 1] ?? 0) + (durations[middle] ?? 0)) / 2);
    return {
      from: iso(from),
      to: iso(to),
      pairings,
      provisioned: pairings.filter((p) => p.outcome === 'provisioned').length,
      failed: pairings.filter((p) => p.outcome === 'failed').length,
      medianDurationMs: median,
    };
  }

  // ---- certificates ----

  #seedCertificates(now: number): void {
    const ids = [...this.#host.devices.keys()].sort();
    for (const id of ids) {
      const device = this.#device(id);
      const certificate = device.status.certificate;
      if (certificate?.validity === 'revoked') {
        const days = (ids.indexOf(id) % 20) + 1;
        this.revoked.push({
          serial: hex(`${id}-revoked`, 16),
          deviceId: id,
          deviceLabel: device.summary.deviceLabel,
          standing: 'revoked',
          issuedAt: certificate.notBefore,
          notAfter: certificate.notAfter,
          revokedAt: iso(now - days * DAY - 3 * HOUR),
          revocationReason: device.summary.state === 'DEPROVISIONED' ? 'deprovisioned' : 'reprovisioned',
        });
      }
    }
    const renewedIds = ids.filter((id) => this.#device(id).status.certificate?.validity === 'valid').slice(0, 6);
    renewedIds.forEach((id, index) => {
      const issued = now - (index * 4 + 1) * DAY;
      this.renewed.push({
        serial: hex(`${id}-renewed`, 16),
        deviceId: id,
        deviceLabel: this.#device(id).summary.deviceLabel,
        standing: 'renewed',
        issuedAt: iso(issued),
        notAfter: iso(issued + 365 * DAY),
        revokedAt: null,
        revocationReason: null,
      });
    });
    this.revoked.sort((a, b) => (b.revokedAt ?? '').localeCompare(a.revokedAt ?? ''));
  }

  #certificates(): CertificateOverview {
    const now = Date.now();
    const expiring = [...this.#host.devices.values()]
      .filter((d) => d.summary.state === 'PROVISIONED' && d.status.certificate !== null)
      .filter((d) => d.status.certificate?.validity !== 'revoked')
      .filter((d) => Date.parse(d.status.certificate?.notAfter ?? '') - now <= EXPIRING_WITHIN_DAYS * DAY)
      .map(
        (d): CertificateEntry => ({
          serial: (d.status.certificate?.serial ?? '').replaceAll(':', '').toLowerCase(),
          deviceId: d.summary.deviceId,
          deviceLabel: d.summary.deviceLabel,
          standing: 'expiring',
          issuedAt: d.status.certificate?.notBefore ?? iso(now),
          notAfter: d.status.certificate?.notAfter ?? iso(now),
          revokedAt: null,
          revocationReason: null,
        }),
      )
      .sort((a, b) => a.notAfter.localeCompare(b.notAfter));
    const recent = (at: string | null) => at !== null && now - Date.parse(at) <= 30 * DAY;
    return {
      expiring,
      renewed: this.renewed.filter((c) => recent(c.issuedAt)),
      revoked: this.revoked.filter((c) => recent(c.revokedAt)),
    };
  }
}

/** A password the station would choose: 16 characters from a set with no look-alikes, in groups of four. */
function temporaryPassword(): string {
  const alphabet = 'abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789';
  const chars = [...randomBytes(16)].map((byte) => alphabet.charAt(byte % alphabet.length));
  return [0, 4, 8, 12].map((at) => chars.slice(at, at + 4).join('')).join('-');
}

const stamp = (): string => new Date().toISOString().slice(0, 16).replace(/[-:]/g, '').replace('T', '-');

const TECHNICIANS = ['dana', 'joe', 'lee'];
const FAILURES: ErrorCode[] = ['code_expired', 'monitor_unreachable', 'code_mismatch', 'connection_test_failed'];

/** 260 rows over the last three days: pairings step by step, sign-ins, registrations and account changes. */
function seedAudit(now: number, deviceIds: string[]): AuditEvent[] {
  const rows: AuditEvent[] = [];
  const total = 260;
  const start = now - 3 * DAY;
  const step = (3 * DAY - 10 * MINUTE) / total;
  let episode = 0;
  while (rows.length < total) {
    const deviceId = deviceIds[episode % deviceIds.length] ?? 'ZM-001';
    const technician = TECHNICIANS[episode % TECHNICIANS.length] ?? 'dana';
    const jobId = `job-${String(1000 + episode)}`;
    const failed = episode % 5 === 3;
    const kind = episode % 7;
    const steps: Omit<AuditEvent, 'id' | 'timestamp'>[] = [];
    const request = { actor: technician, sourceAddress: `10.20.4.${String(10 + (episode % 40))}:5${String(1000 + episode)}` };
    if (kind === 6) {
      steps.push({ eventType: 'sign_in', deviceId: '', success: true, subject: technician, ...request });
      steps.push({ eventType: 'account_created', deviceId: '', success: true, actor: 'sam', subject: `temp${String(episode)}` });
    } else if (kind === 5) {
      steps.push({ eventType: 'device_registered', deviceId, success: true, actor: 'sam', sourceAddress: '10.20.0.5:50122' });
      steps.push({ eventType: 'sign_in_failed', deviceId: '', success: false, errorMessage: 'invalid_credentials', subject: 'lee', actor: 'lee' });
    } else {
      steps.push({ eventType: 'pairing_requested', deviceId, success: true, jobId, ...request });
      steps.push({ eventType: 'monitor_identity_verified', deviceId, success: true, actor: 'station', jobId });
      steps.push({ eventType: 'certificate_issued', deviceId, success: true, actor: 'station', jobId });
      if (failed) {
        const code = FAILURES[episode % FAILURES.length] ?? 'code_expired';
        steps.push({ eventType: 'provisioning_failed', deviceId, success: false, errorMessage: code, actor: 'station', jobId });
      } else {
        steps.push({ eventType: 'pairing_code_validated', deviceId, success: true, actor: 'station', jobId });
        steps.push({
          eventType: 'configuration_applied',
          deviceId,
          success: true,
          actor: 'station',
          jobId,
          configurationHash: hex(jobId, 64),
        });
        steps.push({ eventType: 'provisioning_completed', deviceId, success: true, actor: 'station', jobId });
      }
    }
    for (const row of steps) {
      if (rows.length >= total) break;
      const id = rows.length + 1;
      rows.push({ id, timestamp: iso(Math.round(start + id * step)), ...row });
    }
    episode += 1;
  }
  return rows;
}

/** A pairing about every 75 minutes over the last eight days; the newest still running. */
function seedPairings(now: number, devices: Map<string, Device>): PairingRecord[] {
  const ids = [...devices.keys()].sort();
  const records: PairingRecord[] = [];
  const count = Math.floor((8 * DAY) / (75 * MINUTE));
  for (let n = 0; n < count; n += 1) {
    const started = now - 8 * MINUTE - n * 75 * MINUTE - (n % 4) * 3 * MINUTE;
    const deviceId = ids[n % ids.length] ?? 'ZM-001';
    const device = devices.get(deviceId);
    const running = n === 0;
    const failed = !running && n % 6 === 2;
    const failure = failed ? (FAILURES[n % FAILURES.length] ?? 'code_expired') : null;
    const duration = 38_000 + ((n * 7919) % 95_000);
    records.push({
      jobId: `job-${String(5000 - n)}`,
      deviceId,
      deviceLabel: device?.summary.deviceLabel ?? deviceId,
      bedId: device?.summary.bedId ?? '',
      technician: TECHNICIANS[n % TECHNICIANS.length] ?? 'dana',
      startedAt: iso(started),
      finishedAt: running ? null : iso(started + duration),
      durationMs: running ? null : duration,
      outcome: running ? 'running' : failed ? 'failed' : 'provisioned',
      failure,
      attempts: failure === 'monitor_unreachable' ? 3 : 1,
    });
  }
  return records.reverse();
}

/** The accounts the fake station starts with. */
export function seedAccounts(now: number): { record: AccountRecord; password: string }[] {
  const account = (
    username: string,
    displayName: string,
    password: string,
    extra: Partial<AccountRecord> = {},
  ): { record: AccountRecord; password: string } => ({
    password,
    record: {
      username,
      displayName,
      role: 'technician',
      disabled: false,
      lockedUntil: null,
      mustChangePassword: false,
      activeSessions: 1,
      lastSignIn: iso(now - 40 * MINUTE),
      createdAt: iso(now - 200 * DAY),
      ...extra,
    },
  });
  return [
    account('dana', 'Dana Whitfield', 'correct horse'),
    account('sam', 'Sam Okafor', 'battery staple', { role: 'administrator' }),
    account('joe', 'Joe Bauer', 'joe-password-1', { activeSessions: 2, lastSignIn: iso(now - 3 * HOUR) }),
    account('lee', 'Lee Moreau', 'lee-password-1', { lockedUntil: iso(now + 12 * MINUTE), activeSessions: 0 }),
    account('ana', 'Ana Costa', 'ana-password-1', { disabled: true, activeSessions: 0, lastSignIn: iso(now - 30 * DAY) }),
    account('kim', 'Kim Tran', 'Temp-4821-kx', {
      mustChangePassword: true,
      activeSessions: 0,
      lastSignIn: null,
      createdAt: iso(now - 2 * HOUR),
    }),
    account('ruth', 'Ruth Adeyemi', 'ruth-password-1', {
      role: 'administrator',
      disabled: true,
      activeSessions: 0,
      lastSignIn: iso(now - 90 * DAY),
    }),
  ];
}
