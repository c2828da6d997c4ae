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

export default defineConfig({
  plugins: [
    svelte(),
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
  build: { outDir: 'dist', emptyOutDir: true },
});
