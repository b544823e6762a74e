import { expect, test } from "./fixtures";
import {
  AccountPage,
  OWN_PASSWORD,
  SettingsPage,
  SignInPage,
  hydrated,
  signInAsAdmin,
  signInAsNewUser,
  uniqueEmail,
} from "./pages/accounts";

test("changing your password ends your other sessions, not this one", async ({ page, browser }) => {
  await signInAsAdmin(page);
  const settings = new SettingsPage(page);
  await settings.goto();
  const email = uniqueEmail("changer");
  await settings.addUser(email, "changer temp pass", "Editor");
  const first = await signInAsNewUser(browser, email, "changer temp pass");

  // The same person signed in on a second computer.
  const second = await (await browser.newContext()).newPage();
  const signIn = new SignInPage(second);
  await signIn.goto();
  await signIn.signIn(email, OWN_PASSWORD);
  await expect(second).toHaveURL(/\/contacts$/);

  const account = new AccountPage(first);
  await account.goto();
  await account.changePassword("not my password", "a newer password 2");
  await expect(first.getByText("That is not your current password.")).toBeVisible();
  await account.changePassword(OWN_PASSWORD, "a newer password 2");
  await expect(first.getByRole("status")).toContainText("Password changed");

  await second.reload();
  await expect(second).toHaveURL(/\/login$/);
  await first.goto("/contacts");
  await expect(first).toHaveURL(/\/contacts$/);
  await first.context().close();
  await second.context().close();
});

test("an admin removes a user, whose session ends at once", async ({ page, browser }) => {
  await signInAsAdmin(page);
  const settings = new SettingsPage(page);
  await settings.goto();
  const email = uniqueEmail("leaver");
  await settings.addUser(email, "leaver temp pass", "Viewer");
  const leaver = await signInAsNewUser(browser, email, "leaver temp pass");

  await settings.goto();
  const row = page.getByRole("row").filter({ hasText: email });
  await row.getByRole("button", { name: "Remove" }).click();
  const confirm = page.getByRole("dialog", { name: `Remove ${email}?` });
  await confirm.getByRole("button", { name: "Remove user" }).click();
  await expect(page.getByRole("status")).toContainText("User removed");
  await expect(page.getByRole("cell", { name: email, exact: true })).toHaveCount(0);

  await leaver.reload();
  await expect(leaver).toHaveURL(/\/login$/);
  await leaver.context().close();
});

test("sign out everywhere ends every session of the user", async ({ browser }) => {
  // Four sign-ins in three browsers, each waiting for its page to hydrate.
  test.slow();
  const admin = await (await browser.newContext()).newPage();
  await signInAsAdmin(admin);
  const settings = new SettingsPage(admin);
  await settings.goto();
  const email = uniqueEmail("traveller");
  await settings.addUser(email, "traveller temp pass", "Editor");
  const here = await signInAsNewUser(browser, email, "traveller temp pass");
  const there = await (await browser.newContext()).newPage();
  const signIn = new SignInPage(there);
  await signIn.goto();
  await signIn.signIn(email, OWN_PASSWORD);
  await expect(there).toHaveURL(/\/contacts$/);

  await new AccountPage(here).goto();
  await here.getByRole("button", { name: "Sign out everywhere" }).click();
  await expect(here).toHaveURL(/\/login$/);
  await there.reload();
  await expect(there).toHaveURL(/\/login$/);
  await hydrated(there);
  for (const p of [admin, here, there]) await p.context().close();
});
