// The screens and their addresses. Hash routing: the app is served from files
// inside Tauri, so there is no server to answer deep links.

export type Route =
  | { name: 'scan'; deviceId: string | null; reprovisioned: boolean }
  | { name: 'watch' }
  | { name: 'devices' }
  | { name: 'device'; deviceId: string }
  | { name: 'reprovision'; deviceId: string }
  | { name: 'history' }
  | { name: 'settings'; trustUpdated: boolean }
  | { name: 'licences' }
  | { name: 'station'; untrusted: boolean };

export const scanRoute = (deviceId: string | null = null): Route => ({ name: 'scan', deviceId, reprovisioned: false });

export function parseHash(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#/, '').split('?', 2);
  const params = new URLSearchParams(query);
  const [first, second, third] = path.split('/').filter(Boolean).map(decodeURIComponent);
  switch (first) {
    case 'watch':
      return { name: 'watch' };
    case 'devices':
      if (second === undefined) return { name: 'devices' };
      return third === 'reprovision' ? { name: 'reprovision', deviceId: second } : { name: 'device', deviceId: second };
    case 'history':
      return { name: 'history' };
    case 'settings':
      if (second === 'licences') return { name: 'licences' };
      return { name: 'settings', trustUpdated: params.has('trust-updated') };
    case 'station':
      return { name: 'station', untrusted: params.has('untrusted') };
    default:
      // The Scan screen is the primary entry, and where unknown addresses land.
      return { name: 'scan', deviceId: params.get('device'), reprovisioned: params.has('reprovisioned') };
  }
}

export function href(route: Route): string {
  const id = (deviceId: string) => encodeURIComponent(deviceId);
  switch (route.name) {
    case 'scan': {
      const params = new URLSearchParams();
      if (route.deviceId !== null) params.set('device', route.deviceId);
      if (route.reprovisioned) params.set('reprovisioned', '');
      const query = params.toString();
      return query === '' ? '#/scan' : `#/scan?${query}`;
    }
    case 'watch':
      return '#/watch';
    case 'devices':
      return '#/devices';
    case 'device':
      return `#/devices/${id(route.deviceId)}`;
    case 'reprovision':
      return `#/devices/${id(route.deviceId)}/reprovision`;
    case 'history':
      return '#/history';
    case 'settings':
      return route.trustUpdated ? '#/settings?trust-updated' : '#/settings';
    case 'licences':
      return '#/settings/licences';
    case 'station':
      return route.untrusted ? '#/station?untrusted' : '#/station';
  }
}
