import { expect, type Locator, type Page } from "@playwright/test";
import { hydrated } from "./accounts";

/** The Contact Groups tab. */
export class GroupsPage {
  constructor(private readonly page: Page) {}

  async goto() {
    await this.page.goto("/contacts/groups");
    await hydrated(this.page);
  }

  row(name: string): Locator {
    return this.page.getByRole("row").filter({ has: this.page.getByRole("cell", { name, exact: true }) });
  }

  async create(name: string, description: string) {
    await this.page.getByRole("button", { name: "Create group" }).click();
    const dialog = this.page.getByRole("dialog", { name: "Create group" });
    await dialog.getByLabel("Name").fill(name);
    await dialog.getByLabel("Description (optional)").fill(description);
    await dialog.getByRole("button", { name: "Create group" }).click();
    await expect(dialog).toBeHidden();
  }

  async setBlacklisted(name: string, blacklisted: boolean) {
    await this.page.getByRole("button", { name: `Edit ${name}` }).click();
    const dialog = this.page.getByRole("dialog", { name: "Edit group" });
    await dialog.getByLabel("Blacklisted").setChecked(blacklisted);
    await dialog.getByRole("button", { name: "Save" }).click();
    await expect(dialog).toBeHidden();
  }
}
