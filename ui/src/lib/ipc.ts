// The only door to the Rust side: every command and event of the IPC contract,
// typed, with every rejection turned into an AppError the screens switch on.
import { Channel, convertFileSrc, invoke, type InvokeArgs, type InvokeOptions } from '@tauri-apps/api/core';
import { listen, type UnlistenFn } from '@tauri-apps/api/event';
import type { Account } from '../bindings/Account';
import type { AccountRecord } from '../bindings/AccountRecord';
import type { AuditPage } from '../bindings/AuditPage';
import type { AuditQuery } from '../bindings/AuditQuery';
import type { AuditVerification } from '../bindings/AuditVerification';
import type { CameraChoice } from '../bindings/CameraChoice';
import type { CameraEvent } from '../bindings/CameraEvent';
import type { CameraStarted } from '../bindings/CameraStarted';
import type { AppError } from '../bindings/AppError';
import type { CodeCheck } from '../bindings/CodeCheck';
import type { CertificateOverview } from '../bindings/CertificateOverview';
import type { ConnectedStatus } from '../bindings/ConnectedStatus';
import type { DeviceImport } from '../bindings/DeviceImport';
import type { DevicePage } from '../bindings/DevicePage';
import type { DeviceQuery } from '../bindings/DeviceQuery';
import type { DeviceSummary } from '../bindings/DeviceSummary';
import type { ErrorCode } from '../bindings/ErrorCode';
import type { ExportedFile } from '../bindings/ExportedFile';
import type { HistoryEntry } from '../bindings/HistoryEntry';
import type { ImportDryRun } from '../bindings/ImportDryRun';
import type { ImportReport } from '../bindings/ImportReport';
import type { NewAccount } from '../bindings/NewAccount';
import type { Pairing } from '../bindings/Pairing';
import type { PairingReport } from '../bindings/PairingReport';
import type { ReportQuery } from '../bindings/ReportQuery';
import type { ScanReport } from '../bindings/ScanReport';
import type { SetupState } from '../bindings/SetupState';
import type { StationProbe } from '../bindings/StationProbe';
import type { TemporaryPassword } from '../bindings/TemporaryPassword';

/** A rejected command: an Error (so it can be thrown) carrying the contract's `code`. */
class CommandError extends Error implements AppError {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CommandError';
  }
}

/** Code for failures that did not come from Rust as an AppError (a bug, or the UI opened outside the app). */
const INTERNAL_ERROR: ErrorCode = 'app_internal';

function isAppError(value: unknown): value is AppError {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Record<string, unknown>).code === 'string' &&
    typeof (value as Record<string, unknown>).message === 'string'
  );
}

/** Any caught value as the `{ code, message }` the screens show. */
export function appErrorOf(error: unknown): AppError {
  if (isAppError(error)) {
    return { code: error.code, message: error.message };
  }
  const detail = error instanceof Error ? error.message : String(error);
  return {
    code: INTERNAL_ERROR,
    message: `Something went wrong inside ZPair (${detail}). Restart the app; if it happens again, contact IT.`,
  };
}

type ErrorObserver = (error: AppError) => void;
const observers = new Set<ErrorObserver>();

/** Lets app-wide concerns (an expired session) react to any command's failure. */
export function observeCommandErrors(observer: ErrorObserver): () => void {
  observers.add(observer);
  return () => observers.delete(observer);
}

async function call<T>(command: string, args: InvokeArgs = {}, options?: InvokeOptions): Promise<T> {
  try {
    return await invoke<T>(command, args, options);
  } catch (rejection) {
    // Tauri rejects with what the command serialised; a plain string comes from
    // Tauri itself (unknown command, capability refused).
    const error: AppError =
      typeof rejection === 'string' ? { code: INTERNAL_ERROR, message: rejection } : appErrorOf(rejection);
    for (const observer of observers) observer(error);
    throw new CommandError(error.code, error.message);
  }
}

export const getSetup = () => call<SetupState>('get_setup');
export const probeStation = (stationUrl: string) => call<StationProbe>('probe_station', { stationUrl });
export const trustStationFingerprint = (stationUrl: string, fingerprint: string) =>
  call<SetupState>('trust_station_fingerprint', { stationUrl, fingerprint });
export const trustStationCa = (stationUrl: string, caPem: string) =>
  call<SetupState>('trust_station_ca', { stationUrl, caPem });

export const getAccount = () => call<Account | null>('get_account');
export const signIn = (username: string, password: string) => call<Account>('sign_in', { username, password });
export const signOut = () => call<null>('sign_out');
/** The signed-in account's own password (required while `mustChangePassword`). */
export const changePassword = (currentPassword: string, newPassword: string) =>
  call<null>('change_password', { currentPassword, newPassword });

