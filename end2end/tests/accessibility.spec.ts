import AxeBuilder from "@axe-core/playwright";
import { expect, test } from "./fixtures";
import { hydrated, signInAsAdmin } from "./pages/accounts";
import type { Page } from "@playwright/test";

/** Every WCAG 2.1 A and AA rule axe-core knows, on the page as it is now. */
async function violations(page: Page) {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  return results.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
}

test("the sign-in page and the API reference have no accessibility violations", async ({ page }) => {
  await page.goto("/login");
  await hydrated(page);
  expect(await violations(page)).toEqual([]);
  await page.goto("/api/docs");
  expect(await violations(page)).toEqual([]);
});

test("every signed-in screen has no accessibility violations", async ({ page }) => {
  await signInAsAdmin(page);
  for (const path of ["/contacts", "/contacts/upload", "/contacts/groups", "/settings", "/account"]) {
    await page.goto(path);
    await hydrated(page);
    expect(await violations(page), path).toEqual([]);
  }
  await page.goto("/contacts");
  await hydrated(page);
  await page.getByRole("button", { name: "Create Contact", exact: true }).click();
  await expect(page.getByRole("dialog", { name: "Create contact" })).toBeVisible();
  expect(await violations(page), "the Create Contact dialog").toEqual([]);
});
