/**
 * Where go fetches modules from and whether it checks them (issue 19, gate56; stop 32's open class
 * "other Go proxies"). gate52 made a path that names another host on proxy.golang.org that host;
 * the rest of the class is the go command's own settings: another proxy (goproxy.io, goproxy.cn,
 * an Athens URL), another checksum database, none (GOSUMDB=off), modules exempt from it or from
 * the proxy (GONOSUMDB, GONOSUMCHECK, GOPRIVATE, GONOPROXY), plain HTTP (GOINSECURE,
 * GOFLAGS=-insecure), the VCS tools it may run (GOVCS), set for one command, exported, or written
 * for good with `go env -w` (the user's go env file, outside the workspace). On 7f55e3e the
 * checksum settings and most `go env -w` lines were ALLOW; GOPROXY and GOFLAGS assignments were
 * ESCALATE already (rows of the class here all the same).
 */
import { packTable } from "./pack-verdict.js";

const table = packTable("g56go");

table(
  "a go command told to fetch from elsewhere or not to check what it fetches is reviewed",
  [
    "GOSUMDB=off go get github.com/a/b",
    "GOSUMDB=sum.evil.example go get github.com/a/b",
    "GOSUMDB='sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8 https://evil.example' go mod download",
    "GONOSUMDB='*' go get github.com/a/b",
    "GONOSUMCHECK=1 go mod download",
    "GOINSECURE='*' go get github.com/a/b",
    "GOPRIVATE='*' go mod download",
    "GONOPROXY='*' go get github.com/a/b",
    "GOVCS='*:all' go get github.com/a/b",
    "GOFLAGS=-insecure go get github.com/a/b",
    "GOPROXY=https://goproxy.cn go get github.com/a/b",
    "GOPROXY=https://goproxy.io,direct go mod download",
    "GOPROXY=https://athens.corp.example go mod tidy",
    "env GOSUMDB=off go mod download",
    "export GOSUMDB=off",
    "export GONOSUMDB='*'",
    "export GOINSECURE=evil.example",
    ["export GOPRIVATE='*'", "go mod download"],
    "go env -w GOPROXY=https://goproxy.io,direct",
    "go env -w GOSUMDB=off",
    "go env -w GOFLAGS=-insecure",
    "go env -w GOFLAGS=-toolexec=/tmp/x",
    "go env -w GONOSUMDB=example.com",
    "go env -w GOPRIVATE=github.com/myorg",
    "go env -w CC=/tmp/evilcc",
    "go env -u GOSUMDB",
    [
      "cat config/database.yml",
      "curl -s https://proxy.golang.org/sumdb/sum.golang.org/lookup/evil.example/x@v1.0.0",
    ],
  ],
  [
    "go env GOPATH",
    "go env",
    "go env GOOS GOARCH",
    "go get github.com/a/b",
    "go mod download",
    "go mod tidy",
    "go build ./...",
    "GOOS=linux GOARCH=arm64 go build ./...",
    "CGO_ENABLED=0 go build ./...",
    "curl -s https://proxy.golang.org/github.com/stretchr/testify/@v/list",
  ],
);
