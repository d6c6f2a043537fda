import fc from "fast-check";

/**
 * Generators for the path-glob property tests (path-glob-property, path-matcher-property): path
 * segments in both cases and with the non-ASCII letters whose case folding differs between
 * toLowerCase and a case-blind regex, empty segments (paths that are not collapsed), and globs on
 * every base with every wildcard.
 */
export const seg = fc.constantFrom(
  "a",
  "B",
  "ssh",
  ".ssh",
  "SSH",
  "x",
  "x.ts",
  "é",
  "É",
  "K",
  "\u212a",
  "σ",
  "Σ",
  "ß",
  "İ",
  "i",
  "",
);
export const path = fc.array(seg, { maxLength: 6 }).map((s) => `/${s.join("/")}`);
export const root = fc.oneof(fc.constant("/"), path);
const globPart = fc.constantFrom(
  "*",
  "**",
  "?",
  "a",
  "ssh",
  ".ssh",
  "{a,B}",
  "{,**/}x",
  "[ab]",
  "[!a]",
  "*.ts",
  "k",
  "σ",
  "é",
  "a**",
);
export const glob = fc
  .tuple(fc.constantFrom("/", "~/", "$CWD/", "", "~", "$CWD", "**/"), fc.array(globPart, { maxLength: 4 }))
  .map(([base, parts]) => (base === "~" || base === "$CWD" ? base : base + parts.join("/")));
