import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';

// `vite build` writes dist/index.html and content-hashed files under dist/assets/, which the API serves with
// `Cache-Control: immutable`. In development, /api and /health are proxied to a local API on :8000.
export default defineConfig({
  plugins: [vue()],
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    emptyOutDir: true,
    sourcemap: false,
  },
  server: {
    proxy: {
      '/api': 'http://127.0.0.1:8000',
      '/health': 'http://127.0.0.1:8000',
    },
  },
});
