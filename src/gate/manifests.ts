/**
 * Dependency manifests a later install obeys (issue 19, gate47): pip's requirements and
 * constraints files (`pip install -r`, `-c`) and conda's environment files (`conda env
 * create|update -f`). A line of one can send every later install to another index or to a
 * URL's code: `--extra-index-url`, `--find-links`, `git+https://…`, `pkg @ https://…`, a
 * channel nobody reviewed. The gate judges the text it sees; a manifest written with text it
 * did not see (a download over it, a program's output) is not ALLOW.
 */
import { knownCondaChannel } from "./shell/effects.js";

export type ManifestKind = "pip" | "conda" | "mint" | "carthage" | "pnpm" | "bower" | "dbt" | "source";

/** requirements.txt, requirements-dev.txt, dev-requirements.in, constraints.txt, requirements/base.txt. */
const PIP_NAME = /(?:^|[-_.])(?:requirements|constraints)(?:[-_.][^/]*)?\.(?:txt|in)$/i;
const PIP_DIR = /\/requirements\/[^/]+\.(?:txt|in)$/i;
const CONDA_NAME = /^(?:environment|env|conda(?:[-_.][^/]*)?)\.ya?ml$/i;

/**
 * gate55: manifests whose entries name code a tool fetches and builds or runs, by name: Mint
 * (Mintfile: `owner/repo@ref`, built by `mint bootstrap`), Carthage (Cartfile, Cartfile.private:
 * `github`/`git`/`binary` entries, built by `carthage bootstrap`), pnpm's workspace file
 * (overrides, catalogs, patches: pnpm 10 reads them from pnpm-workspace.yaml), dbt's project
 * (on-run-start/-end and pre-/post-hooks run in the warehouse on every `dbt run`) and its package
 * lists (packages.yml, dependencies.yml: `git:` sources), tflint's plugins (.tflint.hcl `source`:
 * a binary downloaded from GitHub and run), Dart's pubspec.yaml (`git:`, `url:` sources), Bower,
 * vcpkg's registries. Each is judged by the form of the sources its text names (vcsSource).
 */
const SOURCE_MANIFESTS: Readonly<Record<string, ManifestKind>> = Object.assign(Object.create(null), {
  Mintfile: "mint",
  Cartfile: "carthage",
  "Cartfile.private": "carthage",
  "pnpm-workspace.yaml": "pnpm",
  "dbt_project.yml": "dbt",
  "packages.yml": "source",
  "dependencies.yml": "source",
  ".tflint.hcl": "source",
  "pubspec.yaml": "source",
  "bower.json": "bower",
  "vcpkg.json": "source",
  "vcpkg-configuration.json": "source",
});

/** The manifest kind of a path by its name, or null. */
export function manifestKind(path: string): ManifestKind | null {
  const base = path.slice(path.lastIndexOf("/") + 1);
  if (PIP_NAME.test(base) || PIP_DIR.test(path)) return "pip";
  if (CONDA_NAME.test(base)) return "conda";
  return SOURCE_MANIFESTS[base] ?? null;
}

/**
 * A source named by its form, whatever the manifest: a URL, a VCS prefix (npm's `github:`,
 * `gitlab:`, `bitbucket:`, `gist:`, `git+`; go-getter's `git::`, `hg::`, `s3::`), an scp-style
 * git remote, a forge path without a scheme (`github.com/owner/repo`, tflint's and Go's form), or
 * a `git:` key (pubspec, dbt packages).
 */
const VCS_SOURCE =
  /:\/\/|(?:^|[\s"'=:({[,])(?:git\+|(?:github|gitlab|bitbucket|gist):(?!\s)|(?:git|hg|s3|gcs)::|git@[\w.-]+:)|(?:^|[^\w.-])(?:github\.com|gitlab\.com|bitbucket\.org|codeberg\.org)\/[\w.-]+\/|(?:^|[\s{,"'])git\s*:/i;
/** An npm specifier that is a GitHub shorthand (`owner/repo`, `owner/repo#ref`), not a registry range or alias. */
const NPM_SHORTHAND = /^[A-Za-z0-9][\w.-]*\/[\w.-]+(?:#\S*)?$/;
/** pnpm-workspace.yaml's sections whose values are dependency specs (pnpm.io/pnpm-workspace_yaml, /catalogs). */
const PNPM_SPECS = /^(?:overrides|catalog|catalogs|packageExtensions)$/;
/** A mapping's value: after `key:` (quoted or not), up to a quote, a comma, a brace or a blank. */
const MAPPING_VALUE = /:\s*["']?([^"'\s,{}[\]]+)/g;
/** A local path outside the project (`link:../x`, `file:/tmp/x`, `path: ../x`). */
const OUTSIDE_PATH = /(?:^|[\s:="'])(?:link:|file:|portal:)?(?:\/|~|\.\.(?:\/|$))/;
/** dbt's keys whose values are SQL run on every `dbt run` (docs.getdbt.com "on-run-start", "pre-hook"). */
const DBT_HOOK =
  /^\s*(?:-\s*)?["']?\+?(?:on-run-start|on-run-end|pre-hook|post-hook|pre_hook|post_hook)["']?\s*:/;

/**
 * Why a manifest text names code from somewhere other than the registry the tool trusts: the
 * first line whose source is a URL, VCS or forge path (VCS_SOURCE), a path outside the project;
 * in a Mintfile or Cartfile any entry (each is a repository or binary built or run: neither tool
 * has a registry), in pnpm's file a GitHub shorthand value, in dbt's project a hook.
 */
export function vcsSource(kind: ManifestKind, text: string): string | null {
  // pnpm: the top-level key a line is under (a shorthand means GitHub only as a dependency's spec).
  let section = "";
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/(?:^|\s)#.*$/, "").trim();
    if (line === "") continue;
    if (/^[\w"']/.test(raw)) section = /^["']?([\w-]+)/.exec(raw)![1]!;
    if (kind === "mint") return `'${line}' names a repository Mint builds and runs`;
    if (kind === "carthage") {
      if (/^(?:github|git|binary)\s/.test(line))
        return `'${line}' names a repository or binary Carthage builds`;
      continue;
    }
    if (kind === "dbt" && DBT_HOOK.test(line))
      return `'${line}' is SQL dbt runs in the warehouse on every run`;
    if (VCS_SOURCE.test(line)) return `'${line}' names code by URL, VCS or forge path`;
    // Each `key: value` of the line (YAML, or JSON's `"key": "value"`, several on one line).
    for (const m of line.matchAll(MAPPING_VALUE)) {
      const value = m[1]!;
      if ((kind === "bower" || (kind === "pnpm" && PNPM_SPECS.test(section))) && NPM_SHORTHAND.test(value))
        return `'${line}' names '${value}', a GitHub shorthand the install fetches`;
      if (kind !== "dbt" && OUTSIDE_PATH.test(value) && !value.startsWith("//"))
        return `'${line}' names code at a path outside the project`;
    }
  }
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
  return kind === "pip" ? pipSource(text) : kind === "conda" ? condaSource(text) : vcsSource(kind, text);
}
