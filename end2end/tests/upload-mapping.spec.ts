import { readFileSync } from "node:fs";
import { expect, test } from "./fixtures";
import { hydrated, signInAsAdmin } from "./pages/accounts";
import { ContactsPage, uniqueMobile, uniqueName } from "./pages/contacts";
import { dropFile } from "./pages/upload";

test("any column can be imported: an email and a custom field reach the contact", async ({ page }) => {
  await signInAsAdmin(page);
  await page.goto("/contacts/upload");
  await hydrated(page);
  const tag = uniqueName("Map");
  const mobile = uniqueMobile();
  const email = `${tag.toLowerCase()}@example.com`;
  const csv = `Phone 1 - Value,Given Name,E-mail Address,Membership\n${mobile.typed},${tag},${email},Gold\n`;
  await dropFile(page, `${tag}.csv`, csv);

  // Google Contacts' and Outlook's headers are recognised; other columns wait to be tagged.
  await expect(page.getByLabel("Column 1: Phone 1 - Value")).toHaveValue("mobile");
  await expect(page.getByLabel("Column 2: Given Name")).toHaveValue("first_name");
  await expect(page.getByLabel("Column 3: E-mail Address")).toHaveValue("email");
  const membership = page.getByLabel("Column 4: Membership");
  await expect(membership).toHaveValue("");
  await membership.selectOption("Custom field");
  const key = page.getByLabel("Custom field name for column 4");
  await expect(key).toHaveValue("Membership");
  await key.fill("Tier");
  await key.blur();
  await expect(page.getByTestId("row-verdict").first()).toHaveText(mobile.e164);

  await page.getByRole("button", { name: "Start processing" }).click();
  const upload = page.getByTestId("upload-row").filter({ hasText: `${tag}.csv` });
  await expect(upload).toHaveAttribute("data-status", "Completed", { timeout: 20_000 });
  await expect(upload.getByTestId("created")).toHaveText("1");

  const contacts = new ContactsPage(page);
  await contacts.goto();
  await contacts.searchFor(tag);
  await contacts.row(tag).getByRole("button", { name: tag }).click();
  const edit = page.getByRole("dialog", { name: "Edit contact" });
  await expect(edit.getByLabel("Email", { exact: true })).toHaveValue(email);
  await contacts.tab(edit, "Additional information");
  await expect(edit.getByLabel("Field 1 name")).toHaveValue("Tier");
  await expect(edit.getByLabel("Field 1 value")).toHaveValue("Gold");
});

test("a yes / no column opts the rows' numbers out of SMS, and the preview says so first", async ({ page }) => {
  await signInAsAdmin(page);
  await page.goto("/contacts/upload");
  await hydrated(page);
  const tag = uniqueName("Stop");
  const [a, b, c] = [uniqueMobile(), uniqueMobile(), uniqueMobile()];
  const csv = `mobile,first_name,No SMS\n${a.typed},${tag}A,yes\n${b.typed},${tag}B,\n${c.typed},${tag}C,perhaps\n`;
  await dropFile(page, `${tag}.csv`, csv);
  await page.getByLabel("Column 3: No SMS").selectOption("Opted out of SMS (yes / no)");
  const verdicts = page.getByTestId("row-verdict");
  await expect(verdicts.nth(0)).toHaveText(a.e164);
  await expect(verdicts.nth(1)).toHaveText(b.e164);
  await expect(verdicts.nth(2)).toHaveText('Opted out of SMS: "perhaps" is neither yes nor no.');

  await page.getByRole("button", { name: "Start processing" }).click();
  const upload = page.getByTestId("upload-row").filter({ hasText: `${tag}.csv` });
  await expect(upload).toHaveAttribute("data-status", "Completed", { timeout: 20_000 });
  await expect(upload.getByTestId("created")).toHaveText("2");
  await expect(upload.getByTestId("invalid")).toHaveText("1");

  const contacts = new ContactsPage(page);
  await contacts.goto();
  await contacts.searchFor(tag);
  await expect(contacts.row(`${tag}A`).getByLabel("Opted out of SMS")).toBeVisible();
  await expect(contacts.row(`${tag}B`)).toBeVisible();
  await expect(contacts.row(`${tag}B`).getByLabel("Opted out of SMS")).toHaveCount(0);
});

