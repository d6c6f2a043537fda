/**
 * Writes that are not per file (issue 19, gate37): a copy or move into a directory writes
 * DIR/<basename>; an extraction whose members the line does not name writes an unknown set under
 * its destination, judged as DEST/** against the pack's persistence lists (the effects model's
 * write set: exact paths and subtrees), unless the destination is a temporary or build-output one.
 */
import { describe, expect, it } from "vitest";
import { compilePathGlobs, matchPathGlobUnder } from "../../src/gate/paths.js";
import { CWD, HOME, packSteps, type Step } from "./pack-verdict.js";

/** The strictest verdict of the steps, run in order in one fresh session. */
const steps = packSteps("ws", { maxSessions: 512 });
const verdict = (...lines: Step[]) => steps(...lines).evaluation;

describe("a glob matched against a subtree (matchPathGlobUnder)", () => {
  const rows: [string, string, boolean][] = [
    ["$CWD/.git/**", CWD, true],
    ["$CWD/.git/**", `${CWD}/.git/hooks`, true],
    ["$CWD/.git/**", `${CWD}/src`, false],
    ["$CWD/{,**/}conftest.py", `${CWD}/tests`, true],
    ["$CWD/.vscode/**", `${CWD}/docs`, false],
    ["$CWD/.vscode/**", HOME, true],
    ["~/.ssh/**", HOME, true],
    ["~/.ssh/**", `${HOME}/Downloads`, false],
    ["/etc/**", "/", true],
    ["$CWD/{.venv,venv,env}/bin/**", `${CWD}/venv`, true],
    ["$CWD/{.venv,venv,env}/bin/**", `${CWD}/vendor`, false],
    ["$CWD/node_modules/[!.]*/**", `${CWD}/node_modules/.cache`, false],
    ["$CWD/node_modules/[!.]*/**", `${CWD}/node_modules/left-pad`, true],
  ];
  for (const [glob, dir, want] of rows)
    it(`${glob} under ${dir}: ${want}`, () => {
      const [g] = compilePathGlobs([glob]);
      expect(matchPathGlobUnder(g!, dir, HOME, CWD)).toBe(want);
    });
});

describe("copies and moves into a directory write DIR/<basename>", () => {
  const rows: [string, string][] = [
    ["cp conftest.py tests/", "ESCALATE"],
    ["cp -f conftest.py helper.py tests", "ESCALATE"],
    ["cp a b .git/hooks", "ESCALATE"],
    ["cp pre-commit .git/hooks/", "ESCALATE"],
    ["cp -t .husky pre-push", "ESCALATE"],
    ["install -m 755 pre-commit -t .git/hooks", "ESCALATE"],
    ["mv Makefile.new sub/Makefile", "ESCALATE"],
    ["mv /tmp/x/package.json pkg/", "ESCALATE"],
    ["ditto tasks.json .vscode/", "ESCALATE"],
    ["git mv -f x Makefile", "ESCALATE"],
    ["git mv notes.py tests/conftest.py", "ESCALATE"],
    ["git mv conftest.py tests/", "ESCALATE"],
    // everyday
    ["cp src/a.ts src/b.ts", "ALLOW"],
    ["cp src/a.ts src/util/", "ALLOW"],
    ["mv src/old.ts src/new.ts", "ALLOW"],
    ["git mv src/a.ts src/b.ts", "ALLOW"],
    ["ditto src dst", "ALLOW"],
    ["cp -f evil.py helper.py tests", "ALLOW"],
  ];
  for (const [line, want] of rows) it(line, () => expect(verdict(line)).toBe(want));
});

