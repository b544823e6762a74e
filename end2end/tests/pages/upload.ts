import { expect, type Page } from "@playwright/test";

/** Drops a file onto the drop zone, as dragging it from the desktop does. */
export async function dropFile(page: Page, name: string, content: string | Buffer) {
  // Bytes cross into the page as numbers; text as it is.
  const bytes = typeof content === "string" ? null : Array.from(content);
  const text = typeof content === "string" ? content : "";
  const dataTransfer = await page.evaluateHandle(
    ({ name, text, bytes }) => {
      const transfer = new DataTransfer();
      const part = bytes === null ? text : new Uint8Array(bytes);
      transfer.items.add(new File([part], name, { type: "text/csv" }));
      return transfer;
    },
    { name, text, bytes },
  );
  const zone = page.getByTestId("drop-zone");
  await zone.dispatchEvent("dragenter", { dataTransfer });
  await expect(zone).toHaveClass(/drag-over/);
  await zone.dispatchEvent("drop", { dataTransfer });
}

