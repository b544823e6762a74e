import { expect, test } from "./fixtures";
import { readFile } from "node:fs/promises";
import { signInAsAdmin, hydrated } from "./pages/accounts";
import { ContactsPage, uniqueMobile, uniqueName } from "./pages/contacts";

test("a contact is created through all three tabs, edited, found, exported and deleted", async ({ page }) => {
  await signInAsAdmin(page);
  const contacts = new ContactsPage(page);
  const first = uniqueName("Ann");
  const mobile = uniqueMobile();

  const dialog = await contacts.openCreate();
  await dialog.getByLabel("First name").fill(first);
  await dialog.getByLabel("Last name").fill("Tester");
  await dialog.getByLabel("Mobile number").fill(mobile.typed);
  await dialog.getByLabel("Email").fill(`${first.toLowerCase()}@example.com`);
  await contacts.tab(dialog, "Channels");
  await expect(dialog.getByTestId("sms-number")).toHaveText(mobile.typed);
  await dialog.getByLabel("LINE user id").fill(`line-${first}`);
  await contacts.tab(dialog, "Additional information");
  await dialog.getByRole("button", { name: "+ Add field" }).click();
  await dialog.getByLabel("Field 1 name").fill("Plan");
  await dialog.getByLabel("Field 1 value").fill("Gold");
  await dialog.getByRole("button", { name: "+ Add field" }).click();
  await dialog.getByLabel("Field 2 name").fill("Source");
  await dialog.getByLabel("Field 2 value").fill("Trade fair");
  // Switching tabs keeps what was typed.
  await contacts.tab(dialog, "Basic information");
  await expect(dialog.getByLabel("First name")).toHaveValue(first);
  await dialog.getByRole("button", { name: "Create contact" }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByRole("status")).toContainText("Contact created");

  const row = contacts.row(first);
  await expect(row).toContainText(`${first} Tester`);
  await expect(row).toContainText(mobile.display);

  // Edit: the same dialog, filled in, including the custom fields.
  await row.getByRole("button", { name: `${first} Tester` }).click();
  const edit = page.getByRole("dialog", { name: "Edit contact" });
  await expect(edit.getByLabel("Mobile number")).toHaveValue(mobile.display);
  await contacts.tab(edit, "Additional information");
  await expect(edit.getByLabel("Field 2 value")).toHaveValue("Trade fair");
  await contacts.tab(edit, "Basic information");
  await edit.getByLabel("Last name").fill("Edited");
  await edit.getByRole("button", { name: "Save changes" }).click();
  await expect(edit).toBeHidden();
  await expect(contacts.row(first)).toContainText(`${first} Edited`);

  // Search by name prefix, and by the local digits of the number; the URL keeps it.
  await contacts.searchFor(first.slice(0, first.length - 1));
  await expect(page.getByRole("row")).toHaveCount(2);
  await contacts.searchFor(mobile.e164.slice(3, 8));
  await expect(contacts.row(first)).toBeVisible();
  await page.reload();
  await hydrated(page);
  await expect(contacts.search()).toHaveValue(mobile.e164.slice(3, 8));
  await expect(contacts.row(first)).toBeVisible();

  // With nothing selected, Export CSV takes everything matching the search, not everyone.
  const digits = mobile.e164.slice(3, 8);
  const downloadingAll = page.waitForEvent("download");
  await (await contacts.actionItems()).getByRole("menuitem", { name: /Export CSV \(all/ }).click();
  const matching = (await readFile(await (await downloadingAll).path(), "utf8")).trim().split("\n").slice(1);
  expect(matching.length).toBeGreaterThan(0);
  for (const line of matching) expect(line).toContain(`'+65${digits}`);

  // Export the selection.
  await contacts.row(first).getByRole("checkbox").check();
  const menu = await contacts.actionItems();
  const downloading = page.waitForEvent("download");
  await menu.getByRole("menuitem", { name: /Export CSV/ }).click();
  const download = await downloading;
  const csv = await readFile(await download.path(), "utf8");
  expect(csv.charCodeAt(0)).toBe(0xfeff);
  expect(csv).toContain(`${first},Edited,'${mobile.e164}`);
  expect(csv).toContain("Plan");
  expect(csv.trim().split("\n")).toHaveLength(2);

  // The same selection as an Excel workbook (its cells are checked by the API tests).
  const downloadingXlsx = page.waitForEvent("download");
  await (await contacts.actionItems()).getByRole("menuitem", { name: "Export Excel (1 contact)" }).click();
  const xlsx = await downloadingXlsx;
  expect(xlsx.suggestedFilename()).toMatch(/^contacts-.*\.xlsx$/);
  expect((await readFile(await xlsx.path())).subarray(0, 4).toString("latin1")).toBe("PK\x03\x04");

  // Delete, with a confirmation that states the count.
  await contacts.row(first).getByRole("checkbox").check();
  await (await contacts.actionItems()).getByRole("menuitem", { name: "Delete" }).click();
  const confirm = page.getByRole("dialog", { name: "Delete 1 contact?" });
  await confirm.getByRole("button", { name: "Delete" }).click();
  await expect(page.getByRole("status")).toContainText("1 contact deleted");
  await expect(contacts.row(first)).toHaveCount(0);
  await expect(page.getByRole("heading", { name: "No matching contacts" })).toBeVisible();
});

test("a validation error on the Channels tab marks that tab", async ({ page }) => {
  await signInAsAdmin(page);
  const contacts = new ContactsPage(page);
  await contacts.goto();
  const dialog = await contacts.openCreate();
  await dialog.getByLabel("First name").fill(uniqueName("Bad"));
  await dialog.getByLabel("Mobile number").fill(uniqueMobile().typed);
  await contacts.tab(dialog, "Channels");
  await dialog.getByLabel("WhatsApp").fill("12");
  await contacts.tab(dialog, "Basic information");
  await dialog.getByRole("button", { name: "Create contact" }).click();

  const channels = dialog.getByRole("tab", { name: /Channels/ });
  await expect(channels).toHaveAttribute("data-has-error", "true");
  await expect(channels).toHaveAccessibleName(/has errors/);
  await expect(channels).toHaveAttribute("aria-selected", "true");
  await expect(dialog.getByText("Number too short for SG.")).toBeVisible();
  await expect(dialog.getByRole("tab", { name: "Basic information" })).toHaveAttribute("data-has-error", "false");

  // Esc closes the dialog without saving.
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();
});

test("a duplicate number names the contact who has it", async ({ page }) => {
  await signInAsAdmin(page);
  const contacts = new ContactsPage(page);
  await contacts.goto();
  const mobile = uniqueMobile();
  const owner = uniqueName("Owner");
  let dialog = await contacts.openCreate();
  await dialog.getByLabel("First name").fill(owner);
  await dialog.getByLabel("Mobile number").fill(mobile.typed);
  await dialog.getByRole("button", { name: "Create contact" }).click();
  await expect(dialog).toBeHidden();

  dialog = await contacts.openCreate();
  await dialog.getByLabel("First name").fill(uniqueName("Copy"));
  await dialog.getByLabel("Mobile number").fill(mobile.e164);
  await dialog.getByRole("button", { name: "Create contact" }).click();
  await expect(dialog.getByText(`This number already belongs to ${owner}.`)).toBeVisible();
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(dialog).toBeHidden();
});

test("deleting from the edit dialog asks first", async ({ page }) => {
  await signInAsAdmin(page);
  const contacts = new ContactsPage(page);
  const first = uniqueName("Gone");
  const dialog = await contacts.openCreate();
  await dialog.getByLabel("First name").fill(first);
  await dialog.getByLabel("Email").fill(`${first.toLowerCase()}@example.com`);
  await dialog.getByRole("button", { name: "Create contact" }).click();
  await expect(dialog).toBeHidden();

  await contacts.row(first).getByRole("button", { name: first }).click();
  const edit = page.getByRole("dialog", { name: "Edit contact" });
  await edit.getByRole("button", { name: "Delete…" }).click();
  await expect(edit.getByRole("alert")).toContainText("Delete this contact?");
  await edit.getByRole("button", { name: "Keep" }).click();
  await expect(contacts.row(first)).toHaveCount(1);
  await edit.getByRole("button", { name: "Delete…" }).click();
  await edit.getByRole("button", { name: "Delete contact" }).click();
  await expect(edit).toBeHidden();
  await expect(contacts.row(first)).toHaveCount(0);
});
