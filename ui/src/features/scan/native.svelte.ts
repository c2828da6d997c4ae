// The app's own camera (Rust: a real camera, or the virtual one), for
// platforms where Rust opens the camera itself. Rust captures and scans on
// its own threads; the screen only shows the JPEG previews it serves and
// the monitors it reports.
import type { AppError } from '../../bindings/AppError';
import type { CameraEvent } from '../../bindings/CameraEvent';
import { appErrorOf, Channel, listCameras, previewUrl, startCamera, stopCamera } from '../../lib/ipc';
import type { Camera, CameraChoice, CameraState, Outline } from './camera';
import { scanned } from './scanned.svelte';

export class NativeCamera implements Camera {
  state = $state<CameraState>('idle');
  problem = $state<AppError | null>(null);
  cameras = $state<CameraChoice[]>([]);
  cameraId = $state<string | null>(null);
  outline = $state<Outline | null>(null);
  /** The URL of the latest preview JPEG. */
  preview = $state<string | null>(null);
  readonly torchAvailable = false;
  readonly torchOn = false;
  /** Counts sessions, so messages of a stopped one are ignored. */
  #session = 0;

  constructor(cameras: CameraChoice[]) {
    this.cameras = cameras;
  }

  /** The app's cameras, or null when it has none (then the web view's camera is the way). */
  static async find(): Promise<NativeCamera | null> {
    try {
      const cameras = await listCameras();
      return cameras.length > 0 ? new NativeCamera(cameras) : null;
    } catch {
      return null;
    }
  }

  async start(cameraId: string | null = this.cameraId): Promise<void> {
    this.stop();
    const session = ++this.#session;
    this.state = 'starting';
    this.problem = null;
    const events = new Channel<CameraEvent>((event) => {
      if (session === this.#session) this.#apply(event);
    });
    try {
      await startCamera(cameraId, events);
      if (session !== this.#session) return;
      this.cameraId = cameraId ?? this.cameras.at(0)?.id ?? null;
      this.state = 'scanning';
    } catch (error) {
      if (session !== this.#session) return;
      this.state = 'stopped';
      this.problem = appErrorOf(error);
    }
  }

  /** Stops the camera in Rust, which closes it before answering. */
  stop(): void {
    if (this.state === 'starting' || this.state === 'scanning') void stopCamera().catch(() => undefined);
    this.#session += 1;
    this.preview = null;
    this.outline = null;
    if (this.state !== 'stopped') this.state = 'idle';
  }

  setTorch(): Promise<void> {
    return Promise.resolve();
  }

  #apply(event: CameraEvent): void {
    switch (event.kind) {
      case 'preview':
        this.preview = previewUrl(event.frame);
        this.outline = event.outline === null ? null : { points: event.outline, width: event.width, height: event.height };
        return;
      case 'seen':
        scanned.report(event.report);
        return;
      case 'ended':
        this.state = 'stopped';
        this.problem = event.error;
    }
  }
}