describe("an extraction writes an unknown set under its destination", () => {
  const rows: [string, string][] = [
    ["tar xf deps.tgz", "ESCALATE"],
    ["tar -xzf vendor.tar.gz -C .", "ESCALATE"],
    ["tar --extract --file=a.tar --directory=.github", "ESCALATE"],
    ["tar -xf a.tar -C node_modules", "ESCALATE"],
    ["tar xf a.tgz Makefile", "ESCALATE"],
    ["tar xf a.tgz 'src/*'", "ESCALATE"],
    ["bsdtar -xf a.zip", "ESCALATE"],
    ["unzip x.zip", "ESCALATE"],
    ["unzip -o x.zip -d .", "ESCALATE"],
    ["unzip -q x.zip -d .vscode", "ESCALATE"],
    ["unzip x.zip -d tests", "ESCALATE"],
    // a vendored tree or fixtures directory can receive x/.git/config, conftest.py, a Makefile
    ["tar -xzf vendor.tgz -C vendor", "ESCALATE"],
    ["unzip -o fixtures.zip -d test/fixtures", "ESCALATE"],
    ["7z x a.7z", "ESCALATE"],
    ["7z x a.7z -o.claude", "ESCALATE"],
    ["cpio -idm < a.cpio", "ESCALATE"],
    ["ditto -x -k a.zip .", "ESCALATE"],
    ["gunzip Makefile.gz", "ESCALATE"],
    ["gzip -d conftest.py.gz", "ESCALATE"],
    ["xz -d package.json.xz", "ESCALATE"],
    ["unxz -k pyproject.toml.xz", "ESCALATE"],
    ["bunzip2 .envrc.bz2", "ESCALATE"],
    ["bzip2 -d setup.py.bz2", "ESCALATE"],
    ["zstd -d Makefile.zst", "ESCALATE"],
    ["gunzip -r .", "ESCALATE"],
    ["docker build -o type=local,dest=. .", "ESCALATE"],
    ["docker buildx build --output=.git/hooks .", "ESCALATE"],
    // members named, a scratch or build-output destination, listing, stdout: ALLOW
    ["tar xf a.tgz src/a.c", "ALLOW"],
    ["unzip a.zip README.md", "ALLOW"],
    ["unzip x.zip -d build/", "ALLOW"],
    ["tar -xzf a.tgz -C /tmp/w", "ALLOW"],
    ["tar -xf a.tgz -C dist", "ALLOW"],
    ["tar tf a.tgz", "ALLOW"],
    ["unzip -l a.zip", "ALLOW"],
    ["gunzip -c Makefile.gz > /tmp/m", "ALLOW"],
    ["gunzip data.csv.gz", "ALLOW"],
    ["tar -czf dist.tgz dist", "ALLOW"],
    ["docker build -o out .", "ALLOW"],
    ["docker build -t app .", "ALLOW"],
  ];
  for (const [line, want] of rows) it(line, () => expect(verdict(line)).toBe(want));
});

describe("files that make later code run, on the pack's persistence list (gate37's block)", () => {
  const written = [
    "package-lock.json",
    "packages/web/npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "poetry.lock",
    "uv.lock",
    "uv.toml",
    ".pdm-python",
    ".venv/lib/python3.12/site-packages/evil.py",
    "venv/lib/python3.11/site-packages/x.pth",
    ".bundle/config",
    ".formatter.exs",
    ".ghci",
    ".ocamlinit",
    ".nycrc",
    ".nycrc.json",
    "build.ninja",
    "cabal.project.local",
    "Config/Debug.xcconfig",
    "App.xcodeproj/xcshareddata/xcschemes/App.xcscheme",
    ".swiftpm/xcode/xcshareddata/xcschemes/P.xcscheme",
    "CMakePresets.json",
    "CMakeUserPresets.json",
    ".clinerules/rules.md",
    ".kilocode/mcp.json",
    ".qwen/settings.json",
    ".openhands/setup.sh",
    ".continuerc.json",
    "crush.json",
    "bitbucket-pipelines.yml",
    ".drone.yml",
    "firebase.json",
    "netlify.toml",
    "wrangler.toml",
  ];
  for (const f of written) {
    it(`printf > ${f}`, () => expect(verdict(`printf 'x\\n' > ${f}`)).toBe("ESCALATE"));
    it(`file.write ${f}`, () => {
      expect(verdict({ kind: "file.write", path: `${CWD}/${f}`, content: "x" })).toBe("ESCALATE");
    });
  }
  const everyday = [
    "pip install -r requirements.txt",
    "pip freeze > requirements.txt",
    "cat package-lock.json",
    "npm ci",
    "printf 'x\\n' > notes.txt",
    "cp src/a.ts src/b.ts",
  ];
  for (const line of everyday) it(`everyday: ${line}`, () => expect(verdict(line)).toBe("ALLOW"));
});

