// The third-party packages ZPair ships, as `cargo xtask notices` lists them
// from the lock files (ui/third-party/, committed; `cargo xtask audit` fails
// when they no longer match). Loaded only when the licences screen opens.

export interface ThirdPartyPackage {
  ecosystem: 'rust' | 'npm';
  name: string;
  version: string;
  /** The SPDX expression the package declares. */
  licence: string;
  repository: string;
}

export interface ThirdPartyList {
  /** The platform the Rust crates are listed for. */
  target: string;
  packages: ThirdPartyPackage[];
}

export async function loadPackages(): Promise<ThirdPartyList> {
  const list = await import('../../../third-party/licences.json');
  return list.default as ThirdPartyList;
}

/** The full notices: every package's licence texts, as the .deb installs them. */
export async function loadNotices(): Promise<string> {
  const text = await import('../../../third-party/THIRD-PARTY-NOTICES.txt?raw');
  return text.default;
}

/** Packages whose name or licence contains `filter` (any case). */
export function matching(packages: ThirdPartyPackage[], filter: string): ThirdPartyPackage[] {
  const needle = filter.trim().toLowerCase();
  if (needle === '') return packages;
  return packages.filter((p) => p.name.toLowerCase().includes(needle) || p.licence.toLowerCase().includes(needle));
}
