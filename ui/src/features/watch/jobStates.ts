import type { JobState } from '../../bindings/JobState';
import type { Pairing } from '../../bindings/Pairing';
import type { IconName } from '../../components/icons';
import type { Tone } from '../../components/tone';

interface Look {
  label: string;
  tone: Tone;
  icon: IconName;
}

const LOOKS: Record<JobState, Look> = {
  SUBMITTING: { label: 'Sending request', tone: 'busy', icon: 'progress' },
  PAIRING: { label: 'Pairing', tone: 'busy', icon: 'progress' },
  CONFIGURING: { label: 'Configuring', tone: 'busy', icon: 'progress' },
  VALIDATING: { label: 'Testing connection', tone: 'busy', icon: 'progress' },
  CONFIRMING: { label: 'Confirming with the monitor', tone: 'busy', icon: 'progress' },
  PROVISIONED: { label: 'Provisioned', tone: 'ok', icon: 'check' },
  FAILED: { label: 'Failed', tone: 'bad', icon: 'error' },
};

export const jobLook = (state: JobState): Look => LOOKS[state];

export interface StepLook {
  label: string;
  tone: Tone | 'done';
  icon: IconName;
}

/** A step behind the current one is done: it gets a tick, not the hourglass of its state. */
export function stepLook(state: JobState, current: boolean): StepLook {
  const look = LOOKS[state];
  return look.tone === 'busy' && !current ? { ...look, tone: 'done', icon: 'check' } : look;
}

export const isFinished = (pairing: Pairing): boolean => pairing.state === 'PROVISIONED' || pairing.state === 'FAILED';
