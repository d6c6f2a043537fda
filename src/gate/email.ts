/**
 * Email recipients read as RFC 5322 address lists (issue 19 §5): one `to` entry may hold several
 * addresses (`"attacker@evil.com, boss@example.com"`), display names, quoted strings, comments and
 * groups. Pure; anything the reader cannot take apart is an unknown domain ("?"), never internal.
 */

/** An address whose domain the reader could not establish. */
export const UNKNOWN_DOMAIN = "?";

/** Most characters of one recipient field the reader walks; longer is unknown. */
const MAX_FIELD = 4096;

const ADDR_SPEC =
  /^[^\s@<>()",;:\\[\]]+@([a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*)$/i;

/** The domain of every address in `field`, lower-cased; "?" for each piece that is not plain. */
export function recipientDomains(field: string): string[] {
  if (field.length > MAX_FIELD || /[\u0000-\u001f\u007f]/.test(field)) return [UNKNOWN_DOMAIN];
  const pieces: string[] = [];
  let cur = "";
  let depth = 0;
  let quoted = false;
  let angle = false;
  for (let i = 0; i < field.length; i++) {
    const ch = field[i]!;
    if (quoted) {
      if (ch === "\\") i++;
      else if (ch === '"') quoted = false;
      // A quoted string is a display name or a quoted local part: kept as one opaque mark.
      continue;
    }
    if (depth > 0) {
      if (ch === "\\") i++;
      else if (ch === "(") depth++;
      else if (ch === ")") depth--;
      continue;
    }
    if (ch === '"') {
      quoted = true;
      cur += '"';
    } else if (ch === "(") depth++;
    else if (ch === "<") {
      if (angle) return [UNKNOWN_DOMAIN];
      angle = true;
      cur += ch;
    } else if (ch === ">") {
      angle = false;
      cur += ch;
    } else if (!angle && (ch === "," || ch === ";")) {
      pieces.push(cur);
      cur = "";
    } else if (!angle && ch === ":") {
      // A group: `team: a@x, b@y;` — the name before the colon is not an address.
      cur = "";
    } else cur += ch;
  }
  if (quoted || depth > 0 || angle) return [UNKNOWN_DOMAIN];
  pieces.push(cur);
  const out: string[] = [];
  for (const raw of pieces) {
    const p = raw.trim();
    if (p === "") continue;
    const open = p.indexOf("<");
    let spec = p;
    if (open >= 0) {
      const close = p.indexOf(">", open);
      // Text after `>`, or a second bracket: not one address.
      if (close < 0 || p.slice(close + 1).trim() !== "" || p.indexOf("<", open + 1) >= 0)
        return [UNKNOWN_DOMAIN];
      spec = p.slice(open + 1, close).trim();
    }
    const m = ADDR_SPEC.exec(spec);
    out.push(m ? m[1]!.toLowerCase() : UNKNOWN_DOMAIN);
  }
  return out.length > 0 ? out : [UNKNOWN_DOMAIN];
}

/** A CR, LF or other control character in a header value: header injection. */
export function headerInjection(values: readonly string[]): string | null {
  for (const v of values) {
    if (/[\r\n\u0000-\u0008\u000b-\u001f\u007f]/.test(v))
      return `header-injection: ${JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v)} holds a line break or control character: refused`;
  }
  return null;
}
