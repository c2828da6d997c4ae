// What scanning found, whatever the frames came from (the camera, an image
// file): monitors ready to pair, and the last QR that could not be used.
import type { AppError } from '../../bindings/AppError';
import type { FoundMonitor } from '../../bindings/FoundMonitor';
import type { ScanReport } from '../../bindings/ScanReport';
import { announcer } from '../../lib/announcer.svelte';
import { appErrorOf, dismissScanned } from '../../lib/ipc';
import { pairings } from '../watch/pairings.svelte';
import { signalFound } from './feedback';

const AUTO_PAIR_KEY = 'zpair.scan.autoPair';
/** Refusals after which a found monitor's QR cannot be paired any more. */
const SPENT = new Set(['qr_expired', 'scan_unknown', 'qr_already_sent', 'token_replayed']);

class Scanned {
  /** Monitors found and not yet paired, newest first. */
  found = $state<FoundMonitor[]>([]);
  /** The last QR that could not be used, or a pairing that could not start. */
  notice = $state<AppError | null>(null);
  /** A QR already sent for pairing, by device ID. */
  sent = $state<string | null>(null);
  /** Pair as soon as a monitor is found, without the tap. */
  autoPair = $state(localStorage.getItem(AUTO_PAIR_KEY) === 'true');
  /** Scan IDs being paired right now (their button is busy). */
  pairing = $state<string[]>([]);
  /** Scan IDs paired or put away: a frame scanned before that, answered after, must not bring them back. */
  #done = new Set<string>();

  setAutoPair(on: boolean): void {
    this.autoPair = on;
    localStorage.setItem(AUTO_PAIR_KEY, String(on));
  }

  /** Applies what one frame (or image) showed. */
  report(report: ScanReport): void {
    const sighting = report.sighting;
    switch (sighting.kind) {
      case 'nothing':
        return;
      case 'found': {
        this.sent = null;
        if (this.#done.has(sighting.scanId) || this.found.some((monitor) => monitor.scanId === sighting.scanId)) return;
        this.notice = null;
        // A newer QR of the same monitor replaces the older one, as in Rust.
        this.found = [sighting, ...this.found.filter((monitor) => monitor.deviceId !== sighting.deviceId)];
        signalFound();
        announcer.announce(`Found monitor ${sighting.deviceId}.`);
        if (this.autoPair) void this.pair(sighting.scanId);
        return;
      }
      case 'sent':
        this.sent = sighting.deviceId;
        return;
      case 'refused':
        this.sent = null;
        if (this.notice?.code !== sighting.code || this.notice.message !== sighting.message) {
          announcer.announce(sighting.message);
        }
        this.notice = { code: sighting.code, message: sighting.message };
    }
  }

  async pair(scanId: string): Promise<boolean> {
    if (this.pairing.includes(scanId)) return false;
    this.pairing = [...this.pairing, scanId];
    this.#done.add(scanId);
    try {
      await pairings.startScanned(scanId);
      this.found = this.found.filter((monitor) => monitor.scanId !== scanId);
      return true;
    } catch (error) {
      const refused = appErrorOf(error);
      this.notice = refused;
      if (SPENT.has(refused.code)) {
        // This QR can no longer be paired: off the list.
        this.found = this.found.filter((monitor) => monitor.scanId !== scanId);
      } else {
        // Signed out, station away…: the card stays for another tap.
        this.#done.delete(scanId);
      }
      return false;
    } finally {
      this.pairing = this.pairing.filter((id) => id !== scanId);
    }
  }

  async dismiss(scanId: string): Promise<void> {
    this.#done.add(scanId);
    this.found = this.found.filter((monitor) => monitor.scanId !== scanId);
    await dismissScanned(scanId);
  }

  clearNotice(): void {
    this.notice = null;
  }
}

export const scanned = new Scanned();
