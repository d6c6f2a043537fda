/** The shell parse's result types and bounds. */

/** One argument word: its static value, or null when it is only known at run time. */
export interface Word {
  value: string | null;
  /** Unquoted glob characters: the value is a pattern, not a name. */
  glob: boolean;
  /** For a dynamic word, the static text before the first dynamic part (`https://h/?k=$(…)`). */
  prefix?: string;
  /** Brace expansion: the words it expands to (`{/,x}` → `/`, `x`). */
  alts?: string[];
  /** The expansion is fully static: the alternatives replace the word (`a{b,c}` → `ab ac`). */
  known?: boolean;
  /** Some part was quoted: an empty brace result stays a word (`""{,}` is two empty words). */
  quoted?: boolean;
  /** It expands a variable whose name says it holds a credential (`"$GITHUB_TOKEN"`). */
  secretEnv?: boolean;
  /**
   * The program's own script or expression (a sed script, an awk program, a jq filter): text in
   * the program's language, not a path or a URL it opens (gate51).
   */
  expr?: boolean;
}

export interface SimpleCommand {
  /** Basename of the command name ("" when dynamic). */
  program: string;
  /** The name as written, normalised against cwd when it contains a slash; null otherwise. */
  path: string | null;
  words: Word[];
  /** `-rf` → `-r`, `-f` and `-rf`; `--force=x` → `--force`. */
  flags: Set<string>;
  /** Non-flag words that are not the value of a known value-taking flag. */
  operands: Word[];
  /** Every file the command names, absolute: operands, `k=/path` values, redirect targets. */
  paths: string[];
  /** Output redirect targets (a redirect target is a write). */
  writes: string[];
  /** Paths (of `paths`) that are glob patterns (`/dev/[z]ero`): judged by every path they could match. */
  globs?: string[];
  /** Writes (of `writes`) that are glob patterns. */
  globWrites?: string[];
  hosts: string[];
  /** gate49: the URLs it requests, canonical (hosts.ts canonicalUrl: `/HOST/PATH`); absent: none. */
  urls?: string[];
  /** Programs whose output reaches this command: earlier pipeline stages, process substitutions. */
  feeders: string[];
  /** Wrappers this command runs under (sudo, env, xargs, bash -c …), outermost first. */
  via: string[];
  /** Some word (or the name) is only known at run time. */
  dynamic: boolean;
  /** Some redirect target is only known at run time. */
  dynamicWrites: boolean;
  /** Inline interpreter code (`python -c`, `node -e`, heredoc to python): at least ESCALATE. */
  code: boolean;
  /** Its heredoc or here-string text (a wrapped command reads the same input). */
  heredoc?: string;
  /** Files of code the command runs, absolute: its own path, a script given to a shell or interpreter, `source FILE`. */
  runs: string[];
  /** Working directory used for relative paths. */
  cwd: string;
  /** Short text for reasons and the session's recent list. */
  text: string;
  /** gate61: the symbolic links it makes, [name, target] (absolute; target null when only known at run time). */
  links?: [string, string | null][];
  /** A file mode it sets has the setuid or setgid bit (`chmod u+s`, `install -m 4755`), or "maybe" (a mode only known at run time). */
  setid?: boolean | "maybe";
  /** The directory it writes files into that its input names (`git apply`, `patch`, `tar x`, `unzip`). */
  tree?: string;
  /** git: the repository it opens (absolute): `--git-dir` (explicit), or where discovery starts (`-C`, the cwd). */
  repo?: { dir: string; explicit: boolean };
  /**
   * Directories it writes an unknown set of files under, absolute (an archive extracted there with
   * its members not named): the rules judge each as DIR/**. A temporary or build-output directory
   * is left out (judged by its own path alone).
   */
  trees?: string[];
  /**
   * The compressed files or archives it expands, absolute (its standard input's file too): a
   * download expanded can fill the disk. Absent when it expands nothing.
   */
  expands?: string[];
  /** The sources a move takes away, absolute (also in `writes`: a move removes them; effects.ts `moved`). */
  moved?: string[];
  /** It copies, moves or links what it reads to what it writes (effects.ts `copy`). */
  copy?: true;
  /** The project directories a runner's options name, absolute (effects.ts `projects`): it runs theirs, not the cwd's. */
  projects?: string[];
  /** Basename globs of text files it runs as doctests (effects.ts `doctests`). */
  doctests?: string[];
}

export interface ShellParse {
  commands: SimpleCommand[];
  /** What the walk spent of its budget: steps (nodes, characters expanded) and the deepest nesting. */
  work: { steps: number; nesting: number };
  /** Reasons this line can be no better than ESCALATE (empty when fully static). */
  floors: string[];
  /**
   * What a persistent shell keeps after the line: the PATH it set (`export PATH=bin:$PATH`, as
   * written: `$PATH` and `$PWD` left in), undefined when it set none.
   */
  keeps?: { path?: string };
}

export interface ShellLimits extends Partial<ShellBudgetLimits> {
  /** Longest accepted line, in characters (default 16384). */
  maxLength: number;
  /** Most simple commands per line, wrappers included (default 256). */
  maxCommands: number;
  /** Deepest re-parse nesting (`bash -c "eval '…'"`), default 6. */
  maxDepth: number;
}

/**
 * The declared budget of one line's walk (issue 19 §6): every step is linear in the line or bounded
 * by one of these; one that runs out stops the walk with a `shell-budget: …` floor (ESCALATE).
 */
export interface ShellBudgetLimits {
  /** Deepest tree nesting walked (`$($($(…)))`, `((((…))))`), default 200. */
  maxNesting: number;
  /** Most walk steps per line, nested parses included: nodes visited, characters expanded (default 400000). */
  maxWork: number;
  /** Most words one brace expansion may produce (default 64). */
  maxBraceWords: number;
  /** Most `k=v` splits of one word searched for paths (`a=b=c`), default 8. */
  maxAssignSplits: number;
}

export const DEFAULT_LIMITS: ShellLimits & ShellBudgetLimits = {
  maxLength: 16384,
  maxCommands: 256,
  maxDepth: 6,
  maxNesting: 200,
  maxWork: 400_000,
  maxBraceWords: 64,
  maxAssignSplits: 8,
};

/**
 * Which parser produces the trees: "native" is tree-sitter's C runtime inside our addon, returning
 * a flat array per line (src/gate/flat-tree.ts); "wasm" is web-tree-sitter, the reference, used
 * when the addon is unavailable. Both run the same grammar (tree-sitter-bash) and the same walk.
 */
export type ShellBackend = "native" | "wasm";
