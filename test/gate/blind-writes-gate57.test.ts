/**
 * Files a language runtime writes (issue 19, red38 gap 2, gate57): session code that writes files
 * (`open(…,'w')`, `fs.writeFileSync`, `os.WriteFile`, `std::fs::write`, `File.write`, `Bun.write`,
 * `Deno.writeTextFile`) writes names that are strings inside it. A run of it marks its workspace
 * blind (an artefact with `blind`), so whatever later runs or loads a workspace file (a script,
 * make, npm, pytest, a sourced file, git's hooks and config) is a session artefact: ESCALATE.
 */
import { describe, expect, it } from "vitest";
import { CWD, packSteps, type Step, stepTable } from "./pack-verdict.js";

const last = packSteps("g57w", { last: true });
const table = stepTable(last);
const write = (path: string, content: string): Step => ({
  kind: "file.write",
  path: `${CWD}/${path}`,
  content,
});

/** Writers, one per language and API, each with the command that runs it; none names a capability. */
const WRITERS: [string, Step, string][] = [
  ["python open w", write("scripts/a.py", "open('out/x','w').write('y')\n"), "python3 scripts/a.py"],
  ["python open a", write("scripts/b.py", "f = open(name, mode='a')\nf.write(s)\n"), "python scripts/b.py"],
  [
    "python pathlib",
    write("scripts/c.py", "import pathlib\npathlib.Path(n).write_text(t)\n"),
    "python3 scripts/c.py",
  ],
  ["python shutil", write("scripts/d.py", "import shutil\nshutil.copyfile(a, b)\n"), "python3 scripts/d.py"],
  ["python json.dump", write("scripts/e.py", "import json\njson.dump(p, f)\n"), "python3 scripts/e.py"],
  [
    "node fs.writeFileSync",
    write("scripts/f.js", "require('fs').writeFileSync(n, t)\n"),
    "node scripts/f.js",
  ],
  [
    "node fs/promises",
    write("scripts/g.mjs", "import { writeFile } from 'node:fs/promises'\nawait writeFile(n,t)\n"),
    "node scripts/g.mjs",
  ],
  [
    "node appendFileSync",
    write("scripts/h.cjs", "const fs=require('fs');fs.appendFileSync(n,t)\n"),
    "node scripts/h.cjs",
  ],
  ["bun write", write("scripts/i.ts", "await Bun.write(n, t)\n"), "bun scripts/i.ts"],
  [
    "deno writeTextFile",
    write("scripts/j.ts", "await Deno.writeTextFile(n, t)\n"),
    "deno run -A scripts/j.ts",
  ],
  [
    "tsx createWriteStream",
    write("scripts/k.ts", "import {createWriteStream} from 'fs'\ncreateWriteStream(n).end(t)\n"),
    "bun scripts/k.ts",
  ],
  [
    "go os.WriteFile",
    write("tools/w/main.go", 'package main\nimport "os"\nfunc main(){os.WriteFile(n,b,0644)}\n'),
    "go run ./tools/w",
  ],
  [
    "go os.Create",
    write("tools/v/main.go", 'package main\nimport "os"\nfunc main(){f,_:=os.Create(n);f.Close()}\n'),
    "go run ./tools/v",
  ],
  ["rust fs::write", write("src/main.rs", 'fn main(){std::fs::write("x","y").unwrap();}\n'), "cargo run"],
  [
    "rust File::create",
    write("src/main.rs", 'use std::fs::File;\nfn main(){File::create("x").unwrap();}\n'),
    "cargo run -q",
  ],
  ["ruby File.write", write("scripts/l.rb", "File.write(n, t)\n"), "ruby scripts/l.rb"],
  ["ruby File.open a", write("scripts/m.rb", "File.open(n,'a'){|f| f.write(t)}\n"), "ruby scripts/m.rb"],
  [
    "ruby FileUtils",
    write("scripts/n.rb", "require 'fileutils'\nFileUtils.cp(a, b)\n"),
    "bundle exec ruby scripts/n.rb",
  ],
];

/** What runs or loads a workspace file afterwards. */
const FOLLOWERS = [
  "bash tools/fmt.sh",
  "sh run.sh",
  "zsh deploy.zsh",
  "./gen.sh",
  "source .dev.sh",
  ". ./env.sh",
  "make",
  "npm test",
  "npm run build",
  "pnpm install",
  "yarn install",
  "bun test",
  "just",
  "pytest -q",
  "uv run pytest",
  "git status",
  "git commit -qm wip",
  "git log -1",
  "git push",
];

describe("a run of session code that writes files makes every later workspace run a session artefact", () => {
  for (const [name, w, run] of WRITERS)
    table(
      name,
      FOLLOWERS.map((f) => [w, run, f]),
      // The writer and its run stay as they were; reading files afterwards is not running them.
      [
        [w, run],
        [w, run, "cat README.md"],
        [w, run, "ls -la"],
      ],
    );
  table("in one line", [
    [WRITERS[0]![1], `${WRITERS[0]![2]} && bash tools/fmt.sh`],
    [WRITERS[5]![1], `${WRITERS[5]![2]}; sh run.sh`],
  ]);
});

describe("code that writes no files marks nothing", () => {
  table(
    "pure scripts",
    [],
    [
      [
        write("scripts/p.py", "import json\nprint(json.dumps(json.load(open('package.json'))))\n"),
        "python3 scripts/p.py",
        "make",
      ],
      [
        write("scripts/q.js", "console.log(require('fs').readFileSync('a','utf8'))\n"),
        "node scripts/q.js",
        "npm test",
      ],
      [write("scripts/r.rb", "puts File.read('x')\n"), "ruby scripts/r.rb", "git status"],
    ],
  );
  it("names the run and the writer", () => {
    const v = last(WRITERS[0]![1], WRITERS[0]![2], "make");
    expect(v.evaluation).toBe("ESCALATE");
    expect(v.reasons.join("\n")).toContain("scripts/a.py");
  });
});
