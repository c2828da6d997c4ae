// Words, icons and tones for the registry's groups and an import's outcomes.
import type { ImportOutcome } from '../../bindings/ImportOutcome';
import type { RegistryFilter } from '../../bindings/RegistryFilter';
import type { Look } from '../review/looks';

export const FILTERS: { value: RegistryFilter | null; label: string }[] = [
  { value: null, label: 'All' },
  { value: 'never_paired', label: 'Never paired' },
  { value: 'provisioned', label: 'Provisioned' },
  { value: 'failed', label: 'Last pairing failed' },
  { value: 'certificate_expiring', label: 'Certificate expiring' },
  { value: 'deprovisioned', label: 'De-provisioned' },
];

/** A dry run's row: what committing it would do, or that it could not be read. */
export type RowOutcome = ImportOutcome | 'unreadable';

const OUTCOME: Record<RowOutcome, Look> = {
  new: { label: 'New', tone: 'ok', icon: 'plus' },
  updated: { label: 'Updated', tone: 'busy', icon: 'info' },
  unchanged: { label: 'Unchanged', tone: 'neutral', icon: 'check' },
  conflicting: { label: 'Conflicting', tone: 'bad', icon: 'error' },
  unreadable: { label: 'Unreadable', tone: 'warn', icon: 'warning' },
};

export const outcomeLook = (outcome: RowOutcome): Look => OUTCOME[outcome];

const FIELDS: Record<string, string> = {
  deviceLabel: 'label',
  bedId: 'bed',
  ipAddress: 'address',
  firmwareVersion: 'firmware',
  deviceSerial: 'serial',
  identityPublicKey: 'identity key',
};

/** `deviceLabel`, `bedId` as the words a person reads. */
export const fieldNames = (fields: string[]): string => fields.map((field) => FIELDS[field] ?? field).join(', ');