export const checkCode = (input: string) => call<CodeCheck>('check_code', { input });
export const startPairing = (deviceId: string, code: string) => call<Pairing>('start_pairing', { deviceId, code });
export const retryPairing = (pairingId: string) => call<Pairing>('retry_pairing', { pairingId });
export const dismissPairing = (pairingId: string) => call<null>('dismiss_pairing', { pairingId });
export const listPairings = () => call<Pairing[]>('list_pairings');

export const listDevices = () => call<DeviceSummary[]>('list_devices');
export const deviceStatus = (deviceId: string) => call<ConnectedStatus>('device_status', { deviceId });
export const reprovision = (deviceId: string, password: string, reason: string, confirmDeviceId: string) =>
  call<DeviceSummary>('reprovision', { deviceId, password, reason, confirmDeviceId });

export const history = () => call<HistoryEntry[]>('history');

// Administrators only: the station refuses anyone else, the UI offers them to no one else.

export const listAccounts = () => call<AccountRecord[]>('list_accounts');
export const createAccount = (account: NewAccount) => call<TemporaryPassword>('create_account', { account });
export const resetPassword = (username: string) => call<TemporaryPassword>('reset_password', { username });
export const unlockAccount = (username: string) => call<AccountRecord>('unlock_account', { username });
export const disableAccount = (username: string) => call<AccountRecord>('disable_account', { username });
export const enableAccount = (username: string) => call<AccountRecord>('enable_account', { username });
export const endAccountSessions = (username: string) => call<AccountRecord>('end_account_sessions', { username });

export const searchDevices = (query: DeviceQuery) => call<DevicePage>('search_devices', { query });
export const registerDevice = (record: DeviceImport) => call<DeviceSummary>('register_device', { record });
/** An import file's text, read in Rust (CSV or JSON) and checked by the station; nothing written. */
export const previewImport = (fileName: string, text: string) =>
  call<ImportDryRun>('preview_import', { fileName, text });
export const commitImport = (fileName: string, text: string) => call<ImportReport>('commit_import', { fileName, text });
export const deprovisionDevice = (deviceId: string, reason: string, confirmDeviceId: string) =>
  call<DeviceSummary>('deprovision_device', { deviceId, reason, confirmDeviceId });
export const readmitDevice = (deviceId: string, reason: string) =>
  call<DeviceSummary>('readmit_device', { deviceId, reason });

export const auditPage = (query: AuditQuery) => call<AuditPage>('audit_page', { query });
export const verifyAudit = () => call<AuditVerification>('verify_audit');
export const exportAudit = (query: AuditQuery) => call<ExportedFile>('export_audit', { query });

export const pairingReport = (query: ReportQuery) => call<PairingReport>('pairing_report', { query });
export const exportReport = (query: ReportQuery, format: 'csv' | 'pdf') =>
  call<ExportedFile>('export_report', { query, format });

export const certificateOverview = () => call<CertificateOverview>('certificate_overview');

/** A grey frame (one byte a pixel, row-major) as the raw body, its size in headers: no JSON for a megabyte of pixels. */
/**
 * Scans grey pixels in Rust. A camera's frames give their number in the stream
 * (`index`): those take the decoder's costlier passes in turn, one per frame;
 * a single picture (an image file) gets every pass.
 */
export const scanFrame = (pixels: Uint8Array, width: number, height: number, index?: number) =>
  call<ScanReport>('scan_frame', pixels, {
    headers: {
      'x-frame-width': String(width),
      'x-frame-height': String(height),
      ...(index === undefined ? {} : { 'x-frame-index': String(index) }),
    },
  });
export const pairScanned = (scanId: string) => call<Pairing>('pair_scanned', { scanId });
export const dismissScanned = (scanId: string) => call<null>('dismiss_scanned', { scanId });

/** A stream of messages from one command (the camera's events). */
export { Channel };

/** The app's own cameras (empty: none, or none this platform's Rust side can open). */
export const listCameras = () => call<CameraChoice[]>('list_cameras');
/** Opens a camera: previews, detections and the end are announced on `events`. */
export const startCamera = (cameraId: string | null, events: Channel<CameraEvent>) =>
  call<CameraStarted>('start_camera', { cameraId, events });
/** Where the app serves the preview of camera frame `frame` (its `preview:` URI scheme). */
export const previewUrl = (frame: number) => convertFileSrc(String(frame), 'preview');
export const stopCamera = () => call<null>('stop_camera');

/** Every update of a pairing in flight: the whole pairing each time. */
export const onPairingStatus = (handler: (pairing: Pairing) => void): Promise<UnlistenFn> =>
  listen<Pairing>('pairing://status', (event) => {
    handler(event.payload);
  });

/** The session ended and could not be refreshed. */
export const onSessionExpired = (handler: () => void): Promise<UnlistenFn> =>
  listen<null>('session://expired', () => {
    handler();
  });
