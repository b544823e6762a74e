import { expect, test } from "./fixtures";
import { readFileSync } from "node:fs";
import { hydrated, signInAsAdmin } from "./pages/accounts";
import { dropFile } from "./pages/upload";

/** `tests/corpus/sheets`: workbooks made by LibreOffice, with the CSV each must read as. */
const SHEETS = `${__dirname}/../../tests/corpus/sheets`;

test("a spreadsheet is read in the browser by a reader of its own, with the importer's verdicts", async ({ page }) => {
  const reader: string[] = [];
  page.on("request", (request) => {
    const path = new URL(request.url()).pathname;
    if (path.startsWith("/sheet-reader/")) reader.push(path);
  });
  await signInAsAdmin(page);
  await page.goto("/contacts/upload");
  await hydrated(page);
  expect(reader, "the spreadsheet reader is not part of the page's download").toEqual([]);
  await dropFile(page, "outlook.xlsx", readFileSync(`${SHEETS}/outlook.xlsx`));
  await expect(page.getByTestId("file-name")).toHaveText("outlook.xlsx");
  expect(reader, "the reader's worker is fetched when a spreadsheet is dropped").toContain("/sheet-reader/worker.js");
  await expect(page.getByLabel("Sheet", { exact: true })).toHaveValue("Contacts");
  await expect(page.getByLabel("Encoding")).toHaveCount(0);
  const preview = page.getByRole("table", { name: "File preview" });
  await expect(preview.getByRole("row")).toHaveCount(11);
  await expect(page.getByLabel("Column 5: Mobile Phone")).toHaveValue("mobile");
  const verdicts = page.getByTestId("row-verdict");
  await expect(verdicts.nth(0)).toHaveText("+6581234567");
  await expect(verdicts.nth(3)).toHaveText("+6581234569");
  await expect(verdicts.nth(4)).toHaveText("Same number as line 2: counted once");
  await expect(verdicts.nth(5)).toContainText("holds an error (such as #N/A)");
  await expect(verdicts.nth(6)).toContainText("No mobile number.");

  await page.getByRole("button", { name: "Start processing" }).click();
  await expect(page.getByRole("status")).toContainText("Upload of outlook.xlsx started.");
  const upload = page.getByTestId("upload-row").filter({ hasText: "outlook.xlsx" }).first();
  await expect(upload).toHaveAttribute("data-status", "Completed", { timeout: 20_000 });
  await expect(upload.getByTestId("rows-read")).toHaveText("10");
  await expect(upload.getByTestId("duplicates")).toHaveText("1");
  await expect(upload.getByTestId("invalid")).toHaveText("4");

  // The same list as .xls and .ods reads the same.
  for (const name of ["outlook.xls", "outlook.ods"]) {
    await dropFile(page, name, readFileSync(`${SHEETS}/${name}`));
    await expect(page.getByTestId("file-name")).toHaveText(name);
    await expect(preview.getByRole("row")).toHaveCount(11);
    await expect(verdicts.nth(0)).toHaveText("+6581234567");
    await expect(verdicts.nth(4)).toHaveText("Same number as line 2: counted once");
  }
});

test("a workbook's sheet is chosen, and one that cannot be read says why", async ({ page }) => {
  await signInAsAdmin(page);
  await page.goto("/contacts/upload");
  await hydrated(page);
  // The first sheet with a value, then another.
  await dropFile(page, "two-sheets.xlsx", readFileSync(`${SHEETS}/two-sheets.xlsx`));
  const sheet = page.getByLabel("Sheet", { exact: true });
  await expect(sheet).toHaveValue("January");
  const preview = page.getByRole("table", { name: "File preview" });
  await expect(preview.getByRole("row")).toHaveCount(4);
  await sheet.selectOption("February");
  await expect(preview.getByRole("row")).toHaveCount(3);
  await expect(page.getByTestId("row-verdict").nth(0)).toHaveText("+6581240004");

  await dropFile(page, "password.xlsx", readFileSync(`${SHEETS}/password.xlsx`));
  await expect(page.getByRole("alert")).toContainText('"password.xlsx": The workbook is password-protected');
  await expect(preview).toHaveCount(0);
});
