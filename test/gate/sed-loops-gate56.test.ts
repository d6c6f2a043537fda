/**
 * sed branch loops (issue 19, gate56): a `b`, `t` or `T` back to a label, on a path with no command
 * that reads input or exits, runs forever (sed joins its -e pieces into one script, so labels and
 * branches meet across them). gate50 caught an unaddressed `b` with no read since the label; these
 * rows are the rest of the class: `t` after an `s` that always succeeds, `T`, an address that
 * answers the same every time, a read the path jumps over. Every bad row was run with GNU sed 4.9
 * and did not end in 0.5 s; every good row ended (the note has the run).
 *
 * red36 resources-044 (`sed -n ':a' -e 'p;ba' README.md`) is not in the class: with an -e, `:a` is
 * an input file, not script, and GNU sed refuses `p;ba` ("can't find label for jump to `a'", exit 4).
 */
import { packTable } from "./pack-verdict.js";

const table = packTable("g56s");

table(
  "a sed branch that is taken every time, with no read on its path, never ends",
  [
    // t: the s before it always succeeds (its regex matches the empty string).
    "sed ':a;s/^/x/;ta' README.md > out.txt",
    "sed -e ':a' -e 's/$/ /' -e 't a' README.md",
    "sed ':a;s/.*/&/;ta' README.md",
    "sed -E ':a;s/x?/y/;ta' README.md",
    "sed ':a;s/a*/b/;ta' README.md",
    "sed ':a;s/\\(x\\)*/y/;ta' README.md",
    // T: taken whenever no s succeeded.
    "sed ':a;Ta' README.md",
    "sed ':a;s/zzz/y/;Ta' README.md",
    "sed -e :a -e 'T a' README.md",
    // b with an address that answers the same every time (nothing changes the pattern space).
    "sed -n ':a;$!ba' README.md",
    "sed -n ':a;/a/ba' README.md",
    "sed -n ':a;1ba' README.md",
    "sed -n ':top;p;/,/b top' README.md",
    "sed -n -e ':top' -e p -e '/,/b top' README.md",
    // a read the path jumps over; a block; a branch across -e pieces.
    "sed -n ':a;bz;n;:z;ba' README.md",
    "sed -n '/a/{:a;p;ba}' README.md",
    "sed -n -e ':a' -e 'p' -e 'b a' README.md",
    "sed -n --expression=:a --expression='p;ba' README.md",
    "sed -n ':a;p;/zz/q;ba' README.md",
    "sed -i ':a;s/^/x/;ta' notes.txt",
  ],
  [
    "sed -n ':a' -e 'p;ba' README.md > out.txt",
    "sed ':a;N;$!ba;s/\\n/ /g' README.md",
    "sed -e :a -e '$!N;s/\\n//;ta' README.md",
    "sed ':a;s/,//;ta' README.md",
    "sed ':a;s/,//;/,/ba' README.md",
    "sed -n ':a;p;q;ba' README.md",
    "sed -n 'p;b' README.md",
    "sed ':a;s/x/y/;ta' README.md",
    "sed -n ':a;n;ba' README.md",
    "sed ':a;s/^ //;ta' README.md",
    "sed -e ':a' -e 's/^\\(.\\{1,9\\}\\)$/ \\1/;ta' README.md",
    "sed 's/foo/bar/g' README.md",
    "sed -n '/start/,/end/p' README.md",
  ],
);
