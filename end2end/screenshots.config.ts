import { defineConfig } from "@playwright/test";
import base from "./playwright.config";

/**
 * `make screenshots`: retakes the README's pictures (docs/screenshots/) from the release
 * build on a fresh database. Not a test suite: one script, one browser, a fixed window.
 */
export default defineConfig({
  ...base,
  testDir: "./screenshots",
  fullyParallel: false,
  workers: 1,
  projects: undefined,
  use: { ...base.use, viewport: { width: 1280, height: 760 } },
});
