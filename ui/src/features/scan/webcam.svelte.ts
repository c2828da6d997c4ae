// The web view's own camera (getUserMedia): the path for platforms where Rust
// cannot open the camera itself. Frames go to the Rust scanner one at a time;
// while one is being scanned, newer frames are skipped, never queued, so the
// scanner always sees what the camera sees now.
import type { AppError } from '../../bindings/AppError';
import { appErrorOf, scanFrame } from '../../lib/ipc';
import type { Camera, CameraChoice, CameraState, Outline } from './camera';
import { greyFrom } from './grey';
import { scanned } from './scanned.svelte';

/** Frames offered to the scanner per second: quick to find a code, light on a tablet's battery. */
export const SCAN_FPS = 10;

/** What each way getUserMedia can fail tells the technician, with the way out (codes as Rust's camera uses them). */
export const CAMERA_PROBLEMS = {
  none: {
    code: 'camera_none',
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
} satisfies Record<string, AppError>;

function problemOf(error: unknown): AppError {
  const name = error instanceof DOMException ? error.name : '';
  if (name === 'NotAllowedError' || name === 'SecurityError') return CAMERA_PROBLEMS.denied;
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return CAMERA_PROBLEMS.none;
  if (name === 'NotReadableError' || name === 'AbortError') return CAMERA_PROBLEMS.busy;
  return CAMERA_PROBLEMS.failed;
}

export class WebCamera implements Camera {
  state = $state<CameraState>('idle');
  problem = $state<AppError | null>(null);
  cameras = $state<CameraChoice[]>([]);
  cameraId = $state<string | null>(null);
  outline = $state<Outline | null>(null);
  torchAvailable = $state(false);
  torchOn = $state(false);

  #stream: MediaStream | null = null;
  #video: HTMLVideoElement;
  #canvas = document.createElement('canvas');
  #timer: ReturnType<typeof setTimeout> | null = null;
  #scanning = false;
  /** Frames sent to the scanner so far: each frame's number in the stream. */
  #sent = 0;
  /** Counts starts, so a camera that opens after a newer start or a stop is closed at once. */
  #session = 0;

  constructor(video: HTMLVideoElement) {
    this.#video = video;
  }

  /** Opens the chosen (or the back) camera and starts scanning. */
  async start(cameraId: string | null = this.cameraId): Promise<void> {
    this.stop();
    const session = this.#session;
    this.problem = null;
    // Absent outside secure contexts and where the web view has media streams turned off.
    if (!('mediaDevices' in navigator)) {
      this.#fail(CAMERA_PROBLEMS.unsupported);
      return;
    }
    this.state = 'starting';
    const size = { width: { ideal: 1280 }, height: { ideal: 720 } };
    const constraints: MediaStreamConstraints = {
      audio: false,
      video:
        cameraId === null
          ? { ...size, facingMode: { ideal: 'environment' } }
          : { ...size, deviceId: { exact: cameraId } },
    };
    try {
      const stream = await navigator.mediaDevices.getUserMedia(constraints);
      if (session !== this.#session) {
        // Stopped (screen left) while the camera was opening.
        for (const track of stream.getTracks()) track.stop();
        return;
      }
      this.#stream = stream;
      this.#video.srcObject = stream;
      await this.#video.play();
      const track = stream.getVideoTracks().at(0);
      this.cameraId = track?.getSettings().deviceId ?? null;
      this.torchAvailable = track !== undefined && 'torch' in (track.getCapabilities() as Record<string, unknown>);
      this.torchOn = false;
      this.state = 'scanning';
      await this.#listCameras();
      this.#schedule();
    } catch (error) {
      if (session !== this.#session) return;
      this.stop();
      this.#fail(problemOf(error));
    }
  }

  /** Releases the camera: every track stopped, no frame scanned after this. */
  stop(): void {
    this.#session += 1;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    for (const track of this.#stream?.getTracks() ?? []) track.stop();
    this.#stream = null;
    this.#video.srcObject = null;
    this.outline = null;
    if (this.state !== 'stopped') this.state = 'idle';
  }

  async setTorch(on: boolean): Promise<void> {
    const track = this.#stream?.getVideoTracks().at(0);
    if (track === undefined) return;
    try {
      await track.applyConstraints({ advanced: [{ torch: on } as MediaTrackConstraintSet] });
      this.torchOn = on;
    } catch {
      this.torchAvailable = false;
    }
  }

  #fail(problem: AppError): void {
    this.state = 'stopped';
    this.problem = problem;
  }

  async #listCameras(): Promise<void> {
    const devices = await navigator.mediaDevices.enumerateDevices();
    this.cameras = devices
      .filter((device) => device.kind === 'videoinput')
      .map((device, index) => ({ id: device.deviceId, label: device.label || `Camera ${String(index + 1)}` }));
  }

  #schedule(): void {
    this.#timer = setTimeout(() => {
      this.#tick();
    }, 1000 / SCAN_FPS);
  }

  #tick(): void {
    const video = this.#video;
    if (this.#stream === null) return;
    this.#schedule();
    // The previous frame is still being scanned: skip this one.
    if (this.#scanning) return;
    if (video.videoWidth === 0 || video.videoHeight === 0) return;
    const frame = greyFrom(video, video.videoWidth, video.videoHeight, this.#canvas);
    if (frame === null) return;
    this.#scanning = true;
    scanFrame(frame.pixels, frame.width, frame.height, this.#sent++)
      .then((report) => {
        // A frame answered after the camera closed belongs to no screen.
        if (this.#stream === null) return;
        if (this.problem?.code === 'frame_invalid') this.problem = null;
        this.outline = report.outline === null ? null : { points: report.outline, width: frame.width, height: frame.height };
        scanned.report(report);
      })
      .catch((error: unknown) => {
        this.problem = appErrorOf(error);
      })
      .finally(() => {
        this.#scanning = false;
      });
  }
}
