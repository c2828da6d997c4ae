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

/**
 * The corners in order around their centre, so the outline never crosses
 * itself whatever order the decoder reports them in.
 */
export function aroundCentre(points: Point[]): Point[] {
  const cx = points.reduce((sum, p) => sum + p.x, 0) / points.length;
  const cy = points.reduce((sum, p) => sum + p.y, 0) / points.length;
  const angle = (p: Point) => Math.atan2(p.y - cy, p.x - cx);
  return [...points].sort((a, b) => angle(a) - angle(b));
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
