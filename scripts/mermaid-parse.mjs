// Checks Mermaid diagrams with mermaid's own parser: `node scripts/mermaid-parse.mjs FILE...`.
// Exits 1 naming the first file that fails, 2 on bad usage. Mermaid expects a browser, so a
// jsdom window and document become globals before mermaid is imported. Run with
// NODE_PATH=.tools/node/node_modules (the test suite does), or with mermaid and jsdom installed
// next to this script.
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node scripts/mermaid-parse.mjs FILE...");
  process.exit(2);
}

// ES module imports ignore NODE_PATH, so resolve the packages through require's lookup.
const require = createRequire(path.join(process.cwd(), "noop.js"));
const load = async (name) => import(pathToFileURL(require.resolve(name)).href);

const { JSDOM } = await load("jsdom");
const dom = new JSDOM("<!doctype html><html><body></body></html>", { pretendToBeVisual: true });
globalThis.window = dom.window;
globalThis.document = dom.window.document;
for (const key of ["Element", "HTMLElement", "Node", "DOMParser", "navigator"]) {
  if (!(key in globalThis)) {
    Object.defineProperty(globalThis, key, { value: dom.window[key], configurable: true });
  }
}

const mermaid = (await load("mermaid")).default;
mermaid.initialize({ startOnLoad: false });

let failed = 0;
for (const file of files) {
  const text = await readFile(file, "utf8");
  try {
    await mermaid.parse(text);
  } catch (err) {
    failed += 1;
    console.error(`${file}: ${err && err.message ? err.message : err}`);
  }
}
if (failed > 0) {
  console.error(`${failed} of ${files.length} diagrams failed to parse`);
  process.exit(1);
}
console.log(`${files.length} diagrams parsed`);
