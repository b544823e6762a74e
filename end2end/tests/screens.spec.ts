import { expect, test } from "./fixtures";
import { hydrated, signInAsAdmin } from "./pages/accounts";

/**
 * Every screen, loaded from its own address, takes over its server-rendered page and
 * reacts to a click; the fixture fails the test on any uncaught error or hydration error
 * along the way. This is what catches a release bundle that downloads but never starts.
 */
test("every screen hydrates from its own address and reacts", async ({ page }) => {
  await page.goto("/login");
  await hydrated(page);

  await signInAsAdmin(page);
  const tabs = page.getByRole("navigation", { name: "Contact sections" });
  const contactTabs: [string, string][] = [
    ["/contacts", "Contacts"],
    ["/contacts/upload", "Upload contacts"],
    ["/contacts/groups", "Contact Groups"],
  ];
  for (const [path, tab] of contactTabs) {
    await page.goto(path);
    await hydrated(page);
    await expect(tabs.getByRole("link", { name: tab, exact: true })).toHaveAttribute("aria-current", "page");
  }
  await page.goto("/settings");
  await hydrated(page);
  await expect(page.getByRole("heading", { name: "Settings", exact: true })).toBeVisible();

  // A control that only the WASM makes work: the Create Contact dialog.
  await page.goto("/contacts");
  await hydrated(page);
  await page.getByRole("button", { name: "Create Contact", exact: true }).click();
  const dialog = page.getByRole("dialog", { name: "Create contact" });
  await expect(dialog).toBeVisible();
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();
});
