// Copy the front-end files Koers serves from node_modules into its static folder.
// The copies are build output (git-ignored); package-lock.json pins what they are.
import { copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const target = join(root, "src/koers/static/vendor");

const files = {
  "@tabler/core/dist/css/tabler.min.css": "tabler/tabler.min.css",
  "@tabler/core/dist/js/tabler.min.js": "tabler/tabler.min.js",
  "@tabler/icons-webfont/dist/tabler-icons.min.css": "tabler-icons/tabler-icons.min.css",
  "@tabler/icons-webfont/dist/fonts/tabler-icons.woff2": "tabler-icons/fonts/tabler-icons.woff2",
  "@tabler/icons-webfont/dist/fonts/tabler-icons.woff": "tabler-icons/fonts/tabler-icons.woff",
  "@tabler/icons-webfont/dist/fonts/tabler-icons.ttf": "tabler-icons/fonts/tabler-icons.ttf",
  "htmx.org/dist/htmx.min.js": "htmx/htmx.min.js",
  "alpinejs/dist/cdn.min.js": "alpinejs/alpine.min.js",
  "chart.js/dist/chart.umd.min.js": "chartjs/chart.umd.min.js",
  "sortablejs/Sortable.min.js": "sortablejs/Sortable.min.js",
};

rmSync(target, { recursive: true, force: true });
for (const [from, to] of Object.entries(files)) {
  const destination = join(target, to);
  mkdirSync(dirname(destination), { recursive: true });
  copyFileSync(join(root, "node_modules", from), destination);
  // A file that names its source map must ship it, or the static-file manifest breaks.
  if (existsSync(join(root, "node_modules", `${from}.map`))) {
    copyFileSync(join(root, "node_modules", `${from}.map`), `${destination}.map`);
  }
}
writeFileSync(join(target, ".copied"), "");
console.log(`Copied ${Object.keys(files).length} front-end files to src/koers/static/vendor/`);
