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
  | { name: 'station'; untrusted: boolean }
  // Administrators only (ADMIN_ROUTES):
  | { name: 'monitors' }
  | { name: 'register' }
  | { name: 'import' }
  | { name: 'deprovision'; deviceId: string }
  | { name: 'readmit'; deviceId: string }
  | { name: 'accounts' }
  | { name: 'audit'; deviceId: string | null }
  | { name: 'reports' }
  | { name: 'certificates' };

/** The screens only an administrator is shown; the router refuses them to anyone else. */
export const ADMIN_ROUTES: readonly Route['name'][] = [
  'monitors',
  'register',
  'import',
  'deprovision',
  'readmit',
  'accounts',
  'audit',
  'reports',
  'certificates',
];

export const isAdminRoute = (route: Route): boolean => ADMIN_ROUTES.includes(route.name);

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
    case 'monitors':
      if (second === undefined) return { name: 'monitors' };
      if (third === 'deprovision') return { name: 'deprovision', deviceId: second };
      if (third === 'readmit') return { name: 'readmit', deviceId: second };
      if (second === 'register' && third === undefined) return { name: 'register' };
      if (second === 'import' && third === undefined) return { name: 'import' };
      return { name: 'monitors' };
    case 'accounts':
      return { name: 'accounts' };
    case 'audit':
      return { name: 'audit', deviceId: params.get('device') };
    case 'reports':
      return { name: 'reports' };
    case 'certificates':
      return { name: 'certificates' };
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
    case 'monitors':
      return '#/monitors';
    case 'register':
      return '#/monitors/register';
    case 'import':
      return '#/monitors/import';
    case 'deprovision':
      return `#/monitors/${id(route.deviceId)}/deprovision`;
    case 'readmit':
      return `#/monitors/${id(route.deviceId)}/readmit`;
    case 'accounts':
      return '#/accounts';
    case 'audit':
      return route.deviceId === null ? '#/audit' : `#/audit?${new URLSearchParams({ device: route.deviceId }).toString()}`;
    case 'reports':
      return '#/reports';
    case 'certificates':
      return '#/certificates';
  }
}
