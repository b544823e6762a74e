import { expect, test } from "./fixtures";
import { signInAsAdmin } from "./pages/accounts";
import { ApiKeysSection, callApi } from "./pages/keys";

test("an admin creates a key, sees it once, uses it, and revokes it", async ({ page }) => {
  await signInAsAdmin(page);
  const keys = new ApiKeysSection(page);
  await keys.goto();
  const name = `Shop ${Date.now()}`;
  const secret = await keys.create(name, "Editor");
  expect(secret).toMatch(/^ck_[A-Za-z0-9]{40}$/);
  await expect(keys.row(name)).toContainText(secret.slice(0, 11));
  await expect(keys.row(name)).toContainText("Never");

  // The key works with fetch, as an integration's requests would.
  expect(await callApi(page, secret, "/api/v1/contacts?limit=1")).toBe(200);
  expect(await callApi(page, "ck_" + "x".repeat(40), "/api/v1/contacts")).toBe(401);

  // Shown once: after a reload only its first characters are.
  await keys.goto();
  await expect(page.getByTestId("new-api-key")).toHaveCount(0);
  await expect(page.getByText(secret)).toHaveCount(0);
  await expect(keys.row(name)).not.toContainText("Never");

  await keys.revoke(name);
  await expect(keys.row(name)).toContainText("Revoked");
  expect(await callApi(page, secret, "/api/v1/contacts?limit=1")).toBe(401);
});

test("the API reference is served by the app itself", async ({ page }) => {
  await page.goto("/api/docs");
  await expect(page.getByRole("heading", { name: "Contacts API reference" })).toBeVisible();
  await expect(page.getByRole("heading", { name: /POST \/api\/v1\/contacts$/ })).toBeVisible();
  await page.getByRole("link", { name: "ContactWrite" }).first().click();
  await expect(page.getByRole("heading", { name: "ContactWrite", exact: true })).toBeInViewport();
});
