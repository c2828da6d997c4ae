// Camera frames and image files as the grey pixels the Rust scanner takes:
// one byte a pixel, row-major, no padding.

/** Longest side sent to the scanner: enough pixels per module for a monitor's QR, and a bounded IPC body. */
export const MAX_SIDE = 1920;

/** Integer BT.601 luma of RGBA pixels: what a camera's Y plane holds. */
export function toGrey(rgba: Uint8ClampedArray, width: number, height: number): Uint8Array {
  const grey = new Uint8Array(width * height);
  for (let i = 0, p = 0; i < grey.length; i += 1, p += 4) {
    grey[i] = ((rgba[p] ?? 0) * 77 + (rgba[p + 1] ?? 0) * 150 + (rgba[p + 2] ?? 0) * 29) >> 8;
  }
  return grey;
}

/** A size no larger than MAX_SIDE on its longest side, keeping the aspect ratio. */
export function fitted(width: number, height: number): { width: number; height: number } {
  const scale = Math.min(1, MAX_SIDE / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

export interface GreyFrame {
  pixels: Uint8Array;
  width: number;
  height: number;
}

/** Draws a video frame or a decoded image into `canvas` at a scanner-friendly size and reads it back grey. */
export function greyFrom(
  source: CanvasImageSource,
  sourceWidth: number,
  sourceHeight: number,
  canvas: HTMLCanvasElement,
): GreyFrame | null {
  const { width, height } = fitted(sourceWidth, sourceHeight);
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== height) canvas.height = height;
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (context === null) return null;
  context.drawImage(source, 0, 0, width, height);
  const { data } = context.getImageData(0, 0, width, height);
  return { pixels: toGrey(data, width, height), width, height };
}
