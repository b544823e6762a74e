import { expect, test } from "./fixtures";
import type { Page } from "@playwright/test";
import { readFileSync } from "node:fs";
import { hydrated, signInAsAdmin } from "./pages/accounts";
import { ContactsPage, uniqueMobile, uniqueName } from "./pages/contacts";
import { GroupsPage } from "./pages/groups";
import { dropFile } from "./pages/upload";

/** Three different unused numbers. */
function threeMobiles() {
  const seen = new Set<string>();
  const out = [];
  while (out.length < 3) {
    const m = uniqueMobile();
    if (!seen.has(m.e164)) {
      seen.add(m.e164);
      out.push(m);
    }
  }
  return out;
}

test("upload a CSV: preview, tag the mobile column, new group, completed counts, rejected rows", async ({
  page,
}) => {
  await signInAsAdmin(page);
  await page.goto("/contacts/upload");
  await hydrated(page);
  const tag = uniqueName("Up");
  const group = uniqueName("Fair");
  const fileName = `${tag}.csv`;
  const [a, b, c] = threeMobiles();
  // A UTF-8 BOM, semicolons and Windows line endings, as Excel writes them in Europe.
  const csv =
    "\uFEFF" +
    [
      "Given name;Surname;Handy",
      `${tag}Ann;Lee;${a.typed}`,
      `${tag}Bo;Tan;${b.e164}`,
      `${tag}Cy;Ong;${a.display}`,
      `${tag}Di;Ho;12345`,
      `${tag}Ed;Lim;${c.typed}`,
    ].join("\r\n") +
    "\r\n";
  await dropFile(page, fileName, csv);

  await expect(page.getByTestId("file-name")).toHaveText(fileName);
  await expect(page.getByLabel("Encoding")).toHaveValue("utf-8");
  await expect(page.getByLabel("Delimiter")).toHaveValue("Semicolon ;");
  await expect(page.getByLabel("First row is a header")).toBeChecked();
  const preview = page.getByRole("table", { name: "File preview" });
  await expect(preview.getByRole("row")).toHaveCount(6);
  await expect(preview).toContainText(`${tag}Cy`);
  // Names are suggested from the header; the mobile column is tagged by hand.
  await expect(page.getByLabel("Column 1: Given name")).toHaveValue("first_name");
  await expect(page.getByLabel("Column 2: Surname")).toHaveValue("last_name");
  const start = page.getByRole("button", { name: "Start processing" });
  await expect(start).toBeDisabled();
  await page.getByLabel("Column 3: Handy").selectOption("Mobile number");
  const verdicts = page.getByTestId("row-verdict");
  await expect(verdicts.nth(0)).toHaveText(a.e164);
  await expect(verdicts.nth(2)).toHaveText("Same number as line 2: counted once");
  await expect(verdicts.nth(3)).toContainText("too short");

  await page.getByLabel("Add to group (optional)").fill(group);
  await start.click();
  await expect(page.getByRole("status")).toContainText(`Upload of ${fileName} started.`);
  await expect(page.getByTestId("file-name")).toHaveCount(0);

  const upload = page.getByTestId("upload-row").filter({ hasText: fileName });
  await expect(upload).toHaveAttribute("data-status", "Completed", { timeout: 20_000 });
  await expect(upload.getByTestId("rows-read")).toHaveText("5");
  await expect(upload.getByTestId("created")).toHaveText("3");
  await expect(upload.getByTestId("matched")).toHaveText("0");
  await expect(upload.getByTestId("duplicates")).toHaveText("1");
  await expect(upload.getByTestId("invalid")).toHaveText("1");
  await expect(upload).toContainText(`Group: ${group}`);

  const downloading = page.waitForEvent("download");
  await upload.getByRole("link", { name: "Download rejected rows" }).click();
  const report = readFileSync(await (await downloading).path(), "utf8");
  expect(report).toContain("line,reason,row");
  expect(report).toContain("4,Same number as line 2.");
  expect(report).toContain(`5,Mobile number: Number too short for SG.,${tag}Di;Ho;12345`);

  const contacts = new ContactsPage(page);
  await contacts.goto();
  await contacts.searchFor(tag);
  await expect(page.getByRole("row")).toHaveCount(4);
  for (const name of [`${tag}Ann Lee`, `${tag}Bo Tan`, `${tag}Ed Lim`]) {
    await expect(contacts.row(name)).toContainText(group);
  }
  const groups = new GroupsPage(page);
  await groups.goto();
  await expect(groups.row(group)).toContainText("3 contacts");

  // Undo the upload: after a confirmation its contacts go, and the row says so.
  await page.goto("/contacts/upload");
  await hydrated(page);
  const row = page.getByTestId("upload-row").filter({ hasText: fileName });
  await row.getByRole("button", { name: "Undo…" }).click();
  await expect(row.getByRole("alert")).toContainText("The 3 contacts it created are removed");
  await row.getByRole("button", { name: "Undo upload" }).click();
  await expect(row.getByTestId("undo-status")).toContainText("3 removed · 0 restored · 0 kept", {
    timeout: 20_000,
  });
  await contacts.goto();
  await contacts.searchFor(tag);
  await expect(page.getByRole("heading", { name: "No matching contacts" })).toBeVisible();
});

test("a file that is not CSV is refused before anything is uploaded", async ({ page }) => {
  await signInAsAdmin(page);
  await page.goto("/contacts/upload");
  await hydrated(page);
  await dropFile(page, "photo.png", "\x89PNG");
  await expect(page.getByRole("alert")).toContainText('"photo.png" is neither a CSV file nor a spreadsheet.');
  await expect(page.getByRole("table", { name: "File preview" })).toHaveCount(0);

  // Choosing a file with the (keyboard-reachable) file input works the same way.
  await page.getByLabel(/click to upload/).setInputFiles({
    name: "people.txt",
    mimeType: "text/plain",
    buffer: Buffer.from("mobile\n+65 8123 4567\n"),
  });
  await expect(page.getByTestId("file-name")).toHaveText("people.txt");
  await expect(page.getByLabel("Column 1: mobile")).toHaveValue("mobile");
});
