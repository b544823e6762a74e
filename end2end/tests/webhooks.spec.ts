import { expect, test } from "./fixtures";
import { hydrated, signInAsAdmin } from "./pages/accounts";
import { accessibilityViolations as violations } from "./pages/axe";
import { ContactsPage, uniqueName } from "./pages/contacts";

test("an admin adds a webhook endpoint, sees its secret once and its deliveries, and deletes it", async ({
  page,
}) => {
  await signInAsAdmin(page);
  await page.goto("/settings");
  await hydrated(page);
  const url = page.getByLabel("Endpoint URL");
  const add = page.getByRole("button", { name: "Add endpoint" });

  // An address inside the network is refused, with the reason, at the field.
  await url.fill("http://127.0.0.1:9000/hooks");
  await add.click();
  await expect(page.getByText(/inside a private network/)).toBeVisible();
  await expect(url).toHaveAttribute("aria-invalid", "true");

  // A public one is added (this machine cannot reach it: deliveries wait to be retried).
  const endpoint = `https://93.184.216.34/hooks/${Date.now()}`;
  await url.fill(endpoint);
  await page.getByLabel(/An upload finishes/).uncheck();
  await add.click();
  const shown = page.getByTestId("new-webhook-secret");
  await expect(shown).toContainText("it is not shown again");
  expect(await shown.getByLabel("Signing secret").inputValue()).toMatch(/^whsec_[A-Za-z0-9+/=]{40,}$/);
  const row = page.getByTestId("webhook-row").filter({ hasText: endpoint });
  await expect(row).toContainText("contact.created");
  await expect(row).not.toContainText("import.completed");
  expect(await violations(page), "Settings with a webhook endpoint").toEqual([]);

  // A change is in its delivery log.
  const contacts = new ContactsPage(page);
  await contacts.goto();
  await contacts.create(uniqueName("Hook"));
  await page.goto("/settings");
  await hydrated(page);
  await expect(page.getByTestId("new-webhook-secret")).toHaveCount(0);
  await row.getByRole("button", { name: `Deliveries to ${endpoint}` }).click();
  const log = page.getByTestId("delivery-log");
  await expect(log.getByTestId("delivery-row").filter({ hasText: "contact.created" }).first()).toBeVisible();

  await row.getByRole("button", { name: `Delete ${endpoint}` }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Delete endpoint" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Endpoint deleted" })).toBeVisible();
  await expect(row).toHaveCount(0);
});
