// Stroke paths on a 24×24 grid, drawn here so the app needs no icon font or CDN.
const CIRCLE = 'M21 12a9 9 0 1 1-18 0a9 9 0 1 1 18 0';
export const ICON_PATHS = {
  scan: 'M4 8V4h4M16 4h4v4M20 16v4h-4M8 20H4v-4M7 12h10',
  pairings: 'M3 12h4l3-8 4 16 3-8h4',
  devices: 'M3 4h18v12H3zM8 20h8M12 16v4',
  history: `${CIRCLE}M12 7v5l3 2`,
  settings: 'M4 7h9M17 7h3M4 17h3M11 17h9M15 5v4M9 15v4',
  check: `${CIRCLE}M8 12l3 3 5-6`,
  warning: 'M12 3l10 18H2zM12 10v5M12 18v.01',
  error: `${CIRCLE}M9 9l6 6M15 9l-6 6`,
  info: `${CIRCLE}M12 11v6M12 7v.01`,
  progress: 'M7 3h10M7 21h10M8 3c0 5 8 5 8 9s-8 4-8 9M16 3c0 5-8 5-8 9s8 4 8 9',
  revoked: `${CIRCLE}M5.6 5.6l12.8 12.8`,
  unplugged: 'M4 20l16-16M9 7l8 8M7 9l-3 3 3 3 3-3M15 17l3-3-3-3',
  signout: 'M14 4h5v16h-5M10 8l-4 4 4 4M6 12h10',
  back: 'M15 5l-7 7 7 7',
  retry: 'M20 11a8 8 0 1 0-2.3 5.7M20 4v7h-7',
  camera: 'M3 7h4l2-3h6l2 3h4v13H3zM12 17a4 4 0 1 0 0-8a4 4 0 1 0 0 8M3 3l18 18',
} as const;
export type IconName = keyof typeof ICON_PATHS;
