// The audit log's event types (the station's EventType, stored snake_case),
// for the filter and as words in the table. A type this list does not know
// (a newer station's) still shows, spelled out from its code.

export const EVENT_TYPES = [
  'pairing_requested',
  'monitor_identity_verified',
  'certificate_issued',
  'pairing_code_validated',
  'configuration_received',
  'configuration_applied',
  'connection_tested',
  'provisioning_completed',
  'provisioning_failed',
  'commit_recovered',
  'monitor_contact_retried',
  'command_delivered',
  'certificate_revoked',
  'certificate_renewal_issued',
  'certificate_switched',
  'certificate_refused',
  'reprovisioning_started',
  'deprovisioned',
  'readmitted',
  'device_registered',
  'sign_in',
  'sign_in_failed',
  'account_locked',
  'step_up',
  'sign_out',
  'sessions_ended',
  'account_created',
  'account_disabled',
  'account_enabled',
] as const;

/** `pairing_requested` as "Pairing requested". */
export function eventLabel(eventType: string): string {
  const words = eventType.toLowerCase().split('_').filter(Boolean).join(' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}
