import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The API base URL is read at run time from /config.json (served by infra/local/ui_server.py
// locally and written next to the site in S3), never baked into the build.
export default defineConfig({
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true, chunkSizeWarningLimit: 2000 },
});
