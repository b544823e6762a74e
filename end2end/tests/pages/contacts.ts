import { expect, type Locator, type Page } from "@playwright/test";
import { hydrated } from "./accounts";

/** A name no other test uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
}

/** A valid Singapore mobile number (81–88 xxxxxx) no other test uses, as typed and shown. */
export function uniqueMobile(): { typed: string; display: string; e164: string } {
  const second = 1 + Math.floor(Math.random() * 8);
  const rest = String((Date.now() * 1000 + Math.floor(Math.random() * 1000)) % 1e6).padStart(6, "0");
  const digits = `8${second}${rest}`;
  return {
    typed: `${digits.slice(0, 4)} ${digits.slice(4)}`,
    display: `+65 ${digits.slice(0, 4)} ${digits.slice(4)}`,
    e164: `+65${digits}`,
  };
}

/** The Contacts tab: toolbar, table, Action items and the contact dialog. */
export class ContactsPage {
  constructor(private readonly page: Page) {}

  async goto() {
    await this.page.goto("/contacts");
    await hydrated(this.page);
  }

  async openCreate(): Promise<Locator> {
    await hydrated(this.page);
    await this.page.getByRole("button", { name: "Create Contact", exact: true }).click();
    const dialog = this.page.getByRole("dialog", { name: "Create contact" });
    await expect(dialog).toBeVisible();
    return dialog;
  }

  /** Creates a contact with this first name and an unused number through the dialog. */
  async create(first: string) {
    const dialog = await this.openCreate();
    await dialog.getByLabel("First name").fill(first);
    await dialog.getByLabel("Mobile number").fill(uniqueMobile().typed);
    await dialog.getByRole("button", { name: "Create contact" }).click();
    await expect(dialog).toBeHidden();
  }

  async tab(dialog: Locator, name: string) {
    await dialog.getByRole("tab", { name }).click();
  }

  search(): Locator {
    return this.page.getByRole("searchbox", { name: "Search contacts" });
  }

  /**
   * Searches, and waits until the search is the table's: the box writes the URL once
   * typing pauses, and a new search clears the selection, so a row checked before then
   * (the table may already show the same rows) would be unchecked again.
   */
  async searchFor(text: string) {
    await this.search().fill(text);
    await expect.poll(() => new URL(this.page.url()).searchParams.get("q")).toBe(text);
  }

  row(text: string): Locator {
    return this.page.getByRole("row").filter({ hasText: text });
  }

  async actionItems() {
    await this.page.getByRole("button", { name: /^Action items/ }).click();
    return this.page.getByRole("menu");
  }
}
