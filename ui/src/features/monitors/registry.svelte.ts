// What the Monitors screen was showing, kept while the administrator opens a
// monitor's de-provisioning or an import and comes back.
import type { RegistryFilter } from '../../bindings/RegistryFilter';

class RegistryView {
  search = $state('');
  filter = $state<RegistryFilter | null>(null);
  /** What the last change did ("ZM-004 was de-provisioned"), said once on the list. */
  done = $state<string | null>(null);

  /** The change's outcome, for the list to show: read once. */
  takeDone(): string | null {
    const done = this.done;
    this.done = null;
    return done;
  }
}

export const registryView = new RegistryView();
