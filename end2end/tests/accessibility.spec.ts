import { expect, test } from "./fixtures";
import { hydrated, signInAsAdmin } from "./pages/accounts";
import { accessibilityViolations as violations } from "./pages/axe";

// The "Create workspace" screen is checked where it exists, in create-workspace.spec.ts.

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
