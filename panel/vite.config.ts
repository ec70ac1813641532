// Builds the panel into internal/panel/dist (embedded in the server binary).
// The TypeScript SDK is used from its source in clients/typescript/src, so a
// spec change that breaks the panel breaks `tsc` here.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here("."),
  base: "./", // every URL relative to the page: works under a path prefix
  publicDir: false,
  resolve: {
    alias: {
      "@cli-proxy-api/management-client": here("../clients/typescript/src/client.ts"),
      // One copy, the panel's own (same version as the SDK's).
      "openapi-fetch": here("./node_modules/openapi-fetch"),
    },
  },
  esbuild: { jsx: "automatic", jsxImportSource: "preact", legalComments: "none" },
  build: {
    outDir: here("../internal/panel/dist"),
    emptyOutDir: true,
    assetsDir: "management-panel",
    target: "es2022",
    modulePreload: { polyfill: false }, // the polyfill would be an inline script
    sourcemap: false,
    cssCodeSplit: true,
    reportCompressedSize: false,
    rollupOptions: { input: here("management.html") },
  },
});