test("the preview marks a ragged row with the importer's reason, and the import agrees", async ({ page }) => {
  await signInAsAdmin(page);
  await page.goto("/contacts/upload");
  await hydrated(page);
  const tag = uniqueName("Rag");
  const [a, b] = [uniqueMobile(), uniqueMobile()];
  const csv = `mobile,first_name\n${a.typed},${tag}A\n${b.typed},${tag}B,VIP\n`;
  await dropFile(page, `${tag}.csv`, csv);
  const verdicts = page.getByTestId("row-verdict");
  await expect(verdicts.nth(0)).toHaveText(a.e164);
  await expect(verdicts.nth(1)).toHaveText("The row has 3 fields; the header has 2.");

  await page.getByRole("button", { name: "Start processing" }).click();
  const upload = page.getByTestId("upload-row").filter({ hasText: `${tag}.csv` });
  await expect(upload).toHaveAttribute("data-status", "Completed", { timeout: 20_000 });
  await expect(upload.getByTestId("created")).toHaveText("1");
  await expect(upload.getByTestId("invalid")).toHaveText("1");
});

/** `tests/corpus/encodings`: one file per encoding, with the text it must read as. */
const CORPUS = `${__dirname}/../../tests/corpus/encodings`;
const expected: Record<string, { encoding: string; rows: string[][] }> = JSON.parse(
  readFileSync(`${CORPUS}/expected.json`, "utf8"),
);

test("the browser decodes every encoding as the server does", async ({ page }) => {
  test.setTimeout(90_000);
  await signInAsAdmin(page);
  await page.goto("/contacts/upload");
  await hydrated(page);
  for (const [file, { encoding, rows }] of Object.entries(expected)) {
    await dropFile(page, file, readFileSync(`${CORPUS}/${file}`));
    await expect(page.getByTestId("file-name")).toHaveText(file);
    await page.getByLabel("Encoding").selectOption(encoding);
    await page.getByLabel("Delimiter").selectOption("Semicolon ;");
    const preview = page.getByRole("table", { name: "File preview" });
    // The header names the columns; the data row shows its cells after the line number.
    await expect(page.getByLabel(`Column 1: ${rows[0][0]}`)).toBeVisible();
    const cells = preview.getByRole("row").nth(1).getByRole("cell");
    await expect(cells.nth(1), `${file} as ${encoding}`).toHaveText(rows[1][0]);
    await expect(cells.nth(2)).toHaveText(rows[1][1]);
    await page.getByRole("button", { name: "Cancel" }).click();
  }
});

test("a wide file's preview keeps the line number and the verdict in view at 1280 × 800", async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 800 });
  await signInAsAdmin(page);
  await page.goto("/contacts/upload");
  await hydrated(page);
  const tag = uniqueName("Wide");
  const mobile = uniqueMobile();
  const notes = Array.from({ length: 12 }, (_, i) => `Note ${i + 1}`);
  const csv = `Mobile,${notes.join(",")}\n${mobile.typed},${notes.map((n) => `${n} of ${tag}`).join(",")}\n`;
  await dropFile(page, `${tag}.csv`, csv);

  const frame = page.locator(".preview-wrap");
  const line = page.getByRole("table", { name: "File preview" }).locator("tbody td").first();
  const verdict = page.getByTestId("row-verdict").first();
  await expect(verdict).toHaveText(mobile.e164);
  const wide = await frame.evaluate((el) => el.scrollWidth - el.clientWidth);
  expect(wide, "the columns are wider than the frame").toBeGreaterThan(200);
  // At the start, in the middle and at the end of the columns: both ends in the frame.
  for (const left of [0, wide / 2, wide]) {
    await frame.evaluate((el, left) => (el.scrollLeft = left), left);
    const box = (await frame.boundingBox())!;
    const lineBox = (await line.boundingBox())!;
    const verdictBox = (await verdict.boundingBox())!;
    expect(lineBox.x).toBeGreaterThanOrEqual(box.x - 1);
    expect(lineBox.x + lineBox.width).toBeLessThanOrEqual(box.x + box.width);
    expect(verdictBox.x).toBeGreaterThanOrEqual(box.x);
    expect(verdictBox.x + verdictBox.width).toBeLessThanOrEqual(box.x + box.width + 1);
    await expect(line).toHaveText("2");
  }
});
