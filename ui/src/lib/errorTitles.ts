// A short headline for each error code of the contract; the Rust message
// under it says what happened in detail and what to do next.

const TITLES: Record<string, string> = {
  station_unreachable: 'Cannot reach the Central Station',
  station_untrusted: 'Central Station not trusted',
  invalid_credentials: 'Wrong username or password',
  account_locked: 'Account locked',
  session_expired: 'Signed out',
  forbidden_role: 'Not allowed for your role',
  unknown_device: 'Unknown monitor',
  invalid_code: 'Not a pairing code',
  token_replayed: 'QR code already used',
  pairing_in_progress: 'Already pairing this monitor',
  rate_limited: 'Too many attempts',
  confirmation_required: 'Password confirmation needed',
  confirmation_mismatch: 'Device ID does not match',
  code_mismatch: 'Pairing code did not match',
  code_expired: 'Pairing code expired',
  token_stale: 'QR code out of date',
  provisioning_closed: 'Provisioning mode closed',
  not_in_provisioning_mode: 'Monitor not in provisioning mode',
  signature_invalid: 'Configuration refused by the monitor',
  certificate_invalid: 'Certificate refused by the monitor',
  monitor_unreachable: 'Cannot reach the monitor',
  connection_test_failed: 'Connection test failed',
  interrupted: 'Pairing interrupted',
};

export const errorTitle = (code: string): string => TITLES[code] ?? 'Something went wrong';
