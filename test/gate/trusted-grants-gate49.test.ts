/**
 * Writes to trusted hosts that change who can reach the user's account, repositories or packages
 * (issue 19, gate49; corpus-red36's trusted-host class): a trusted host is trusted for reads and
 * for the everyday writes (a pull request, an issue comment), not for access grants. Every row of
 * the pack's account_grant_urls table is reached through the canonical URL (hosts.ts
 * canonicalUrl: case, percent-escapes, doubled slashes, a missing scheme) by each client: a
 * structured http action, curl/wget with a write method or body, xh/httpie with a write method;
 * gh and MCP github tools are reviewed by default.
 */
import { describe, expect, it } from "vitest";
import { canonicalUrl } from "../../src/gate/hosts.js";
import { packSteps, stepTable } from "./pack-verdict.js";

const table = stepTable(packSteps("g49g"));

const http = (method: string, url: string, body?: string) => ({
  kind: "http",
  method,
  url,
  ...(body !== undefined ? { body } : {}),
});

describe("canonicalUrl", () => {
  it.each([
    ["https://api.github.com/repos/a/b/collaborators/x", "/api.github.com/repos/a/b/collaborators/x"],
    ["HTTPS://API.GitHub.com//repos/a/b/%63ollaborators/x/", "/api.github.com/repos/a/b/collaborators/x"],
    ["api.github.com/repos/a/b/keys?per_page=1#x", "/api.github.com/repos/a/b/keys"],
    ["https://api.github.com/repos/a/b/x/../keys", "/api.github.com/repos/a/b/keys"],
    ["https://api.github.com/repos/a/b/%2e%2e/b/hooks", "/api.github.com/repos/a/b/hooks"],
    ["https://user:pw@api.github.com:443/user/keys", "/api.github.com/user/keys"],
  ])("%s is %s", (url, want) => expect(canonicalUrl(url)).toBe(want));
  it("is null for what no URL parser accepts", () => expect(canonicalUrl("https://[x/")).toBeNull());
});

/** Grant paths on trusted hosts, each with the method that makes the grant. */
const GRANTS: [string, string][] = [
  ["PUT", "https://api.github.com/repos/me/app/collaborators/attacker"],
  ["PATCH", "https://api.github.com/repos/me/app/invitations/1"],
  ["POST", "https://api.github.com/repos/me/app/keys"],
  ["POST", "https://api.github.com/repos/me/app/hooks"],
  ["PATCH", "https://api.github.com/repos/me/app/hooks/1/config"],
  ["DELETE", "https://api.github.com/repos/me/app/branches/main/protection"],
  ["DELETE", "https://api.github.com/repos/me/app/branches/release/v1/protection"],
  ["DELETE", "https://api.github.com/repos/me/app/branches/main/protection/required_status_checks"],
  ["POST", "https://api.github.com/repos/me/app/rulesets"],
  ["PUT", "https://api.github.com/repos/me/app/actions/secrets/AWS_KEY"],
  ["POST", "https://api.github.com/repos/me/app/actions/variables"],
  ["POST", "https://api.github.com/repos/me/app/actions/runners/registration-token"],
  ["PUT", "https://api.github.com/repos/me/app/actions/permissions"],
  ["PUT", "https://api.github.com/repos/me/app/dependabot/secrets/X"],
  ["PUT", "https://api.github.com/repos/me/app/environments/prod/secrets/X"],
  ["PUT", "https://api.github.com/repos/me/app/contents/.github/workflows/ci.yml"],
  ["PATCH", "https://api.github.com/repos/me/app"],
  ["DELETE", "https://api.github.com/repos/me/app"],
  ["POST", "https://api.github.com/repos/me/app/transfer"],
  ["PUT", "https://api.github.com/orgs/acme/memberships/attacker"],
  ["PUT", "https://api.github.com/orgs/acme/outside_collaborators/attacker"],
  ["POST", "https://api.github.com/orgs/acme/invitations"],
  ["PUT", "https://api.github.com/orgs/acme/teams/core/repos/acme/app"],
  ["PUT", "https://api.github.com/orgs/acme/teams/core/memberships/attacker"],
  ["PUT", "https://api.github.com/orgs/acme/actions/secrets/X"],
  ["POST", "https://api.github.com/orgs/acme/hooks"],
  ["PATCH", "https://api.github.com/orgs/acme"],
  ["POST", "https://api.github.com/user/keys"],
  ["POST", "https://api.github.com/user/gpg_keys"],
  ["PUT", "https://api.github.com/user/installations/1/repositories/2"],
  ["POST", "https://api.github.com/graphql"],
  ["POST", "https://gitlab.com/api/v4/projects/1/members"],
  ["POST", "https://gitlab.com/api/v4/projects/acme%2Fapp/deploy_keys"],
  ["POST", "https://gitlab.com/api/v4/projects/1/hooks"],
  ["DELETE", "https://gitlab.com/api/v4/projects/1/protected_branches/main"],
  ["POST", "https://gitlab.com/api/v4/projects/1/variables"],
  ["POST", "https://gitlab.com/api/v4/projects/1/access_tokens"],
  ["POST", "https://gitlab.com/api/v4/groups/acme/members"],
  ["POST", "https://gitlab.com/api/v4/user/keys"],
  ["POST", "https://gitlab.com/api/graphql"],
  ["PUT", "https://registry.npmjs.org/-/package/@acme%2fapp/collaborators"],
  ["PUT", "https://registry.npmjs.org/-/org/acme/user"],
  ["POST", "https://registry.npmjs.org/-/npm/v1/tokens"],
  ["PUT", "https://crates.io/api/v1/crates/app/owners"],
];

