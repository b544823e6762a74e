import { expect, type Page } from "@playwright/test";

/** Drops a file onto the drop zone, as dragging it from the desktop does. */
export async function dropFile(page: Page, name: string, text: string) {
  const dataTransfer = await page.evaluateHandle(
    ({ name, text }) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([text], name, { type: "text/csv" }));
      return transfer;
    },
    { name, text },
  );
  const zone = page.getByTestId("drop-zone");
  await zone.dispatchEvent("dragenter", { dataTransfer });
  await expect(zone).toHaveClass(/drag-over/);
  await zone.dispatchEvent("drop", { dataTransfer });
}

