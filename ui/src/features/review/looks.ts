// Words, icons and tones for the states a monitor reports.
import type { CertificateValidity } from '../../bindings/CertificateValidity';
import type { ConnectionState } from '../../bindings/ConnectionState';
import type { DeviceState } from '../../bindings/DeviceState';
import type { IconName } from '../../components/icons';
import type { Tone } from '../../components/tone';

export interface Look {
  label: string;
  tone: Tone;
  icon: IconName;
}

const DEVICE: Record<DeviceState, Look> = {
  UNPROVISIONED: { label: 'Not paired', tone: 'neutral', icon: 'info' },
  PAIRING: { label: 'Pairing', tone: 'busy', icon: 'progress' },
  PROVISIONED: { label: 'Provisioned', tone: 'ok', icon: 'check' },
  AWAITING_REPROVISION: { label: 'Waiting to be paired again', tone: 'warn', icon: 'warning' },
  DEPROVISIONED: { label: 'De-provisioned', tone: 'neutral', icon: 'revoked' },
};

const CONNECTION: Record<ConnectionState, Look> = {
  connected: { label: 'Connected', tone: 'ok', icon: 'check' },
  disconnected: { label: 'Disconnected', tone: 'bad', icon: 'unplugged' },
  never: { label: 'Never connected', tone: 'neutral', icon: 'info' },
};

const VALIDITY: Record<CertificateValidity, Look> = {
  valid: { label: 'Valid', tone: 'ok', icon: 'check' },
  expiring_soon: { label: 'Expiring soon', tone: 'warn', icon: 'warning' },
  expired: { label: 'Expired', tone: 'bad', icon: 'error' },
  revoked: { label: 'Revoked', tone: 'bad', icon: 'revoked' },
};

export const deviceLook = (state: DeviceState): Look => DEVICE[state];
export const connectionLook = (state: ConnectionState): Look => CONNECTION[state];
export const validityLook = (validity: CertificateValidity): Look => VALIDITY[validity];
