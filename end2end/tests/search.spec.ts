import { expect, test } from "./fixtures";
import { signInAsAdmin } from "./pages/accounts";
import { ContactsPage } from "./pages/contacts";

test("typing a search sends one request once typing pauses", async ({ page }) => {
  await signInAsAdmin(page);
  const contacts = new ContactsPage(page);
  await contacts.goto();
  const searches: string[] = [];
  page.on("request", (request) => {
    if (request.url().endsWith("/api/list_contacts")) searches.push(request.postData() ?? "");
  });
  await contacts.search().pressSequentially("tan", { delay: 40 });
  await expect(page).toHaveURL(/[?&]q=tan/);
  await page.waitForTimeout(500);
  expect(searches.length, searches.join("\n")).toBe(1);
  expect(searches[0]).toContain('"search":"tan"');
});
