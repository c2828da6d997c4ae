// The Central Station this app talks to and how its certificate is trusted.
import type { SetupState } from '../../bindings/SetupState';
import { getSetup, trustStationCa, trustStationFingerprint } from '../../lib/ipc';

class Station {
  setup = $state<SetupState>({ stationUrl: null, trust: null, suggestedStationUrl: null, signInKeptIn: null });
  /** Nothing can be done before the station is known and trusted. */
  readonly configured = $derived(this.setup.stationUrl !== null && this.setup.trust !== null);

  async load(): Promise<void> {
    this.setup = await getSetup();
  }

  async trustFingerprint(stationUrl: string, fingerprint: string): Promise<void> {
    this.setup = await trustStationFingerprint(stationUrl, fingerprint);
  }

  async trustCa(stationUrl: string, caPem: string): Promise<void> {
    this.setup = await trustStationCa(stationUrl, caPem);
  }
}

export const station = new Station();
