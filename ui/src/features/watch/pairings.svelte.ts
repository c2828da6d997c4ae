// Every pairing of this run, kept current from `pairing://status`.
import type { AppError } from '../../bindings/AppError';
import type { Pairing } from '../../bindings/Pairing';
import { announcer } from '../../lib/announcer.svelte';
import {
  appErrorOf,
  dismissPairing,
  listPairings,
  onPairingStatus,
  pairScanned,
  retryPairing,
  startPairing,
} from '../../lib/ipc';
import { isFinished, jobLook } from './jobStates';

function describe(pairing: Pairing): string {
  const state = jobLook(pairing.state).label;
  if (pairing.failure !== null) return `${pairing.deviceId}: ${state}. ${pairing.failure.message}`;
  const step = pairing.steps.at(-1);
  return step === undefined ? `${pairing.deviceId}: ${state}.` : `${pairing.deviceId}: ${state}. ${step.message}`;
}

class Pairings {
  items = $state<Pairing[]>([]);
  loadError = $state<AppError | null>(null);
  readonly newestFirst = $derived([...this.items].sort((a, b) => b.startedAt.localeCompare(a.startedAt)));
  readonly inFlight = $derived(this.items.filter((pairing) => !isFinished(pairing)).length);
  /** Pairings an event updated while list_pairings was on its way: the event is newer than the list. */
  #updatedWhileLoading: Set<string> | null = null;

  /** Listens for updates; call once, before the first load, so none is missed. */
  listen(): () => void {
    const unlisten = onPairingStatus((pairing) => {
      this.apply(pairing);
    });
    return () => {
      void unlisten.then((stop) => {
        stop();
      });
    };
  }

  async load(): Promise<void> {
    this.loadError = null;
    const updated = new Set<string>();
    this.#updatedWhileLoading = updated;
    try {
      const listed = await listPairings();
      const fresher = this.items.filter((pairing) => updated.has(pairing.pairingId));
      this.items = [...fresher, ...listed.filter((pairing) => !updated.has(pairing.pairingId))];
    } catch (error) {
      this.loadError = appErrorOf(error);
    } finally {
      if (this.#updatedWhileLoading === updated) this.#updatedWhileLoading = null;
    }
  }

  /** Keeps the newer of two copies of a pairing: a command's answer and a status event can
   * arrive in either order (a refusal can be announced before the answer that started it). */
  apply(pairing: Pairing): void {
    this.#updatedWhileLoading?.add(pairing.pairingId);
    const index = this.items.findIndex((item) => item.pairingId === pairing.pairingId);
    const previous = index === -1 ? undefined : this.items[index];
    if (previous !== undefined && previous.revision >= pairing.revision) return;
    if (index === -1) this.items.push(pairing);
    else this.items[index] = pairing;
    if (previous?.state !== pairing.state) announcer.announce(describe(pairing));
  }

  async start(deviceId: string, code: string): Promise<Pairing> {
    const pairing = await startPairing(deviceId, code);
    this.apply(pairing);
    return pairing;
  }

  /** Pairs a monitor the scanner found; its QR token never leaves Rust. */
  async startScanned(scanId: string): Promise<Pairing> {
    const pairing = await pairScanned(scanId);
    this.apply(pairing);
    return pairing;
  }

  async retry(pairingId: string): Promise<void> {
    this.apply(await retryPairing(pairingId));
  }

  async dismiss(pairingId: string): Promise<void> {
    await dismissPairing(pairingId);
    this.items = this.items.filter((pairing) => pairing.pairingId !== pairingId);
  }

  clear(): void {
    this.items = [];
    this.loadError = null;
  }
}

export const pairings = new Pairings();
