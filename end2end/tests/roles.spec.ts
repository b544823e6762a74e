import { expect, test } from "./fixtures";
import { SettingsPage, Shell, signInAsAdmin, signInAsNewUser, uniqueEmail } from "./pages/accounts";

test("an editor added by the admin can sign in", async ({ page, browser }) => {
  await signInAsAdmin(page);
  const settings = new SettingsPage(page);
  await settings.goto();
  const email = uniqueEmail("editor");
  await settings.addUser(email, "editor temp pass", "Editor");
  await expect(page.getByRole("cell", { name: email, exact: true })).toBeVisible();

  const editorPage = await signInAsNewUser(browser, email, "editor temp pass");
  const shell = new Shell(editorPage);
  await expect(shell.signedInUser()).toHaveText(email);
  await expect(shell.nav().getByRole("link", { name: "Settings" })).toHaveCount(0);
  await editorPage.context().close();
});

test("a viewer cannot reach the admin page", async ({ page, browser }) => {
  await signInAsAdmin(page);
  const settings = new SettingsPage(page);
  await settings.goto();
  const email = uniqueEmail("viewer");
  await settings.addUser(email, "viewer temp pass", "Viewer");

  const viewerPage = await signInAsNewUser(browser, email, "viewer temp pass");
  await expect(new Shell(viewerPage).nav().getByRole("link", { name: "Settings" })).toHaveCount(0);

  // The contacts are readable, but there is nothing to create with.
  await expect(viewerPage.getByRole("heading", { name: "Contacts", level: 1 })).toBeVisible();
  await expect(viewerPage.getByRole("button", { name: "Create Contact" })).toHaveCount(0);
  await viewerPage.goto("/contacts/groups");
  await expect(viewerPage.getByRole("searchbox", { name: "Search groups" })).toBeVisible();
  await expect(viewerPage.getByRole("button", { name: "Create group" })).toHaveCount(0);

  await viewerPage.goto("/settings");
  await expect(viewerPage.getByRole("alert")).toHaveText("Only admins can open Settings.");
  await expect(viewerPage.getByRole("button", { name: "Add user" })).toHaveCount(0);
  await viewerPage.context().close();
});
