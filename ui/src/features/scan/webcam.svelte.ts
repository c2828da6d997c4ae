// The web view's own camera (getUserMedia): the path for platforms where Rust
// cannot open the camera itself. Frames go to the Rust scanner one at a time;
// while one is being scanned, newer frames are skipped, never queued, so the
// scanner always sees what the camera sees now.
import type { AppError } from '../../bindings/AppError';
import type { ScanReport } from '../../bindings/ScanReport';
import { appErrorOf, scanFrame } from '../../lib/ipc';
import { greyFrom } from './grey';

/** Frames offered to the scanner per second: quick to find a code, light on a tablet's battery. */
export const SCAN_FPS = 10;

export type CameraState = 'idle' | 'starting' | 'scanning' | 'no-camera' | 'denied' | 'busy' | 'unsupported' | 'failed';

export interface CameraChoice {
  deviceId: string;
  label: string;
}

/** What each state that stops scanning tells the technician, with the way out. */
export const CAMERA_PROBLEMS: Record<Exclude<CameraState, 'idle' | 'starting' | 'scanning'>, AppError> = {
  'no-camera': {
    code: 'camera_not_found',
    message:
      'No camera was found. Connect a camera and tap Try again, scan a photo of the QR code, or type the code shown on the monitor.',
  },
  denied: {
    code: 'camera_denied',
    message:
      'ZPair is not allowed to use the camera. Allow camera access for ZPair in the system settings and tap Try again, or type the code shown on the monitor.',
  },
  busy: {
    code: 'camera_busy',
    message: 'The camera is in use by another app. Close that app and tap Try again, or type the code shown on the monitor.',
  },
  unsupported: {
    code: 'camera_unsupported',
    message: 'This device gives ZPair no camera. Scan a photo of the QR code, or type the code shown on the monitor.',
  },
  failed: {
    code: 'camera_failed',
    message: 'The camera stopped. Tap Try again; if it keeps stopping, restart the tablet or type the code shown on the monitor.',
  },
};

function stateOf(error: unknown): CameraState {
  const name = error instanceof DOMException ? error.name : '';
  if (name === 'NotAllowedError' || name === 'SecurityError') return 'denied';
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return 'no-camera';
  if (name === 'NotReadableError' || name === 'AbortError') return 'busy';
  return 'failed';
}

export class WebCamera {
  state = $state<CameraState>('idle');
  cameras = $state<CameraChoice[]>([]);
  cameraId = $state<string | null>(null);
  torchAvailable = $state(false);
  torchOn = $state(false);
  /** The last scan's error that was not about the QR code (the scanner refused a frame). */
  scanError = $state<AppError | null>(null);
  /** Frames skipped because the previous one was still being scanned. */
  dropped = 0;

  #stream: MediaStream | null = null;
  #video: HTMLVideoElement | null = null;
  #canvas = document.createElement('canvas');
  #timer: ReturnType<typeof setTimeout> | null = null;
  #scanning = false;
  #onReport: (report: ScanReport, width: number, height: number) => void;

  constructor(onReport: (report: ScanReport, width: number, height: number) => void) {
    this.#onReport = onReport;
  }

  /** Opens the chosen (or the back) camera into `video` and starts scanning. */
  async start(video: HTMLVideoElement, cameraId: string | null = this.cameraId): Promise<void> {
    this.stop();
    this.#video = video;
    // Absent outside secure contexts and where the web view has media streams turned off.
    if (!('mediaDevices' in navigator)) {
      this.state = 'unsupported';
      return;
    }
    this.state = 'starting';
    const size = { width: { ideal: 1280 }, height: { ideal: 720 } };
    const constraints: MediaStreamConstraints = {
      audio: false,
      video: cameraId === null ? { ...size, facingMode: { ideal: 'environment' } } : { ...size, deviceId: { exact: cameraId } },
    };
    try {
      const stream = await navigator.mediaDevices.getUserMedia(constraints);
      if (this.#video !== video) {
        // Stopped (screen left) while the camera was opening.
        for (const track of stream.getTracks()) track.stop();
        return;
      }
      this.#stream = stream;
      video.srcObject = stream;
      await video.play();
      const track = stream.getVideoTracks().at(0);
      this.cameraId = track?.getSettings().deviceId ?? null;
      this.torchAvailable = track !== undefined && 'torch' in (track.getCapabilities() as Record<string, unknown>);
      this.torchOn = false;
      this.state = 'scanning';
      await this.#listCameras();
      this.#schedule();
    } catch (error) {
      this.stop();
      this.state = stateOf(error);
    }
  }

  /** Releases the camera: every track stopped, no frame scanned after this. */
  stop(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    for (const track of this.#stream?.getTracks() ?? []) track.stop();
    this.#stream = null;
    if (this.#video !== null) this.#video.srcObject = null;
    this.#video = null;
    if (this.state === 'scanning' || this.state === 'starting') this.state = 'idle';
  }

  /** Whether the camera is open right now (for tests and the screen's own state). */
  get live(): boolean {
    return this.#stream?.getVideoTracks().some((track) => track.readyState === 'live') ?? false;
  }

  async setTorch(on: boolean): Promise<void> {
    const track = this.#stream?.getVideoTracks()[0];
    if (track === undefined) return;
    try {
      await track.applyConstraints({ advanced: [{ torch: on } as MediaTrackConstraintSet] });
      this.torchOn = on;
    } catch {
      this.torchAvailable = false;
    }
  }

  async #listCameras(): Promise<void> {
    const devices = await navigator.mediaDevices.enumerateDevices();
    this.cameras = devices
      .filter((device) => device.kind === 'videoinput')
      .map((device, index) => ({ deviceId: device.deviceId, label: device.label || `Camera ${String(index + 1)}` }));
  }

  #schedule(): void {
    this.#timer = setTimeout(() => {
      this.#tick();
    }, 1000 / SCAN_FPS);
  }

  #tick(): void {
    const video = this.#video;
    if (video === null || this.#stream === null) return;
    this.#schedule();
    if (this.#scanning) {
      this.dropped += 1;
      return;
    }
    if (video.videoWidth === 0 || video.videoHeight === 0) return;
    const frame = greyFrom(video, video.videoWidth, video.videoHeight, this.#canvas);
    if (frame === null) return;
    this.#scanning = true;
    scanFrame(frame.pixels, frame.width, frame.height)
      .then((report) => {
        this.scanError = null;
        // A frame answered after the camera closed belongs to no screen.
        if (this.#stream !== null) this.#onReport(report, frame.width, frame.height);
      })
      .catch((error: unknown) => {
        this.scanError = appErrorOf(error);
      })
      .finally(() => {
        this.#scanning = false;
      });
  }
}
