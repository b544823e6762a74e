import { expect, test } from "./fixtures";
import type { Page } from "@playwright/test";
import { signInAsAdmin } from "./pages/accounts";
import { ContactsPage, uniqueMobile, uniqueName } from "./pages/contacts";
import { GroupsPage } from "./pages/groups";

/** Creates contacts sharing a name prefix; returns their names. */
async function createContacts(page: Page, prefix: string, n: number): Promise<string[]> {
  const contacts = new ContactsPage(page);
  const names = [];
  for (let i = 0; i < n; i++) {
    const name = `${prefix}${i}`;
    const dialog = await contacts.openCreate();
    await dialog.getByLabel("First name").fill(name);
    await dialog.getByLabel("Mobile number").fill(uniqueMobile().typed);
    await dialog.getByRole("button", { name: "Create contact" }).click();
    await expect(dialog).toBeHidden();
    names.push(name);
  }
  return names;
}

test("a blacklisted group marks its members, and un-marking frees them", async ({ page }) => {
  await signInAsAdmin(page);
  const prefix = uniqueName("Bl");
  const group = uniqueName("Unsub");
  const groups = new GroupsPage(page);
  await groups.goto();
  await groups.create(group, "People who asked us to stop");
  await expect(groups.row(group)).toContainText("People who asked us to stop");
  await expect(groups.row(group)).toContainText("0 contacts");

  const contacts = new ContactsPage(page);
  await contacts.goto();
  const names = await createContacts(page, prefix, 3);
  await contacts.searchFor(prefix);
  await expect(page.getByRole("row")).toHaveCount(4);
  for (const name of names) {
    await contacts.row(name).getByRole("checkbox").check();
  }
  await (await contacts.actionItems()).getByRole("menuitem", { name: "Add to Groups" }).click();
  const add = page.getByRole("dialog", { name: "Add to groups" });
  await add.getByLabel("Group name").fill(group);
  await add.getByRole("checkbox", { name: new RegExp(group) }).check();
  await add.getByRole("button", { name: "Confirm" }).click();
  await expect(page.getByRole("status")).toContainText(`3 contacts added to ${group}`);
  for (const name of names) {
    await expect(contacts.row(name)).toContainText(group);
    await expect(contacts.row(name).getByText("Blacklisted")).toHaveCount(0);
  }

  await groups.goto();
  await expect(groups.row(group)).toContainText("3 contacts");
  await groups.setBlacklisted(group, true);
  await expect(groups.row(group).getByText("Blacklisted")).toBeVisible();

  await contacts.goto();
  await contacts.searchFor(prefix);
  for (const name of names) {
    const badge = contacts.row(name).getByLabel(`Blacklisted by: ${group}`);
    await expect(badge).toBeVisible();
  }

  await groups.goto();
  await groups.setBlacklisted(group, false);
  await contacts.goto();
  await contacts.searchFor(prefix);
  await expect(page.getByRole("row")).toHaveCount(4);
  for (const name of names) {
    await expect(contacts.row(name).getByLabel(/Blacklisted by/)).toHaveCount(0);
  }

  // The member count leads to the contacts of the group.
  await groups.goto();
  await groups.row(group).getByRole("link", { name: new RegExp(`3 contacts in ${group}`) }).click();
  await expect(page).toHaveURL(/\/contacts\?group=\d+/);
  await expect(page.getByTestId("match-count")).toHaveText("3 contacts");
});

test("Add to Groups creates a new group from the typed name", async ({ page }) => {
  await signInAsAdmin(page);
  const contacts = new ContactsPage(page);
  await contacts.goto();
  const prefix = uniqueName("Nw");
  const [name] = await createContacts(page, prefix, 1);
  const group = uniqueName("Fair");
  await contacts.row(name).getByRole("checkbox").check();
  await (await contacts.actionItems()).getByRole("menuitem", { name: "Add to Groups" }).click();
  const add = page.getByRole("dialog", { name: "Add to groups" });
  await add.getByLabel("Group name").fill(group);
  await add.getByRole("button", { name: `Create group "${group}"` }).click();
  await expect(add.getByRole("listitem").filter({ hasText: `${group} (new)` })).toBeVisible();
  await add.getByRole("button", { name: "Confirm" }).click();
  await expect(page.getByRole("status")).toContainText(`1 contact added to ${group}`);
  await expect(contacts.row(name)).toContainText(group);

  const groups = new GroupsPage(page);
  await groups.goto();
  await expect(groups.row(group)).toContainText("1 contact");

  // Deleting the group keeps its contact.
  await page.getByRole("button", { name: `Delete ${group}` }).click();
  const confirm = page.getByRole("dialog", { name: `Delete group "${group}"?` });
  await expect(confirm).toContainText("It holds 1 contact. They are kept");
  await confirm.getByRole("button", { name: "Delete group" }).click();
  await expect(groups.row(group)).toHaveCount(0);
  await contacts.goto();
  await contacts.searchFor(prefix);
  await expect(contacts.row(name)).toBeVisible();
});

test("a duplicate group name is refused with a clear message", async ({ page }) => {
  await signInAsAdmin(page);
  const groups = new GroupsPage(page);
  await groups.goto();
  const group = uniqueName("Dup");
  await groups.create(group, "");
  await page.getByRole("button", { name: "Create group" }).click();
  const dialog = page.getByRole("dialog", { name: "Create group" });
  await dialog.getByLabel("Name").fill(group.toUpperCase());
  await dialog.getByRole("button", { name: "Create group" }).click();
  await expect(dialog.getByRole("alert")).toHaveText(`A group named "${group.toUpperCase()}" already exists.`);
});
