import { expect, test } from "./fixtures";
import { ADMIN, SetupPage, Shell, hydrated } from "./pages/accounts";
import { accessibilityViolations } from "./pages/axe";

test("a fresh install creates its workspace and signs the admin in", async ({ page }) => {
  await page.goto("/contacts");
  await expect(page).toHaveURL(/\/setup$/);
  await expect(page.getByRole("heading", { name: "Create workspace" })).toBeVisible();
  await hydrated(page);
  expect(await accessibilityViolations(page)).toEqual([]);

  const setup = new SetupPage(page);
  // A too-short password is refused next to its field.
  await setup.create(ADMIN.workspace, "SG", ADMIN.email, "short");
  await expect(page).toHaveURL(/\/setup$/);

  await setup.goto();
  await setup.create(ADMIN.workspace, "SG", ADMIN.email, ADMIN.password);
  await expect(page).toHaveURL(/\/contacts$/);
  const shell = new Shell(page);
  await expect(shell.signedInUser()).toHaveText(ADMIN.email);
  await expect(page.getByTestId("workspace-name")).toHaveText(ADMIN.workspace);
  await expect(shell.nav().getByRole("link", { name: "Settings" })).toBeVisible();

  // Sign-up is closed from now on.
  await page.goto("/setup");
  await expect(page).toHaveURL(/\/contacts$/);
});
