// What both cameras (the app's own, and the web view's) show the Scan screen.
import type { AppError } from '../../bindings/AppError';
import type { Point } from '../../bindings/Point';

export type CameraState = 'idle' | 'starting' | 'scanning' | 'stopped';

export interface CameraChoice {
  id: string;
  label: string;
}

/** A code's outline in an image of this size (the preview's, or the frame's). */
export interface Outline {
  points: Point[];
  width: number;
  height: number;
}

export interface Camera {
  readonly state: CameraState;
  /** Why the camera is not scanning, and what to do. */
  readonly problem: AppError | null;
  readonly cameras: CameraChoice[];
  readonly cameraId: string | null;
  readonly outline: Outline | null;
  readonly torchAvailable: boolean;
  readonly torchOn: boolean;
  start(cameraId?: string | null): Promise<void>;
  stop(): void;
  setTorch(on: boolean): Promise<void>;
}
