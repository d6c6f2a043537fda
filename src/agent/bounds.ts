import { Codes } from "../errors.js";
import { HttpError } from "../http.js";

/**
 * What a proposal may hold, checked at the API boundary before the gate decides: the pending row
 * must never store a value the final evidence record cannot encode (a non-finite number makes
 * canonical JSON throw; 5,000 levels of nesting overflow the stack inside the group commit).
 */

/** Deepest nesting of arrays and objects accepted in a proposal. */
export const MAX_DEPTH = 64;

/** Throws 400 FORGE_INPUT_TOO_DEEP or FORGE_INPUT_UNENCODABLE naming the first bad place in `value`. */
export function assertEncodable(value: unknown, what: string, maxDepth = MAX_DEPTH): void {
  // Iterative: the check itself must not overflow on the input it exists to refuse.
  const stack: [unknown, number, string][] = [[value, 0, what]];
  while (stack.length > 0) {
    const [v, depth, at] = stack.pop()!;
    if (v === null) continue;
    switch (typeof v) {
      case "string":
      case "boolean":
        continue;
      case "number":
        if (!Number.isFinite(v)) {
          throw new HttpError(
            Codes.INPUT_UNENCODABLE,
            `${at} is ${v}: numbers must be finite (JSON like 1e400 overflows); send it as a string`,
          );
        }
        continue;
      case "object": {
        if (depth >= maxDepth) {
          throw new HttpError(
            Codes.INPUT_TOO_DEEP,
            `${at} nests deeper than ${maxDepth} levels: flatten the arguments`,
          );
        }
        if (Array.isArray(v)) {
          for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], depth + 1, `${at}[${i}]`]);
        } else {
          for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
            if (x !== undefined) stack.push([x, depth + 1, `${at}.${k}`]);
          }
        }
        continue;
      }
      default:
        throw new HttpError(Codes.INPUT_UNENCODABLE, `${at} is a ${typeof v}, which JSON cannot hold`);
    }
  }
}
