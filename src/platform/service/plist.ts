import { Codes, ForgeError } from "../../errors.js";

/** The subset of property-list values a launchd job needs. Numbers must be integers. */
export type PlistValue = string | number | boolean | PlistValue[] | { [key: string]: PlistValue };

const HEADER =
  '<?xml version="1.0" encoding="UTF-8"?>\n' +
  '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n' +
  '<plist version="1.0">\n';

/**
 * Serialises `value` as an XML property list (the format launchd reads), indented with tabs
 * like Apple's and libplist's writers. Dictionary keys keep their insertion order.
 * Throws FORGE_SERVICE_INVALID for a string XML 1.0 cannot carry (NUL and other C0 controls,
 * U+FFFE/U+FFFF, lone surrogates) or a non-integer number.
 */
export function toPlistXml(value: PlistValue): string {
  const out: string[] = [HEADER];
  write(value, 0, out);
  out.push("</plist>\n");
  return out.join("");
}

function write(v: PlistValue, depth: number, out: string[]): void {
  const pad = "\t".repeat(depth);
  if (typeof v === "string") {
    out.push(`${pad}<string>${escapeXml(v)}</string>\n`);
  } else if (typeof v === "boolean") {
    out.push(`${pad}<${v ? "true" : "false"}/>\n`);
  } else if (typeof v === "number") {
    if (!Number.isSafeInteger(v)) {
      throw new ForgeError(Codes.SERVICE_INVALID, `plist: ${v} is not an integer; only <integer> is written`);
    }
    out.push(`${pad}<integer>${v}</integer>\n`);
  } else if (Array.isArray(v)) {
    if (v.length === 0) {
      out.push(`${pad}<array/>\n`);
      return;
    }
    out.push(`${pad}<array>\n`);
    for (const item of v) write(item, depth + 1, out);
    out.push(`${pad}</array>\n`);
  } else {
    const keys = Object.keys(v);
    if (keys.length === 0) {
      out.push(`${pad}<dict/>\n`);
      return;
    }
    out.push(`${pad}<dict>\n`);
    for (const k of keys) {
      out.push(`${pad}\t<key>${escapeXml(k)}</key>\n`);
      write(v[k]!, depth + 1, out);
    }
    out.push(`${pad}</dict>\n`);
  }
}

// Characters XML 1.0 has no way to carry, not even as a character reference.
const UNREPRESENTABLE =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Escapes text for an XML element body. CR becomes `&#13;` because a conforming parser turns a
 * literal CR (or CRLF) into LF; every other allowed character is written as itself.
 */
export function escapeXml(s: string): string {
  const bad = UNREPRESENTABLE.exec(s);
  if (bad !== null) {
    const cp = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
    throw new ForgeError(
      Codes.SERVICE_INVALID,
      `plist: U+${cp} at offset ${bad.index} cannot be written in an XML property list; remove it from the value`,
    );
  }
  return s.replace(/[&<>\r]/g, (c) =>
    c === "&" ? "&amp;" : c === "<" ? "&lt;" : c === ">" ? "&gt;" : "&#13;",
  );
}