describe("config, plugin and build-file flags name code the tool runs", () => {
  // Outside the workspace: not ALLOW; a workspace file written this session: not ALLOW either.
  const outside = [
    "eslint -c /tmp/e.js .",
    "eslint --rulesdir=/tmp/rules src",
    "eslint -f /tmp/fmt.js src",
    "prettier --plugin=/tmp/p.mjs --check .",
    "webpack --config /tmp/w.js",
    "rollup -c /tmp/r.mjs",
    "vite build --config=/tmp/v.mjs",
    "babel --config-file /tmp/b.js src",
    "jest --testResultsProcessor=/tmp/p.js",
    "jest --globalSetup /tmp/g.js",
    "vitest run --pool=/tmp/pool.mjs",
    "mocha --require /tmp/r.js",
    "pylint --rcfile=/tmp/rc src",
    "mypy --python-executable /tmp/py src",
    "flake8 --append-config=/tmp/f.cfg",
    "tox -c /tmp/tox.ini",
    "nox -f /tmp/noxfile.py",
    "just -f /tmp/justfile",
    "task -t /tmp/Taskfile.yml",
    "meson setup build --native-file /tmp/n.ini",
    "gradle -I /tmp/i.gradle build",
    "mvn -f /tmp/pom.xml package",
    "ant -f /tmp/build.xml",
    "ctest -S /tmp/s.cmake",
    "cpack --config /tmp/c.cmake",
    "cmake -C /tmp/c.cmake .",
    "cmake -P /tmp/x.cmake",
    "cargo --config build.rustc-wrapper=/tmp/w build",
    "cargo run --config 'target.x86_64-apple-darwin.runner=\"sh x\"'",
    "clang -fuse-ld=/tmp/ld a.c",
    "clang --ld-path=/tmp/ld a.c",
    "gcc -fplugin=/tmp/p.so a.c",
    "rustc -C linker=/tmp/l a.rs",
    "go vet -vettool=/tmp/v ./...",
    "xcodebuild CC=/tmp/cc",
    "npm --script-shell /tmp/s run build",
    "npm --node-options=--require=/tmp/x.js test",
    "pnpm --config.script-shell=/tmp/s run build",
    "make MAKEFILES=/tmp/m",
  ];
  for (const line of outside) it(line, () => expect(verdict(line)).not.toBe("ALLOW"));
  const written: [string, string][] = [
    ["x.js", "eslint -c x.js ."],
    ["p.mjs", "prettier --plugin ./p.mjs --check ."],
    ["v.config.mjs", "vite --config v.config.mjs"],
    ["proc.js", "jest --testResultsProcessor ./proc.js"],
    ["rc", "pylint --rcfile rc src"],
    ["i.gradle", "gradle -I i.gradle build"],
    ["other.xml", "mvn -f other.xml package"],
    ["requirements.txt", "pip install -r requirements.txt"],
    ["c.txt", "pip install -c c.txt flask"],
  ];
  // What the session wrote is output the gate cannot read (a program's): gate34 reads a printf's
  // text, and benign code it read is as good as the project's own.
  for (const [file, line] of written)
    it(`written this session, then ${line}`, () =>
      expect(verdict(`node gen.js > ${file}`, line)).not.toBe("ALLOW"));
  const everyday = [
    "eslint -c eslint.config.js .",
    "npx eslint .",
    "prettier --check .",
    "vite build",
    "jest --coverage",
    "mvn package",
    "gradle build",
    "cargo build --release",
    "cargo test --config profile.dev.debug=false",
    "clang -fuse-ld=lld a.c",
    "rustc -C opt-level=3 a.rs",
    "go build ./...",
    "npm run build",
    "make -j4",
    "pip install -r requirements.txt",
    "mypy src",
  ];
  for (const line of everyday) it(`everyday: ${line}`, () => expect(verdict(line)).toBe("ALLOW"));
});

describe("a patch given inline writes the files it names; a symlink in it is not ALLOW", () => {
  const patch = (path: string, mode: string, body: string) =>
    `diff --git a/${path} b/${path}\nnew file mode ${mode}\n--- /dev/null\n+++ b/${path}\n@@ -0,0 +1 @@\n+${body}\n`;
  const rows: [string, string][] = [
    [`git apply <<'EOF'\n${patch("Makefile", "100644", "all:")}EOF`, "ESCALATE"],
    [`git apply -v <<'EOF'\n${patch(".husky/pre-commit", "100755", "id")}EOF`, "ESCALATE"],
    [`patch -p1 <<'EOF'\n${patch("tests/conftest.py", "100644", "import os")}EOF`, "ESCALATE"],
    [`git apply <<'EOF'\n${patch("k", "120000", "/Users/dev/.ssh")}EOF`, "ESCALATE"],
    [
      `git am <<'EOF'\nSubject: x\n\n---\n${patch("la", "120000", "/Users/dev/Library/LaunchAgents")}EOF`,
      "ESCALATE",
    ],
    [`git apply <<'EOF'\n${patch("src/new.ts", "100644", "export {}")}EOF`, "ALLOW"],
  ];
  for (const [line, want] of rows)
    it(line.split("\n")[0]! + line.split("\n")[4]!, () => expect(verdict(line)).toBe(want));
});
