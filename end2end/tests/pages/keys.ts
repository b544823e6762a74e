import { expect, type Page } from "@playwright/test";
import { hydrated } from "./accounts";

/** Settings → API keys. */
export class ApiKeysSection {
  constructor(private readonly page: Page) {}

  async goto() {
    await this.page.goto("/settings");
    await hydrated(this.page);
  }

  /** Creates a key and returns its secret, read from where it is shown (once). */
  async create(name: string, role: "Editor" | "Viewer"): Promise<string> {
    await this.page.getByLabel("Key name").fill(name);
    await this.page.getByLabel("Key role").selectOption({ label: role });
    await this.page.getByRole("button", { name: "Create key" }).click();
    const shown = this.page.getByTestId("new-api-key");
    await expect(shown).toContainText("Copy the key now");
    return await shown.getByLabel("The new key").inputValue();
  }

  row(name: string) {
    return this.page.getByTestId("api-key-row").filter({ hasText: name });
  }

  async revoke(name: string) {
    await this.row(name).getByRole("button", { name: `Revoke ${name}` }).click();
    await this.page.getByRole("dialog").getByRole("button", { name: "Revoke key" }).click();
    await expect(this.page.getByRole("status").filter({ hasText: "Key revoked" })).toBeVisible();
  }
}

/** Calls the API from the page, as an integration would, with a key. */
export async function callApi(page: Page, key: string, path: string): Promise<number> {
  return await page.evaluate(
    async ([key, path]) => (await fetch(path, { headers: { Authorization: `Bearer ${key}` } })).status,
    [key, path],
  );
}
