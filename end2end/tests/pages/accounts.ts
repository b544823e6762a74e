import { expect, type Browser, type Page } from "@playwright/test";

/** The admin created by create-workspace.spec.ts on the fresh database of each run. */
export const ADMIN = {
  email: "admin@e2e.test",
  password: "e2e admin password",
  workspace: "E2E Trading",
};

/** Waits until the WASM has taken over the server-rendered page (it marks <body>). */
export async function hydrated(page: Page) {
  await page.locator("body[data-hydrated]").waitFor();
}

/** An address no other test uses. */
export function uniqueEmail(prefix: string): string {
  return `${prefix}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@e2e.test`;
}

/** The "Create workspace" page. */
export class SetupPage {
  constructor(private readonly page: Page) {}

  async goto() {
    await this.page.goto("/setup");
    await hydrated(this.page);
  }

  async create(workspace: string, country: string, email: string, password: string) {
    await this.page.getByLabel("Workspace name").fill(workspace);
    await this.page.getByLabel("Default country").selectOption(country);
    await this.page.getByLabel("Your email").fill(email);
    await this.page.getByLabel("Password").fill(password);
    await this.page.getByRole("button", { name: "Create workspace" }).click();
  }
}

/** The sign-in page. */
export class SignInPage {
  constructor(private readonly page: Page) {}

  async goto() {
    await this.page.goto("/login");
    await expect(this.page.getByRole("heading", { name: "Sign in to Contacts" })).toBeVisible();
    await hydrated(this.page);
  }

  async signIn(email: string, password: string) {
    await this.page.getByLabel("Email").fill(email);
    await this.page.getByLabel("Password").fill(password);
    await this.page.getByRole("button", { name: "Sign in" }).click();
  }

  alert() {
    return this.page.getByRole("alert");
  }
}

/** The frame of signed-in pages: navigation and account. */
export class Shell {
  constructor(private readonly page: Page) {}

  nav() {
    return this.page.getByRole("navigation", { name: "Main" });
  }

  signedInUser() {
    return this.page.getByTestId("signed-in-user");
  }

  async signOut() {
    await this.nav().getByRole("button", { name: "Sign out" }).click();
    await expect(this.page).toHaveURL(/\/login$/);
  }
}

/** Settings → Users. */
export class SettingsPage {
  constructor(private readonly page: Page) {}

  async goto() {
    await this.page.goto("/settings");
    await hydrated(this.page);
  }

  async addUser(email: string, password: string, role: "Admin" | "Editor" | "Viewer") {
    await this.page.getByLabel("Email").fill(email);
    await this.page.getByLabel("Temporary password").fill(password);
    await this.page.getByLabel("Role", { exact: true }).selectOption({ label: role });
    await this.page.getByRole("button", { name: "Add user" }).click();
    await expect(this.page.getByRole("status")).toContainText(`Added ${email}`);
  }
}

/** Account: change your password, sign out everywhere. */
export class AccountPage {
  constructor(private readonly page: Page) {}

  async goto() {
    await this.page.goto("/account");
    await hydrated(this.page);
  }

  async changePassword(current: string, next: string) {
    await this.page.getByLabel("Current password").fill(current);
    await this.page.getByLabel("New password").fill(next);
    await this.page.getByRole("button", { name: "Change password" }).click();
  }
}

/** What users added in these tests choose at their first sign-in. */
export const OWN_PASSWORD = "my own password 1";

/**
 * Signs a user an admin added in, in a browser context of their own: the first sign-in
 * leads to choosing their own password, then to the contacts. Returns their page.
 */
export async function signInAsNewUser(browser: Browser, email: string, temporary: string): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const signIn = new SignInPage(page);
  await signIn.goto();
  await signIn.signIn(email, temporary);
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByTestId("password-notice")).toBeVisible();
  await hydrated(page);
  await new AccountPage(page).changePassword(temporary, OWN_PASSWORD);
  await expect(page).toHaveURL(/\/contacts$/);
  await hydrated(page);
  return page;
}

/** Signs in as the admin and waits for the contacts page. */
export async function signInAsAdmin(page: Page) {
  const signIn = new SignInPage(page);
  await signIn.goto();
  await signIn.signIn(ADMIN.email, ADMIN.password);
  await expect(page).toHaveURL(/\/contacts$/);
  await hydrated(page);
}
