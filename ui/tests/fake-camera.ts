// What Chromium's fake camera shows: a monitor's QR code as a Y4M video
// (--use-file-for-fake-video-capture), rendered at error correction level H
// the way a Z Monitor draws it, plus PNGs of it for the image-file tests.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import QRCode from 'qrcode';

export const VIDEO_WIDTH = 640;
export const VIDEO_HEIGHT = 480;

/** The QR of `text` drawn dark on light into a grey plane, centred with a quiet zone. */
function qrPlane(text: string, width: number, height: number): Uint8Array {
  const { modules } = QRCode.create(text, { errorCorrectionLevel: 'H' });
  const scale = Math.floor((Math.min(width, height) * 0.85) / (modules.size + 8));
  const left = Math.floor((width - modules.size * scale) / 2);
  const top = Math.floor((height - modules.size * scale) / 2);
  const plane = new Uint8Array(width * height).fill(235);
  for (let row = 0; row < modules.size; row += 1) {
    for (let col = 0; col < modules.size; col += 1) {
      if (!modules.get(row, col)) continue;
      for (let y = 0; y < scale; y += 1) {
        plane.fill(20, (top + row * scale + y) * width + left + col * scale, (top + row * scale + y) * width + left + (col + 1) * scale);
      }
    }
  }
  return plane;
}

/** Writes a short looping Y4M video of the QR of `text`; returns its path. */
export function qrVideo(text: string, name: string): string {
  const luma = qrPlane(text, VIDEO_WIDTH, VIDEO_HEIGHT);
  const chroma = new Uint8Array((VIDEO_WIDTH / 2) * (VIDEO_HEIGHT / 2) * 2).fill(128);
  const header = Buffer.from(`YUV4MPEG2 W${String(VIDEO_WIDTH)} H${String(VIDEO_HEIGHT)} F10:1 Ip A1:1 C420jpeg\n`);
  const frame = Buffer.concat([Buffer.from('FRAME\n'), luma, chroma]);
  const file = path.join(os.tmpdir(), `zpair-${name}-${String(process.pid)}.y4m`);
  writeFileSync(file, Buffer.concat([header, frame, frame, frame]));
  return file;
}

/** A PNG photo-like image of the QR of `text`. */
export function qrPng(text: string): Promise<Buffer> {
  return QRCode.toBuffer(text, { errorCorrectionLevel: 'H', scale: 8, margin: 4 });
}

/** Chromium's launch arguments for a fake camera showing `video`, with camera access granted. */
export function fakeCameraArgs(video: string): string[] {
  return ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-video-capture=${video}`];
}
