// Every text key of the portal exists in English and Slovak, and no page module gives a key another module already
// gave a different text (i18n.addTexts would silently overwrite it). Run: node portal/check-texts.mjs
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const src = join(dirname(fileURLToPath(import.meta.url)), "src");
const objectAt = (text, start) => {
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    if (text[i] === "{") depth++;
    else if (text[i] === "}" && --depth === 0) return text.slice(start, i + 1);
  }
  throw new Error("unbalanced braces");
};
const seen = new Map();
const problems = [];
const files = [join(src, "i18n.js"), ...readdirSync(join(src, "pages")).map((f) => join(src, "pages", f))];
for (const file of files) {
  const text = readFileSync(file, "utf8");
  const blocks = [];
  const base = text.indexOf("const TEXTS = {");
  if (base >= 0) blocks.push(objectAt(text, text.indexOf("{", base)));
  for (let at = text.indexOf("addTexts({"); at >= 0; at = text.indexOf("addTexts({", at + 1)) {
    blocks.push(objectAt(text, at + "addTexts(".length));
  }
  for (const block of blocks) {
    const texts = new Function(`return (${block});`)(); // the literal only: texts are plain strings and arrows
    for (const [lang, entries] of Object.entries(texts)) {
      for (const [key, value] of Object.entries(entries)) {
        const id = `${lang}:${key}`;
        const before = seen.get(id);
        if (before && String(before.value) !== String(value)) problems.push(`${id}: ${before.file} and ${file} differ`);
        seen.set(id, { file, value });
      }
    }
  }
}
const keys = (lang) => new Set([...seen.keys()].filter((k) => k.startsWith(`${lang}:`)).map((k) => k.slice(lang.length + 1)));
const en = keys("en"), sk = keys("sk");
for (const k of en) if (!sk.has(k)) problems.push(`sk is missing "${k}"`);
for (const k of sk) if (!en.has(k)) problems.push(`en is missing "${k}"`);
if (problems.length) {
  console.error(problems.join("\n"));
  process.exit(1);
}
console.log(`${en.size} texts, each in English and Slovak`);
