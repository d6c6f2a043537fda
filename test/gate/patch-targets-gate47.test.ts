/**
 * Patches whose targets the gate cannot see (issue 19, gate47): `git apply --unsafe-paths` lets a
 * patch's own paths leave the work tree (`+++ /Users/dev/.ssh/authorized_keys`, `../../x`), and
 * `--directory=ROOT` for git apply or git am puts every target under ROOT; `patch` takes its
 * targets from the patch text. A patch file the gate did not read, applied where its targets may
 * lie outside the tree, is not ALLOW; the project's own patches applied in the tree stay ALLOW.
 */
import { packSteps, stepTable } from "./pack-verdict.js";

const table = stepTable(packSteps("g47p"));

table(
  "a patch whose targets may lie outside the tree",
  [
    ["git apply --unsafe-paths patches/home.patch"],
    ["git apply --unsafe-paths patches/keys.patch"],
    ["git apply --unsafe patches/keys.patch"],
    ["git apply -v --unsafe-paths --whitespace=fix x.patch"],
    ["git apply --unsafe-paths --check x.patch --apply"],
    ["git -C src apply --unsafe-paths ../x.patch"],
    ["git apply --directory=../../ x.patch"],
    ["git apply --directory ../other x.patch"],
    ["git apply --directory=/Users/dev x.patch"],
    ["git apply --directory ~/.ssh x.patch"],
    ['git apply --directory="$D" x.patch'],
    ["git am --directory=../other x.mbox"],
    ["git am --directory /tmp x.mbox"],
    ["patch -p0 < patches/home.patch"],
    ["patch -d / -p0 < x.patch"],
    ["patch -p1 -i x.patch"],
    ["patch ../../.zshrc < x.patch"],
  ],
  [
    ["git apply patches/ok.patch"],
    ["git apply -p1 --3way fix.patch"],
    ["git apply --directory=vendor/lib x.patch"],
    ["git apply --check --unsafe-paths x.patch"],
    ["git apply --stat x.patch"],
    ["git am --directory=sub x.mbox"],
  ],
);
