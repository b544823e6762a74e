// The Upload tab's spreadsheet reader, off the page's thread: one message in (the file,
// the sheet, the bounds of a row, how many rows), one out ({ sample } as JSON text, or
// { error } with the reader's words, or { error: null } if it failed otherwise).
import init, { sample } from "./sheet_reader.js";

const ready = init({ module_or_path: new URL("sheet_reader_bg.wasm", import.meta.url) });

onmessage = async ({ data }) => {
  try {
    await ready;
    const bytes = new Uint8Array(await data.file.arrayBuffer());
    postMessage({
      sample: sample(bytes, data.sheet ?? undefined, data.maxCells, data.maxBytes, data.count),
    });
  } catch (e) {
    postMessage({ error: typeof e === "string" ? e : null });
  }
};
