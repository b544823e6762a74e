import { test as base, expect, type BrowserContext, type ConsoleMessage, type Page } from "@playwright/test";

/**
 * What the browser may print that means the app is broken even if the test's own
 * assertions happen to pass: a failed hydration, a Rust panic (console_error_panic_hook
 * prints "panicked at"), or a WASM trap or load failure.
 */
const BROKEN = /hydrat|panicked at|unreachable|RuntimeError|WebAssembly\.|wasm-bindgen/i;

/** The console messages of a page that mean the app is broken. */
function isBreakage(message: ConsoleMessage): boolean {
  return (message.type() === "error" || message.type() === "warning") && BROKEN.test(message.text());
}

/**
 * Every test of the suite imports `test` from here: it fails a test during which any of
 * its pages throws an uncaught error or logs a breakage (see `BROKEN`), in every page of
 * the test's own context and of contexts it opens with `browser.newContext()`. A release
 * bundle that loads but never hydrates fails here even where a test only reads
 * server-rendered HTML.
 */
export const test = base.extend<{ pageErrors: void }>({
  pageErrors: [
    async ({ context, browser }, use) => {
      const errors: string[] = [];
      const watchPage = (page: Page) => {
        page.on("pageerror", (error) => errors.push(`${page.url()}: uncaught ${error.name}: ${error.message}`));
        page.on("console", (message) => {
          if (isBreakage(message)) errors.push(`${page.url()}: console.${message.type()}: ${message.text()}`);
        });
      };
      const watchContext = (watched: BrowserContext) => {
        watched.pages().forEach(watchPage);
        watched.on("page", watchPage);
      };
      watchContext(context);
      // Contexts a test opens itself (a second user signed in beside the first).
      const newContext = browser.newContext.bind(browser);
      browser.newContext = async (options) => {
        const opened = await newContext(options);
        watchContext(opened);
        return opened;
      };
      try {
        await use();
      } finally {
        browser.newContext = newContext;
      }
      expect(errors, "the pages of this test threw or logged errors").toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };
