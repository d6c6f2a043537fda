/**
 * What a setting's name says it holds (issue 19, gate54): a program or library a tool runs or
 * loads, another program's options, or neither. One rule over the name's parts for every place a
 * setting is given (a build tool's `-Dk=v` / `-p:k=v` / `K=V`, a variable of the line or of an
 * action's env), instead of a list of names that trails the ecosystem; and one reader of option
 * strings (`flagsLoad`) for the code they load.
 */

/** Key parts that name a program or library on their own (the key's last part). */
const PROGRAM_PART = new Set([
  ...["executable", "exe", "exec", "compiler", "linker", "ld", "cc", "cxx", "cplusplus", "ldplusplus"],
  ...["libtool", "javac", "java", "jvm", "jdk", "wrapper", "launcher", "interpreter", "preload"],
  ...["plugin", "plugins", "agent", "agentpath", "agents", "preprocessor", "ppx", "toolchain"],
  ...["toolchains", "home", "shell", "bin", "binary", "runner", "program"],
]);
/** A last part that is a place (`...Path`, `..._DIR`) names a program when the part before it does. */
const PLACE_PART = new Set(["path", "paths", "dir", "directory", "dirs", "root", "prefix", "location"]);
const PLACE_OF = new Set([
  ...["tool", "tools", "compiler", "linker", "exec", "java", "jdk", "jvm", "plugin", "plugins"],
  ...["agent", "bin", "host", "sdk", "toolchain", "program", "executable", "exe", "libexec", "node"],
  // gate60: `org.gradle.java.installations.paths` (the JDKs Gradle's toolchains pick from and run).
  "installations",
]);
/** A key part that holds another program's options (`CFLAGS`, `OTHER_SWIFT_FLAGS`, `jvmArgs`, `argLine`). */
const OPTIONS_PART = /(?:flags|opts|options|args|arguments|argline|^params?)$/;

/** What a property's or variable's key names: a program the tool runs, options, or neither. */
export function propertyKind(key: string): "program" | "options" | null {
  const parts = key
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((p) => p !== "");
  const last = parts[parts.length - 1];
  if (last === undefined) return null;
  const before = parts[parts.length - 2];
  if (OPTIONS_PART.test(last) || (before !== undefined && OPTIONS_PART.test(before + last))) return "options";
  if (PROGRAM_PART.has(last)) return "program";
  if (PLACE_PART.has(last) && before !== undefined && PLACE_OF.has(before)) return "program";
  return null;
}

/**
 * The program or library a string of compiler, linker or JVM options makes the tool run or load
 * (gate54; "" when it is code or a command of unknown place), else null. One reader for every
 * place such a string is given: make's CFLAGS=, an IDE build setting (OTHER_CFLAGS, OTHER_LDFLAGS),
 * a JVM's argLine / jvmArgs, `--ghc-options`, go's -extldflags, a variable (CFLAGS, CGO_LDFLAGS).
 */
export function flagsLoad(v: string): string | null {
  const w = v.split(/\s+/).map((t) => t.replace(/^(["'])(.*)\1$/, "$2"));
  for (let i = 0; i < w.length; i++) {
    const t = w[i]!;
    if (t === "") continue;
    const next = w[i + 1] ?? "";
    // JVM: an agent, a boot class path, a command run on an error.
    let m = /^-(?:javaagent|agentpath):([^=]*)/.exec(t) ?? /^-Xbootclasspath\/[ap]:(.*)$/.exec(t);
    if (m) return m[1]!;
    if (/^-agentlib:(?!jdwp\b)/.test(t) || /^-XX:On(?:Error|OutOfMemoryError)=/.test(t)) return "";
    // C compilers: plugins, tool directories, linker programs; ghc's -pgm*, ocaml's -ppx.
    m =
      /^(?:-fplugin=|-fpass-plugin=|-fplugin-library=|--ld-path=|-fuse-ld=(?=[./~])|-Xplugin=|-Xcompiler-plugin=)(.+)$/.exec(
        t,
      );
    if (m) return m[1]!;
    if ((t === "-B" || /^-pgm\w+$/.test(t) || t === "-ppx" || t === "-pp") && next !== "")
      return t === "-B" || next.includes("/") ? next : null;
    if (/^-B./.test(t)) return t.slice(2);
    if (/^-(?:load-plugin-library|load-plugin-executable|plugin-path|external-plugin-path)$/.test(t))
      return next;
    // What the linker loads: `-Wl,-lto_library,P`, `-Xlinker -plugin -Xlinker P`, `--plugin=P`.
    const ld = t.startsWith("-Wl,") ? t.slice(4).split(",") : t === "-Xlinker" ? [next] : [t];
    for (let j = 0; j < ld.length; j++) {
      const a = ld[j]!;
      if (/^--?(?:plugin|lto_library|load-pass-plugin)=(.+)$/.test(a)) return a.slice(a.indexOf("=") + 1);
      if (/^--?(?:plugin|lto_library|load-pass-plugin|mllvm)$/.test(a)) {
        const after = ld[j + 1] ?? (t === "-Xlinker" ? w[i + 3] : w[i + 1]);
        return after ?? "";
      }
    }
    if (t === "-Xclang" && /^-(?:load|plugin|add-plugin|load-pass-plugin)$/.test(next)) return w[i + 3] ?? "";
  }
  return null;
}
