import { expect, test } from "./fixtures";
import { signInAsAdmin } from "./pages/accounts";
import { accessibilityViolations as violations } from "./pages/axe";
import { ContactsPage, uniqueName } from "./pages/contacts";

test("a contact opted out of SMS in the dialog shows the badge, the filter finds it, and its History tells", async ({
  page,
}) => {
  await signInAsAdmin(page);
  const contacts = new ContactsPage(page);
  await contacts.goto();
  const first = uniqueName("Opt");
  await contacts.create(first);

  await contacts.row(first).getByRole("button", { name: first }).click();
  const edit = page.getByRole("dialog", { name: "Edit contact" });
  await contacts.tab(edit, "Channels");
  const sms = edit.getByTestId("opt-out-sms");
  await expect(sms).toContainText("Receives messages");
  await sms.getByLabel("Why opt out of SMS").selectOption({ label: "Complaint" });
  await sms.getByRole("button", { name: "Opt out of SMS" }).click();
  await expect(sms).toContainText("Opted out");
  await expect(sms).toContainText("Complaint");
  await expect(sms.getByRole("button", { name: "Opt back into SMS" })).toBeVisible();

  // The History tab lists the change first, then the creation, with who and how.
  await contacts.tab(edit, "History");
  const entries = edit.getByTestId("history-entry");
  await expect(entries.first()).toContainText("Opted out of SMS (Complaint)");
  await expect(entries.first()).toContainText("in the app");
  await expect(entries.last()).toContainText("Created");
  expect(await violations(page), "the Edit contact dialog's History tab").toEqual([]);
  await page.keyboard.press("Escape");
  await expect(edit).toBeHidden();

  // The table shows a badge per opted-out channel, and filters by it.
  await expect(contacts.row(first).getByLabel("Opted out of SMS")).toBeVisible();
  await contacts.searchFor(first);
  await page.getByLabel("Opted out of", { exact: true }).selectOption({ label: "SMS" });
  await expect(page).toHaveURL(/optedOut=sms/);
  await expect(contacts.row(first)).toBeVisible();
  await page.getByLabel("Opted out of", { exact: true }).selectOption({ label: "Email" });
  await expect(page).toHaveURL(/optedOut=email/);
  await expect(page.getByRole("heading", { name: "No matching contacts" })).toBeVisible();

  // Opting back in takes the badge away.
  await page.getByLabel("Opted out of", { exact: true }).selectOption({ label: "Any channel or none" });
  await contacts.row(first).getByRole("button", { name: first }).click();
  await contacts.tab(edit, "Channels");
  await sms.getByRole("button", { name: "Opt back into SMS" }).click();
  await expect(sms).toContainText("Receives messages");
  await page.keyboard.press("Escape");
  await expect(contacts.row(first).getByLabel("Opted out of SMS")).toHaveCount(0);
});

test("an admin erases a person from the Edit contact dialog, after confirming", async ({ page }) => {
  await signInAsAdmin(page);
  const contacts = new ContactsPage(page);
  await contacts.goto();
  const first = uniqueName("Erase");
  await contacts.create(first);

  await contacts.row(first).getByRole("button", { name: first }).click();
  const edit = page.getByRole("dialog", { name: "Edit contact" });
  await edit.getByRole("button", { name: "Erase person…" }).click();
  await expect(edit.getByRole("alert")).toContainText("Erase this person?");
  await edit.getByRole("button", { name: "Erase person", exact: true }).click();
  await expect(edit).toBeHidden();
  await expect(page.getByRole("status")).toContainText("Contact erased");
  await expect(contacts.row(first)).toHaveCount(0);
});
