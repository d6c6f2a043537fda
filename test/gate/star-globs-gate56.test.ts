/**
 * Star globs of secret names (issue 19, gate56; stop 32's open class `cat .env*`, `cat deploy_k*`):
 * a `*` word whose last segment holds part of a name (`.env*`, `deploy_k*`, `id_ed*`, `*secret*`,
 * `*_rsa`) names every file that shares it, so it meets the credential table's and the secret
 * lists' globs at any depth (`**` + `/.env`, `**` + `/deploy_key*`) when its literal characters meet
 * the glob's literal characters (`README*` does not meet `*.key`, though `README.key` matches both).
 * A word with an extension alone (`*.p12`) meets the globs that name files by that extension; `*`
 * alone (a directory's worth: `grep -rn TODO *`) meets only the fixed places, as before. Rows that
 * were ESCALATE on 7f55e3e already (the anchored places, `*.p12`) are here as the class's other
 * spellings; the rest fail there. `cat .envrc.example` is a template, as `.env.example` is: ALLOW.
 */
import { describe, expect, it } from "vitest";
import { nameReach, shellPattern } from "../../src/gate/glob-meet.js";
import { packTable } from "./pack-verdict.js";

const table = packTable("g56g");

table(
  "a * glob that can name a secret file by its name is a secret read",
  [
    "cat .env*",
    "cat .env.*",
    "cat .en*",
    "head .env*",
    "grep -r KEY .env*",
    "cp .env* /tmp/x",
    "tar czf /tmp/a.tgz .env*",
    "zip -q /tmp/x.zip .env*",
    "cat deploy_k*",
    "cat deploy_key*",
    "cat ~/.ssh/id_*",
    "cat ~/.ssh/*",
    "grep -r x config/*secret*",
    "cat config/*credentials*",
    "cat *_rsa",
    "xxd id_ed*",
    "cat *.p12",
    "cat certs/*.pfx",
    "base64 *.ppk",
    "cat *.tfvars",
    "cat .npmr*",
    "cat */.env",
    "head -n 3 */.env",
    "cat **/.env",
    "cat .aws*/credentials",
    "cat config/master.k*",
    "cat *.keystore",
  ],
  [
    "ls *.ts",
    "cat src/*.ts",
    "cat .envrc.example",
    "cat .env.example",
    "cat *.md",
    "cat docs/*.json",
    "cat *.json",
    "cat .github/workflows/*.yml",
    "grep -rn TODO *",
    "rm -rf dist/*",
    "rm -f *.log",
    "cat *",
    "cat README*",
    "cat test/test_*.py",
    "cat src/*.test.ts",
    "head -n 20 logs/*.log",
    "wc -l src/**/*.ts",
    "cat package*.json",
    "cat tsconfig*.json",
    "cat Dockerfile*",
    "cat docker-compose*.yml",
    "cat CHANGELOG*",
    "grep -n import src/*.py",
    "cat config/*.example",
  ],
);

describe("nameReach: what a glob's last segment says of a name", () => {
  it.each([
    [".env*", 2],
    ["deploy_k*", 2],
    ["*secret*", 2],
    ["*_rsa", 2],
    ["a/*/.env", 2],
    ["*.pem", 1],
    ["src/*.test.ts", 1],
    ["*", 0],
    ["*.*", 0],
    ["src/**", 0],
  ])("%s is %i", (word, reach) => expect(nameReach(shellPattern(`/p/${word}`)[0]!)).toBe(reach));
});
