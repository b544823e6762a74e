import { expect, test } from "./fixtures";
import { hydrated, signInAsAdmin } from "./pages/accounts";
import { ContactsPage, uniqueName } from "./pages/contacts";
import { dropFile } from "./pages/upload";

test("past 10,000 matches the count says 10,000+, and counts them all when asked", async ({ page }) => {
  test.setTimeout(120_000);
  await signInAsAdmin(page);
  await page.goto("/contacts/upload");
  await hydrated(page);
  const tag = uniqueName("Many");
  const fileName = `${tag}.csv`;
  // 10,001 numbers from 9x xxxxxx (other tests make 8x xxxxxx), in a block of their own.
  const first = 90_000_000 + Math.floor(Math.random() * 80) * 100_000;
  const rows = ["Name,Phone"];
  for (let i = 0; i <= 10_000; i++) rows.push(`${tag}${i},${first + i}`);
  await dropFile(page, fileName, rows.join("\n") + "\n");
  await page.getByLabel("Column 1: Name").selectOption("first_name");
  await page.getByLabel("Column 2: Phone").selectOption("Mobile number");
  await page.getByRole("button", { name: "Start processing" }).click();
  const upload = page.getByTestId("upload-row").filter({ hasText: fileName });
  await expect(upload).toHaveAttribute("data-status", "Completed", { timeout: 60_000 });
  await expect(upload.getByTestId("created")).toHaveText("10001");

  const contacts = new ContactsPage(page);
  await contacts.goto();
  await contacts.searchFor(tag);
  const count = page.getByTestId("match-count");
  await expect(count).toHaveText("10,000+ contacts");
  await page.getByRole("button", { name: "Count all" }).click();
  await expect(count).toHaveText("10,001 contacts");
  await expect(page.getByRole("button", { name: "Count all" })).toHaveCount(0);

  // A narrower search counts exactly again; selecting all that match counts them all.
  await contacts.searchFor(`${tag}1000`);
  await expect(count).toHaveText("2 contacts"); // …1000 and …10000
  await contacts.searchFor(tag);
  await expect(count).toHaveText("10,000+ contacts");
  await page.getByRole("checkbox", { name: "Select all on this page" }).check();
  await page.getByRole("button", { name: "Select all 10,000+ matching" }).click();
  await expect(page.getByText("All 10,001 contacts matching are selected.")).toBeVisible();

  // Leave the workspace as it was for the other tests.
  await page.goto("/contacts/upload");
  await hydrated(page);
  await upload.getByRole("button", { name: "Undo…" }).click();
  await upload.getByRole("button", { name: "Undo upload" }).click();
  await expect(upload.getByTestId("undo-status")).toContainText("10001 removed", { timeout: 60_000 });
});