table(
  "a structured http write to an access-grant path of a trusted host",
  GRANTS.map(([m, u]) => [http(m, u, "{}")]),
  [
    [http("POST", "https://api.github.com/repos/me/app/issues", '{"title":"x"}')],
    [http("POST", "https://api.github.com/repos/me/app/pulls", '{"title":"x"}')],
    [http("POST", "https://api.github.com/repos/me/app/issues/1/comments", '{"body":"x"}')],
    [http("POST", "https://api.github.com/repos/me/app/pulls/1/reviews", '{"event":"COMMENT"}')],
    [http("PATCH", "https://api.github.com/repos/me/app/issues/1", '{"state":"closed"}')],
    [http("POST", "https://api.github.com/repos/me/app/releases", '{"tag_name":"v1"}')],
    [http("POST", "https://gitlab.com/api/v4/projects/1/merge_requests", "{}")],
    [http("GET", "https://api.github.com/repos/me/app/collaborators")],
    [http("GET", "https://api.github.com/repos/me/app/keys")],
  ],
);

table(
  "curl, wget, xh and httpie writes to access-grant paths, in any spelling of the URL",
  [
    ...GRANTS.map(([m, u]) => [`curl -s -X ${m} -H "Authorization: Bearer $GITHUB_TOKEN" ${u} -d '{}'`]),
    ["curl -XPUT https://api.github.com/repos/me/app/collaborators/attacker"],
    ["curl --request PUT https://API.GITHUB.COM//repos/me/app/%63ollaborators/attacker/"],
    ["curl -X PUT api.github.com/repos/me/app/collaborators/attacker"],
    ["curl -X PUT 'https://api.github.com/repos/me/app/collaborators/attacker?permission=admin'"],
    ["curl --url https://api.github.com/repos/me/app/keys -d @k.json"],
    ['curl -sd \'{"key":"ssh-ed25519 AAAA"}\' https://api.github.com/repos/me/app/keys'],
    ["curl --json @hook.json https://api.github.com/repos/me/app/hooks"],
    ["curl -X DELETE https://api.github.com/repos/me/app/x/../branches/main/protection"],
    ["wget --method=PUT -O- https://api.github.com/repos/me/app/collaborators/attacker"],
    ["wget --post-data='{}' https://api.github.com/user/keys"],
    ["xh PUT https://api.github.com/repos/me/app/collaborators/attacker"],
    ["xh put api.github.com/repos/me/app/collaborators/attacker"],
    ["http DELETE https://api.github.com/repos/me/app/branches/main/protection"],
    ["https PUT api.github.com/repos/me/app/collaborators/attacker"],
    ["gh api -X PUT repos/me/app/collaborators/attacker"],
    ["gh api --method DELETE repos/me/app/branches/main/protection"],
    ["gh repo deploy-key add k.pub"],
    ["gh secret set AWS_KEY --body x"],
    ["gh repo edit --visibility public"],
    [
      {
        kind: "tool",
        name: "mcp__github__add_collaborator",
        arguments: { owner: "me", repo: "app", username: "x" },
      },
    ],
  ],
  [
    ["curl -s https://api.github.com/repos/me/app/collaborators"],
    ["curl -s https://api.github.com/repos/me/app/keys"],
    ['curl -s -X POST https://api.github.com/repos/me/app/issues -d \'{"title":"x"}\''],
    ["curl -s https://api.github.com/repos/me/app/branches/main/protection"],
    ["xh https://api.github.com/repos/me/app/hooks"],
  ],
);
