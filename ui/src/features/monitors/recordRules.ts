// The registry's rules for one monitor's record (zpair_proto::device and the
// station's checks), said beside the field before the station is asked.
// The station checks them again; these only spare a round trip.

/** zpair_proto::device::is_device_id */
export function deviceIdProblem(id: string): string | null {
  if (id === '') return 'Give the device ID the monitor shows.';
  if (id.length > 64 || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(id)) {
    return "1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit.";
  }
  if (['import', 'heartbeat'].includes(id.toLowerCase())) return `"${id}" is reserved; it cannot be a device ID.`;
  return null;
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

export function textProblem(value: string, name: string, min: number, max: number): string | null {
  const length = Array.from(value).length;
  if (length < min) return `Give the ${name}.`;
  if (length > max) return `At most ${String(max)} characters.`;
  if (CONTROL.test(value)) return 'No line breaks or control characters.';
  return null;
}

/** An Ed25519 public key, base64url without padding: 43 characters. */
export function keyProblem(key: string): string | null {
  if (key === '') return "Give the monitor's identity public key.";
  if (!/^[A-Za-z0-9_-]{43}$/.test(key)) {
    return 'An identity key is 43 characters of letters, digits, "-" and "_" (base64url), as the monitor exports it.';
  }
  return null;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** IPv4 dotted, or something IPv6-shaped (the station has the last word). */
export function addressProblem(address: string): string | null {
  if (address === '' || IPV4.test(address)) return null;
  if (address.includes(':') && /^[0-9A-Fa-f:.]+$/.test(address)) return null;
  return 'An IPv4 address (10.20.4.17) or an IPv6 address, or leave it empty.';
}
