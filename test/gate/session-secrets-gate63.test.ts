/**
 * Secrets that leave through read-only tools, state kept across steps, and what git is told to
 * keep (issue 19, red39's secret-read, exfiltration, git-code-runners and taint classes).
 *
 * - A secret-named variable's value fed to a program on stdin (a here-string, an unquoted heredoc)
 *   is a secret read whatever the program, as `echo "$GITHUB_TOKEN"` is: a filter prints its input.
 * - `git add -f` and a negation written to .gitignore / .git/info/exclude stage files the project
 *   kept out of git: the session is `secret-staged`, and a push or a code host's upload after it
 *   is reviewed.
 * - A pull request's head (or a URL's, or a remote the session added) checked out is someone
 *   else's code: the project's tests and builds after it run what the gate never saw.
 */
import { CWD, packSteps, type Step, stepTable } from "./pack-verdict.js";

const steps = packSteps("g63");
const table = stepTable(steps);
const one = (...lines: string[]): Step[][] => lines.map((l) => [l]);

table(
  "an environment secret on a read-only tool's stdin is a secret read",
  one(
    'cat <<< "$AWS_SECRET_ACCESS_KEY"',
    'cat <<< "$NPM_TOKEN"',
    'tee <<< "$ANTHROPIC_API_KEY" /dev/null',
    'base64 <<< "$GITHUB_TOKEN"',
    'awk 1 <<< "$OPENAI_API_KEY"',
    'sed -n p <<< "$AWS_SECRET_ACCESS_KEY"',
    'rev <<< "$NPM_TOKEN" | rev',
    "cat <<EOF\n$ANTHROPIC_API_KEY\nEOF",
    "cat <<EOF\nkey=${STRIPE_SECRET_KEY}\nEOF",
    'xxd <<< "$STRIPE_SECRET_KEY"',
    'od -c <<< "$GH_TOKEN"',
    'tr a a <<< "$SLACK_BOT_TOKEN"',
    'cut -c1- <<< "$DATABASE_URL"',
    'head -1 <<< "$VAULT_TOKEN"',
    "cat <<EOF\n${!v}\nEOF",
    'timeout 5 cat <<< "$NPM_TOKEN"',
    'printf %s "$OPENAI_API_KEY" | od -c',
    'echo "$GITHUB_TOKEN"',
  ),
  one(
    'echo "$HOME"',
    "echo $PATH",
    "printf '%s\\n' \"$NODE_ENV\"",
    'base64 <<< "$HOME"',
    "cat <<EOF\nhome is $HOME, user ${USER}\nEOF",
    // A quoted heredoc expands nothing: the text is the name, not the value.
    "cat <<'EOF'\n$ANTHROPIC_API_KEY\nEOF",
    'cat <<"EOF"\n$ANTHROPIC_API_KEY\nEOF',
    '[ -n "$GITHUB_TOKEN" ] && echo set',
    '[[ -z "$NPM_TOKEN" ]] || echo set',
  ),
);
