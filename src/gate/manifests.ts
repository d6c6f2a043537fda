/**
 * Dependency manifests a later install obeys (issue 19, gate47): pip's requirements and
 * constraints files (`pip install -r`, `-c`) and conda's environment files (`conda env
 * create|update -f`). A line of one can send every later install to another index or to a
 * URL's code: `--extra-index-url`, `--find-links`, `git+https://…`, `pkg @ https://…`, a
 * channel nobody reviewed. The gate judges the text it sees; a manifest written with text it
 * did not see (a download over it, a program's output) is not ALLOW.
 */
import { knownCondaChannel } from "./shell/effects.js";

export type ManifestKind = "pip" | "conda";

/** requirements.txt, requirements-dev.txt, dev-requirements.in, constraints.txt, requirements/base.txt. */
const PIP_NAME = /(?:^|[-_.])(?:requirements|constraints)(?:[-_.][^/]*)?\.(?:txt|in)$/i;
const PIP_DIR = /\/requirements\/[^/]+\.(?:txt|in)$/i;
const CONDA_NAME = /^(?:environment|env|conda(?:[-_.][^/]*)?)\.ya?ml$/i;

/** The manifest kind of a path by its name, or null. */
export function manifestKind(path: string): ManifestKind | null {
  const base = path.slice(path.lastIndexOf("/") + 1);
  if (PIP_NAME.test(base) || PIP_DIR.test(path)) return "pip";
  if (CONDA_NAME.test(base)) return "conda";
  return null;
}

/** pip options in a requirements file that name where packages come from. */
const PIP_SOURCE_OPTION =
  /^(?:-i|--index-url|--extra-index-url|-f|--find-links|--trusted-host|--use-feature|--config-settings|-C|--global-option|--install-option)(?:\s|=|$)|^-[if]\S/;
/**
 * A requirement naming code by URL, VCS or a path outside the project (`git+https://…`, `pkg @
 * https://…`, `/tmp/x.whl`, `~/src/x`); `-e .` and `./libs/x` are the project's own code.
 */
const URL_REQUIREMENT = /:\/\/|^(?:git|hg|svn|bzr)\+|\s@\s|^@|^[/~]|(?:^|\/)\.\.(?:\/|$)/i;

/**
 * Why a pip requirements text (whole or an inserted part) sends an install elsewhere: the first
 * line that names an index, a link source or code by URL, path or VCS; null when every line is a
 * package name with a version spec, a comment, or `-r`/`-c` of another project file.
 */
export function pipSource(text: string): string | null {
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/(?:^|\s)#.*$/, "").trim();
    if (line === "") continue;
    if (line.startsWith("-")) {
      const m = /^(?:-e|--editable)(?:\s+|=)(.*)$/.exec(line);
      if (m && URL_REQUIREMENT.test(m[1]!.trim())) return `'${line}' installs code from ${m[1]!.trim()}`;
      if (m) continue;
      if (/^(?:-r|-c|--requirement|--constraint)(?:\s+|=)\S/.test(line)) {
        if (line.includes("://")) return `'${line}' reads requirements from a URL`;
        continue;
      }
      if (PIP_SOURCE_OPTION.test(line)) return `'${line}' sends the install to another package source`;
      // --hash, --pre, --no-binary, --only-binary, --prefer-binary, --require-hashes: inert
      continue;
    }
    if (URL_REQUIREMENT.test(line)) return `'${line}' installs code from a URL, a path or a VCS`;
  }
  return null;
}

/**
 * Why a conda environment file's text sends an install elsewhere: a channel the pack does not
 * know, a URL, or a pip section line that pipSource judges; null when it names none.
 */
export function condaSource(text: string): string | null {
  let section: "channels" | "pip" | "other" = "other";
  let pipIndent = -1;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/(?:^|\s)#.*$/, "");
    if (line.trim() === "") continue;
    const indent = line.length - line.trimStart().length;
    const item = /^\s*-\s*(.*)$/.exec(line);
    if (section === "pip" && indent <= pipIndent) section = "other";
    if (indent === 0) {
      section = /^channels\s*:/.test(line) ? "channels" : "other";
      if (/^channels\s*:\s*\[/.test(line)) {
        for (const c of line.replace(/^channels\s*:\s*\[|\].*$/g, "").split(","))
          if (!knownCondaChannel(c.trim().replace(/^['"]|['"]$/g, "")))
            return `the channel '${c.trim()}' is one the pack does not know`;
      }
      continue;
    }
    if (item && /^pip\s*:/.test(item[1]!)) {
      section = "pip";
      pipIndent = indent;
      continue;
    }
    const value = item ? item[1]!.trim().replace(/^['"]|['"]$/g, "") : line.trim();
    if (section === "channels" && item) {
      if (!knownCondaChannel(value)) return `the channel '${value}' is one the pack does not know`;
    } else if (section === "pip") {
      const why = pipSource(value);
      if (why) return why;
    } else if (/:\/\//.test(value)) return `'${value.trim()}' names a URL`;
  }
  return null;
}

/** Why a manifest text of `kind` sends a later install elsewhere, or null. */
export function manifestSource(kind: ManifestKind, text: string): string | null {
  return kind === "pip" ? pipSource(text) : condaSource(text);
}
