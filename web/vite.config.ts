// Vite builds the page into dist/, which `topsongs api` serves (api.web-dir).
// `npm run dev` proxies /api to a local api for development only.
import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

export default defineConfig({
  plugins: [react()],
  build: { outDir: "dist", sourcemap: true, chunkSizeWarningLimit: 1024 },
  server: {
    proxy: { "/api": process.env.TOPSONGS_API_URL ?? "http://127.0.0.1:8080" },
  },
  test: {
    environment: "jsdom",
    globals: true,
    setupFiles: ["src/__tests__/setup.ts"],
    include: ["src/**/*.test.{ts,tsx}"],
    // A chart's first render takes seconds on a loaded 2-core machine; the
    // 5 s default failed there. Tests wait for content, not for time.
    testTimeout: 30000,
  },
});
