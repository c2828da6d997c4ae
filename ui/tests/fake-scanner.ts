// The Rust scanner's stand-in for the mocked IPC: real QR decoding of the
// grey pixels the page sends (jsQR), then the same rules as
// src-tauri/src/scan/sightings.rs — one scan ID per QR, each QR sent once, a
// newer QR of a monitor replacing the older, expired and foreign QRs refused.
import jsQR from 'jsqr';
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
export class ScanRefusal extends Error {}

export class FakeScanner {
  /** Sizes of the frames the page sent, in order, and a camera frame's number in its stream. */
  readonly frames: { width: number; height: number; index: number | null }[] = [];
  found = new Map<string, { monitor: FoundMonitor; token: string }>();
  sent = new Map<string, string>();
  dismissed = new Set<string>();
  #issued = 0;

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
      sighting: this.#consider(code.data, running),
      outline: [topLeftCorner, topRightCorner, bottomRightCorner, bottomLeftCorner],
    };
  }

  take(scanId: string): { deviceId: string } {
    const entry = this.found.get(scanId);
    if (entry === undefined) throw new ScanRefusal('scan_unknown');
    this.found.delete(scanId);
    if (new Date(entry.monitor.expiresAt).getTime() < Date.now()) throw new ScanRefusal('qr_expired');
    this.sent.set(entry.token, entry.monitor.deviceId);
    return { deviceId: entry.monitor.deviceId };
  }

  dismiss(scanId: string): void {
    const entry = this.found.get(scanId);
    if (entry === undefined) return;
    this.found.delete(scanId);
    this.dismissed.add(entry.token);
  }

  #consider(text: string, running: (deviceId: string) => boolean): Sighting {
    let payload: unknown;
    try {
      payload = JSON.parse(text);
    } catch {
      return refused('qr_not_json');
    }
    const qr = payload as Partial<QrPayload>;
    if (typeof qr.deviceId !== 'string' || typeof qr.pairingCode !== 'string' || typeof qr.pairingToken !== 'string') {
      return refused('qr_not_zmonitor');
    }
    if (typeof qr.expiresAt !== 'string' || new Date(qr.expiresAt).getTime() < Date.now()) return refused('qr_expired');
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
      deviceSerial: qr.deviceSerial ?? '',
      ipAddress: qr.ipAddress ?? '',
      firmwareVersion: qr.firmwareVersion ?? '',
      expiresAt: qr.expiresAt,
    };
    this.found.set(monitor.scanId, { monitor, token: qr.pairingToken });
    return { kind: 'found', ...monitor };
  }
}

function refused(code: string): Sighting {
  // The backend fills in the message for the code, as for every refusal.
  return { kind: 'refused', code, message: '' };
}
