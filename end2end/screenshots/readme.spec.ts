import type { APIRequestContext, Page } from "@playwright/test";
import { expect, test } from "../tests/fixtures";
import { hydrated, SetupPage } from "../tests/pages/accounts";

const OUT = "../docs/screenshots";
const BASE = process.env.BASE_URL ?? "http://127.0.0.1:3000";

/** Calls a server function as the signed-in browser does (JSON in, JSON out). */
async function call(request: APIRequestContext, name: string, data: unknown) {
  const response = await request.post(`/api/${name}`, { data, headers: { Origin: BASE } });
  expect(response.ok(), `${name}: ${await response.text()}`).toBeTruthy();
  return response.json();
}

const PEOPLE = [
  ["Aisyah", "Rahman", "8123 4567", ["Newsletter"]],
  ["Wei", "Tan", "9123 4567", ["Newsletter"]],
  ["Priya", "Sharma", "8765 4321", ["Newsletter", "Unsubscribed"]],
  ["Marco", "Santos", "9876 5432", []],
  ["Emma", "Lee", "8234 5678", []],
] as const;

/** The customers.csv of the upload pictures: Excel's semicolons, one number too short. */
function customersCsv(): string {
  const names = [["Aisyah", "Rahman"], ["Wei", "Tan"], ["Priya", "Sharma"], ["Marco", "Santos"], ["Emma", "Lee"], ["Jun", "Goh"]];
  const rows = ["First name;Last name;Mobile;Email"];
  for (let i = 0; i < 30; i++) {
    const [first, last] = names[i % names.length];
    const mobile = i === 3 ? "12345" : `+65 81${String(23 + i).padStart(2, "0")} ${4567 + i}`;
    rows.push(`${first};${last};${mobile};${first.toLowerCase()}@example.com`);
  }
  return rows.join("\r\n") + "\r\n";
}

async function shoot(page: Page, name: string) {
  await hydrated(page);
  await page.screenshot({ path: `${OUT}/${name}.png` });
}

test("README screenshots", async ({ page }) => {
  test.setTimeout(120_000);
  const setup = new SetupPage(page);
  await setup.goto();
  await setup.create("Acme Trading", "SG", "ops@acme.example", "acme screenshots password");
  await expect(page).toHaveURL(/\/contacts$/);

  const groups: Record<string, number> = {};
  for (const [name, description, blacklisted] of [
    ["Newsletter", "Monthly news and offers", false],
    ["Unsubscribed", "Asked not to be messaged", true],
    ["VIP customers", "", false],
  ] as const) {
    groups[name] = await call(page.request, "save_group", { id: null, input: { name, description, blacklisted } });
  }
  for (const [first, last, mobile, member] of PEOPLE) {
    const input = {
      first_name: first, last_name: last, mobile, country: "SG", email: `${first.toLowerCase()}@example.com`,
      external_id: "", whatsapp: "", viber: "", line_id: "", wechat_id: "", messenger_id: "", attributes: [],
    };
    await call(page.request, "save_contact", { id: null, input, group_ids: member.map((g) => groups[g]), new_groups: [] });
  }

  await page.goto("/contacts");
  await expect(page.getByRole("row").filter({ hasText: "Aisyah Rahman" })).toBeVisible();
  await shoot(page, "contacts");

  await page.getByRole("button", { name: "Create Contact", exact: true }).click();
  const dialog = page.getByRole("dialog", { name: "Create contact" });
  await dialog.getByLabel("First name").fill("Nur");
  await dialog.getByLabel("Last name").fill("Hidayah");
  await dialog.getByLabel("Mobile number").fill("8111 2233");
  await dialog.getByLabel("Email").fill("nur@example.com");
  await page.screenshot({ path: `${OUT}/create-dialog.png` });
  await page.keyboard.press("Escape");

  await page.goto("/contacts/upload");
  await hydrated(page);
  await page.locator("#upload-file").setInputFiles({ name: "customers.csv", mimeType: "text/csv", buffer: Buffer.from(customersCsv()) });
  await expect(page.getByRole("table")).toBeVisible();
  await page.getByLabel("Add to group (optional)").fill("Spring fair");
  await page.getByTestId("drop-zone").evaluate((zone) => zone.scrollIntoView({ block: "start" }));
  await page.screenshot({ path: `${OUT}/upload-preview.png` });
  await page.getByRole("button", { name: "Start processing" }).click();
  await expect(page.getByText("Completed").first()).toBeVisible({ timeout: 30_000 });
  await page.evaluate(() => window.scrollTo(0, 0));
  await shoot(page, "upload");

  await page.goto("/contacts/groups");
  await expect(page.getByRole("row").filter({ hasText: "Spring fair" })).toBeVisible();
  await shoot(page, "groups");
});
