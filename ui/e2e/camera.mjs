// @ts-check
// What the app's virtual camera (`--camera file:PATH`) shows: this suite
// changes the picture the way a screen in front of a camera changes — the
// whole image at once (written aside, then renamed over the old one).
import { copyFileSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { PNG } from 'pngjs';
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

  /**
   * Shows what a 1280x720 camera sees in a ward: a textured room and, when
   * `text` is given, a monitor's screen with the QR of `text` on it (level H,
   * 5 px per module).
   * @param {string | null} text
   */
  showScene(text) {
    this.#show((aside) => {
      writeFileSync(aside, scene(text));
    });
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

const SCENE_WIDTH = 1280;
const SCENE_HEIGHT = 720;
const MODULE_PX = 5;

/**
 * A grey 1280x720 PNG: soft gradients and fine noise (what a camera's sensor
 * and a room give a scanner to chew on), with the QR of `text` drawn on a
 * bright screen when given.
 * @param {string | null} text
 */
function scene(text) {
  const png = new PNG({ width: SCENE_WIDTH, height: SCENE_HEIGHT, colorType: 0 });
  let seed = 1;
  const noise = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return (seed / 2147483648) * 24 - 12;
  };
  /** @param {number} x @param {number} y @param {number} grey */
  const put = (x, y, grey) => {
    const at = (y * SCENE_WIDTH + x) * 4;
    const value = Math.max(0, Math.min(255, Math.round(grey + noise())));
    png.data[at] = png.data[at + 1] = png.data[at + 2] = value;
    png.data[at + 3] = 255;
  };
  for (let y = 0; y < SCENE_HEIGHT; y += 1) {
    for (let x = 0; x < SCENE_WIDTH; x += 1) {
      put(x, y, 90 + 50 * Math.sin(x / 170) * Math.cos(y / 110) + (x * 40) / SCENE_WIDTH);
    }
  }
  if (text !== null) {
    const { size, data } = QRCode.create(text, { errorCorrectionLevel: 'H' }).modules;
    const side = (size + 8) * MODULE_PX;
    const left = Math.round((SCENE_WIDTH - side) / 2);
    const top = Math.round((SCENE_HEIGHT - side) / 2);
    for (let y = 0; y < side; y += 1) {
      for (let x = 0; x < side; x += 1) {
        const [mx, my] = [Math.floor(x / MODULE_PX) - 4, Math.floor(y / MODULE_PX) - 4];
        const dark = mx >= 0 && my >= 0 && mx < size && my < size && data[my * size + mx] === 1;
        put(left + x, top + y, dark ? 30 : 225);
      }
    }
  }
  return PNG.sync.write(png, { colorType: 0 });
}
