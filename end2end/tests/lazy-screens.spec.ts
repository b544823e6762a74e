import { expect, test } from "./fixtures";
import { hydrated, signInAsAdmin } from "./pages/accounts";

/** Every build is split (`--split`): the screens a user does not need first are files of their own. */
test("the Contacts tab loads without the upload tab's code, which comes when opened", async ({ page }) => {
  await signInAsAdmin(page);
  const fetched: string[] = [];
  page.on("request", (request) => fetched.push(new URL(request.url()).pathname));
  await page.goto("/contacts");
  await hydrated(page);
  await expect(page.getByRole("button", { name: "Create Contact", exact: true })).toBeVisible();
  const wasm = fetched.filter((path) => path.endsWith(".wasm"));
  expect(wasm.length, wasm.join("\n")).toBeGreaterThan(0);
  expect(wasm.filter((path) => path.includes("upload_route")), "not yet").toEqual([]);

  await page.getByRole("navigation", { name: "Contact sections" }).getByRole("link", { name: "Upload contacts" }).click();
  await expect(page.getByTestId("drop-zone")).toBeVisible();
  expect(fetched.filter((path) => path.includes("upload_route")).length, "fetched when opened").toBeGreaterThan(0);
});
