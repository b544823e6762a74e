import { expect, test } from "./fixtures";
import { ADMIN, Shell, SignInPage, signInAsAdmin } from "./pages/accounts";

test("signing out and in again", async ({ page }) => {
  await signInAsAdmin(page);
  const shell = new Shell(page);
  await shell.signOut();
  await page.goto("/contacts");
  await expect(page).toHaveURL(/\/login$/);

  const signIn = new SignInPage(page);
  await signIn.signIn(ADMIN.email, ADMIN.password);
  await expect(page).toHaveURL(/\/contacts$/);
  await expect(shell.signedInUser()).toHaveText(ADMIN.email);
});

test("a wrong password gets a clear message and no session", async ({ page }) => {
  const signIn = new SignInPage(page);
  await signIn.goto();
  await signIn.signIn(ADMIN.email, "not the password at all");
  await expect(signIn.alert()).toHaveText("Wrong email or password.");
  await expect(page).toHaveURL(/\/login$/);

  // An unknown email reads exactly the same.
  await signIn.signIn("nobody-here@e2e.test", "not the password at all");
  await expect(signIn.alert()).toHaveText("Wrong email or password.");
});
