// Scanning a photo or screenshot of a monitor's QR code with the same Rust
// decoder the camera frames go to.
import type { AppError } from '../../bindings/AppError';
import type { ScanReport } from '../../bindings/ScanReport';
import { scanFrame } from '../../lib/ipc';
import { greyFrom } from './grey';

export type ImageScan = { ok: true; report: ScanReport } | { ok: false; error: AppError };

export async function scanImageFile(file: File): Promise<ImageScan> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    return {
      ok: false,
      error: {
        code: 'image_unreadable',
        message: `${file.name} is not an image ZPair can read. Choose a PNG, JPEG or WebP photo of the monitor's QR code.`,
      },
    };
  }
  const frame = greyFrom(bitmap, bitmap.width, bitmap.height, document.createElement('canvas'));
  bitmap.close();
  if (frame === null) {
    return { ok: false, error: { code: 'image_unreadable', message: `${file.name} could not be drawn. Try another image.` } };
  }
  const report = await scanFrame(frame.pixels, frame.width, frame.height);
  if (report.sighting.kind === 'nothing') {
    return {
      ok: false,
      error: {
        code: 'no_qr_in_image',
        message: `No QR code was found in ${file.name}. Choose a sharper photo with the whole QR code in it, or type the code shown on the monitor.`,
      },
    };
  }
  return { ok: true, report };
}
