// The Rust scanner's stand-in for the mocked IPC: real QR decoding of the
// grey pixels the page sends (jsQR), then a copy of the rules of
// zpair_core::qr and zpair_core::sightings — one scan ID per QR, each QR sent
// once, a newer QR of a monitor replacing the older, expired and foreign QRs
// refused. fake-contract.spec.ts holds the copy to Rust's answers.
import jsQR from 'jsqr';
import { isIP } from 'node:net';
import { checkCode } from './fake-backend';
import type { ErrorCode } from '../src/bindings/ErrorCode';
import type { FoundMonitor } from '../src/bindings/FoundMonitor';
import type { ScanReport } from '../src/bindings/ScanReport';
import type { Sighting } from '../src/bindings/Sighting';

export interface QrPayload {
  deviceId: string;
  deviceSerial: string;
  ipAddress: string;
  pairingCode: string;
  pairingToken: string;
  expiresAt: string;
  firmwareVersion: string;
}

/** A Z Monitor's QR payload for `deviceId`, valid for `validMs` from now (negative: already expired). */
export function monitorPayload(deviceId: string, validMs = 10 * 60_000, token = 'q1w2e3r4t5y6u7i8o9p0aQ'): QrPayload {
  return {
    deviceId,
    deviceSerial: `SN-${deviceId}`,
    ipAddress: '10.20.30.40',
    pairingCode: 'K7P-M3X-Q9R',
    pairingToken: token,
    expiresAt: new Date(Date.now() + validMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    firmwareVersion: '3.2.1',
  };
}

/** Why a frame or QR was refused: the contract's code. */
export class ScanRefusal extends Error {
  constructor(readonly code: ErrorCode) {
    super(code);
  }
}

export class FakeScanner {
  /** Sizes of the frames the page sent, in order, and a camera frame's number in its stream. */
  readonly frames: { width: number; height: number; index: number | null }[] = [];
  found = new Map<string, { monitor: FoundMonitor; token: string }>();
  sent = new Map<string, string>();
  dismissed = new Set<string>();
  #issued = 0;

  /** The tablet's clock, in milliseconds (the contract test sets it). */
  constructor(readonly now: () => number = Date.now) {}

  scan(body: string, headers: Record<string, string>, running: (deviceId: string) => boolean): ScanReport {
    const width = Number(headers['x-frame-width']);
    const height = Number(headers['x-frame-height']);
    const grey = Buffer.from(body, 'base64');
    if (!Number.isInteger(width) || !Number.isInteger(height) || grey.length !== width * height) {
      throw new ScanRefusal('frame_invalid');
    }
    const index = headers['x-frame-index'];
    this.frames.push({ width, height, index: index === undefined ? null : Number(index) });
    const rgba = new Uint8ClampedArray(width * height * 4);
    for (let i = 0; i < grey.length; i += 1) {
      const value = grey[i] ?? 0;
      rgba[i * 4] = value;
      rgba[i * 4 + 1] = value;
      rgba[i * 4 + 2] = value;
      rgba[i * 4 + 3] = 255;
    }
    const code = jsQR(rgba, width, height, { inversionAttempts: 'attemptBoth' });
    if (code === null) return { sighting: { kind: 'nothing' }, outline: null };
    const { topLeftCorner, topRightCorner, bottomRightCorner, bottomLeftCorner } = code.location;
    return {
      sighting: this.consider(code.data, running),
      outline: [topLeftCorner, topRightCorner, bottomRightCorner, bottomLeftCorner],
    };
  }

  take(scanId: string): { deviceId: string } {
    const entry = this.found.get(scanId);
    if (entry === undefined) throw new ScanRefusal('scan_unknown');
    this.found.delete(scanId);
    if (expired(entry.monitor.expiresAt, this.now())) throw new ScanRefusal('qr_expired');
    this.sent.set(entry.token, entry.monitor.deviceId);
    return { deviceId: entry.monitor.deviceId };
  }

  dismiss(scanId: string): void {
    const entry = this.found.get(scanId);
    if (entry === undefined) return;
    this.found.delete(scanId);
    this.dismissed.add(entry.token);
  }

  /** What the Scan screen is told about a QR reading `text`. */
  consider(text: string, running: (deviceId: string) => boolean): Sighting {
    const checked = checkPayload(text, this.now());
    if (typeof checked === 'string') return refused(checked);
    const qr = checked;
    const sentTo = this.sent.get(qr.pairingToken);
    if (sentTo !== undefined) return { kind: 'sent', deviceId: sentTo };
    if (this.dismissed.has(qr.pairingToken)) return { kind: 'nothing' };
    if (running(qr.deviceId)) return refused('pairing_in_progress');
    for (const entry of this.found.values()) {
      if (entry.token === qr.pairingToken) return { kind: 'found', ...entry.monitor };
    }
    for (const [scanId, entry] of this.found) {
      if (entry.monitor.deviceId === qr.deviceId) this.found.delete(scanId);
    }
    this.#issued += 1;
    const monitor: FoundMonitor = {
      scanId: `scan-${String(this.#issued)}`,
      deviceId: qr.deviceId,
      deviceSerial: qr.deviceSerial,
      ipAddress: qr.ipAddress,
      firmwareVersion: qr.firmwareVersion,
      // As Rust formats every time it sends the UI: UTC with milliseconds.
      expiresAt: new Date(qr.expiresAt).toISOString(),
    };
    this.found.set(monitor.scanId, { monitor, token: qr.pairingToken });
    return { kind: 'found', ...monitor };
  }
}

const MAX_PAYLOAD_BYTES = 1024;
const CLOCK_SKEW_MS = 30_000;
const MAX_CODE_LIFETIME_MS = 3600_000;

const expired = (expiresAt: string, now: number): boolean => now > Date.parse(expiresAt) + CLOCK_SKEW_MS;

/** zpair_core::qr::validate: the payload, or the code it is refused with. */
function checkPayload(text: string, now: number): QrPayload | ErrorCode {
  if (Buffer.byteLength(text) > MAX_PAYLOAD_BYTES) return 'qr_too_large';
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch {
    return 'qr_not_json';
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return 'qr_not_zmonitor';
  const fields = payload as Record<string, unknown>;
  if (!('deviceId' in fields) || !('pairingCode' in fields)) return 'qr_not_zmonitor';
  const printable = (name: string, max: number): boolean => {
    const value = fields[name];
    if (typeof value !== 'string') return false;
    // Code points, as Rust counts chars.
    const length = Array.from(value).length;
    // eslint-disable-next-line no-control-regex
    return length > 0 && length <= max && !/[\u0000-\u001f\u007f-\u009f]/u.test(value) && value.trim() === value;
  };
  const textOf = (name: string): string | null => (typeof fields[name] === 'string' ? fields[name] : null);
  if (!printable('deviceId', 64) || !printable('deviceSerial', 64) || !printable('firmwareVersion', 32)) {
    return 'qr_invalid_field';
  }
  const ip = textOf('ipAddress');
  if (ip === null || isIP(ip) === 0) return 'qr_invalid_field';
  const code = textOf('pairingCode');
  if (code === null || !checkCode(code).complete) return 'qr_invalid_field';
  const token = textOf('pairingToken');
  if (token === null || !/^[A-Za-z0-9_-]{22}$/.test(token) || Buffer.from(token, 'base64url').length !== 16) {
    return 'qr_invalid_field';
  }
  const expiresAt = textOf('expiresAt');
  if (expiresAt === null || !RFC_3339.test(expiresAt) || Number.isNaN(Date.parse(expiresAt))) return 'qr_invalid_field';
  if (expired(expiresAt, now)) return 'qr_expired';
  if (Date.parse(expiresAt) > now + MAX_CODE_LIFETIME_MS + CLOCK_SKEW_MS) return 'qr_invalid_field';
  return fields as unknown as QrPayload;
}

const RFC_3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

function refused(code: ErrorCode): Sighting {
  // The backend fills in the message for the code, as for every refusal.
  return { kind: 'refused', code, message: '' };
}
