/**
 * A glob word with no `*` names a few names of one length (issue 19, gate49; red35
 * word-obfuscation-038, `cat .en[v]`): an obfuscated name, not any name, so it meets the pack's
 * patterns at any depth (`**\/.env`, `**\/*.key`) as well as the fixed places it met before. A word
 * with `*` still meets only the fixed places (`cat src/*.ts`, `rm -rf *` name no secret).
 */
import { packTable } from "./pack-verdict.js";

const table = packTable("g49n");

table(
  "star-free glob words that can only be a secret's name",
  [
    "cat .en[v]",
    "cat .en?",
    "cat .[e]nv",
    "cat ./.en[v]",
    "cat config/.en[v]",
    "cat ~/project/.e[n]v",
    "head -n 5 .en[v]",
    "grep -r KEY .en[v]",
    "cat server.ke[y]",
    "cat id_rs[a]",
    "cp .en[v] /tmp/x",
    "tar czf /tmp/a.tgz .en[v]",
  ],
  [
    "cat src/*.ts",
    "ls *.md",
    "cat src/[a-z].ts",
    "rm -f file?.txt",
    "cat README.m[d]",
    "ls src/?",
    "cat .env.example",
  ],
);
