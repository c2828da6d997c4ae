import { readFileSync } from 'node:fs';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig, type Plugin } from 'vite';

// The port Tauri's devUrl points at; fixed so `cargo tauri dev` always finds it.
const DEV_PORT = 5173;
// `cargo tauri android dev` / `ios dev` set this so a tablet on the network can reach the dev server.
const tauriDevHost = process.env.TAURI_DEV_HOST;
const HMR_PORT = 5174;

/**
 * index.html carries the strict policy the app ships with. The dev server
 * injects component CSS as <style> tags and talks to the page over a
 * WebSocket for hot reload, so only while serving do those two get through.
 */
function devServerCsp(hotReloadOrigin: string): Plugin {
  return {
    name: 'zpair-dev-server-csp',
    apply: 'serve',
    transformIndexHtml(html) {
      return html
        .replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
        .replace('connect-src ', `connect-src ${hotReloadOrigin} `);
    },
  };
}

/**
 * Every npm package bundled into dist must be named in the notices the app
 * ships (third-party/licences.json, written by `cargo xtask notices`): the
 * build fails on one that is not, so a new runtime import cannot ship unlisted.
 */
function shippedPackagesAreListed(): Plugin {
  return {
    name: 'zpair-shipped-packages-are-listed',
    apply: 'build',
    generateBundle(_options, bundle) {
      const list = JSON.parse(readFileSync(new URL('third-party/licences.json', import.meta.url), 'utf8')) as {
        packages: { ecosystem: string; name: string }[];
      };
      const listed = new Set(list.packages.filter((p) => p.ecosystem === 'npm').map((p) => p.name));
      const bundled = new Set<string>();
      for (const output of Object.values(bundle)) {
        if (output.type !== 'chunk') continue;
        for (const id of Object.keys(output.modules)) {
          const name = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(id)?.[1];
          if (name !== undefined) bundled.add(name);
        }
      }
      const unlisted = [...bundled].filter((name) => !listed.has(name));
      if (unlisted.length > 0) {
        this.error(
          `dist bundles npm packages the notices do not name: ${unlisted.join(', ')}; add them to xtask/src/notices.rs (BUNDLED_DEV_PACKAGES) and run \`cargo xtask notices\``,
        );
      }
    },
  };
}

export default defineConfig({
  plugins: [
    svelte(),
    shippedPackagesAreListed(),
    devServerCsp(tauriDevHost ? `ws://${tauriDevHost}:${String(HMR_PORT)}` : `ws://localhost:${String(DEV_PORT)}`),
  ],
  // Keep the Rust build's output visible when `cargo tauri dev` runs Vite.
  clearScreen: false,
  server: {
    port: DEV_PORT,
    strictPort: true,
    host: tauriDevHost ?? false,
    hmr: tauriDevHost ? { protocol: 'ws', host: tauriDevHost, port: HMR_PORT } : undefined,
  },
  preview: { port: 4173, strictPort: true, host: '127.0.0.1' },
  // The largest chunk is the notices' text (about 840 kB, 115 kB gzipped),
  // loaded only when the licences screen shows it.
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 1000 },
});
