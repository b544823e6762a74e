import { defineConfig } from "@playwright/test";

/**
 * Run by `cargo leptos end-to-end` (see `make test`), which builds and starts the server
 * on a fresh database first. Debian's Chromium is used: Playwright cannot download its own.
 */
const baseURL = process.env.BASE_URL ?? "http://127.0.0.1:3000";

export default defineConfig({
  testDir: "./tests",
  globalSetup: "./global-setup.ts",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: true,
  forbidOnly: !!process.env.CI,
  retries: 0,
  workers: 2,
  reporter: "list",
  use: {
    baseURL,
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    },
  },
  projects: [
    // Creates the workspace on the fresh database: everything else signs in to it.
    { name: "setup", testMatch: /create-workspace\.spec\.ts/ },
    {
      name: "chromium",
      testIgnore: [/create-workspace\.spec\.ts/, /[\\/]counts\.spec\.ts$/],
      dependencies: ["setup"],
    },
    // Adds 10,001 contacts for a while: after the rest, so no other test finds its
    // newest contacts pushed off the first page.
    { name: "large", testMatch: /[\\/]counts\.spec\.ts$/, dependencies: ["chromium"] },
  ],
});
