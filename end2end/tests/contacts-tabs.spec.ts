import { expect, test } from "./fixtures";
import { signInAsAdmin, hydrated } from "./pages/accounts";

test("each Contacts tab has its own address that survives reload and back", async ({ page }) => {
  await signInAsAdmin(page);
  const tabs = page.getByRole("navigation", { name: "Contact sections" });

  await tabs.getByRole("link", { name: "Upload contacts" }).click();
  await expect(page).toHaveURL(/\/contacts\/upload$/);
  await expect(page.getByRole("heading", { name: "Upload contacts", exact: true })).toBeVisible();

  await tabs.getByRole("link", { name: "Contact Groups" }).click();
  await expect(page).toHaveURL(/\/contacts\/groups$/);
  await page.reload();
  await hydrated(page);
  await expect(tabs.getByRole("link", { name: "Contact Groups" })).toHaveAttribute("aria-current", "page");

  await page.goBack();
  await hydrated(page);
  await expect(page).toHaveURL(/\/contacts\/upload$/);
  await expect(tabs.getByRole("link", { name: "Upload contacts" })).toHaveAttribute("aria-current", "page");
});
