// Builds the portal into functions/portal/static/ (what PortalFunction serves): one minified bundle,
// index.html and styles.css copied as they are. Reproducible: pinned packages (package-lock.json), no hashes
// or timestamps in the output.
import { build } from "esbuild";
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "functions", "portal", "static");
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(here, "src", "main.js")],
  bundle: true,
  minify: true,
  format: "esm",
  target: ["es2020"],
  outfile: join(out, "app.js"),
  legalComments: "none",
  logLevel: "warning",
});
for (const name of ["index.html", "styles.css"]) copyFileSync(join(here, "src", name), join(out, name));
console.log(`portal built into ${out}`);
