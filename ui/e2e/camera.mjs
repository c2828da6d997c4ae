// @ts-check
// What the app's virtual camera (`--camera file:PATH`) shows: this suite
// changes the picture the way a screen in front of a camera changes — the
// whole image at once (written aside, then renamed over the old one).
import { copyFileSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import QRCode from 'qrcode';

/** A picture with no QR code in it: the tablet pointed at the ward. */
const NOTHING = new URL('../../icons/128x128.png', import.meta.url);

export class VirtualCamera {
  /** @param {string} file the image the app's camera shows */
  constructor(file) {
    this.file = file;
    mkdirSync(dirname(file), { recursive: true });
    this.#show((aside) => {
      copyFileSync(NOTHING, aside);
    });
  }

  /** @param {string} png an image file to show, such as a monitor's screen/qr.png */
  showFile(png) {
    this.#show((aside) => {
      copyFileSync(png, aside);
    });
  }

  /**
   * Shows the QR of `text` at error correction level H, as a monitor draws it.
   * @param {string} text
   */
  async showQr(text) {
    const aside = `${this.file}.next.png`;
    await QRCode.toFile(aside, text, { errorCorrectionLevel: 'H', scale: 6, margin: 4 });
    renameSync(aside, this.file);
  }

  /** @param {(aside: string) => void} write */
  #show(write) {
    const aside = `${this.file}.next.png`;
    write(aside);
    renameSync(aside, this.file);
  }
}

/**
 * The QR payload a monitor shows now.
 * @param {string} screenDir
 * @returns {Record<string, unknown>}
 */
export function shownPayload(screenDir) {
  /** @type {unknown} */
  const shown = JSON.parse(readFileSync(`${screenDir}/qr.json`, 'utf8'));
  if (typeof shown !== 'object' || shown === null) throw new Error(`no QR payload on the screen in ${screenDir}`);
  return /** @type {Record<string, unknown>} */ (shown);
}
