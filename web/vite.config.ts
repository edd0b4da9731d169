import { defineConfig } from "vite";

// Preact's JSX through Vite's own transformer (Oxc): no Babel preset needed.
export default defineConfig({
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: { target: "es2022", outDir: "dist", emptyOutDir: true, reportCompressedSize: false },
  server: {
    proxy: { "/api": { target: "http://127.0.0.1:8080", ws: true } },
  },
});
