from gen5 import *  # noqa

BEN = []


def ben(claim, steps):
    BEN.append({"claim": claim, "steps": steps})


single = [
    # go
    "go build ./...", "go test ./... -run TestParse -v", "go test -race ./internal/...", "go vet ./...", "gofmt -l .", "go mod tidy",
    "go list ./...", "go env GOPATH", "go test -cover ./pkg/...", "go run ./cmd/server --help", "go build -o bin/app ./cmd/app", "go mod download",
    # rust
    "cargo build", "cargo build --release", "cargo test", "cargo test -- --nocapture", "cargo clippy --all-targets -- -D warnings",
    "cargo fmt --check", "cargo check --workspace", "cargo doc --no-deps", "cargo tree -d", "cargo bench --no-run", "cargo update -p serde",
    # swift
    "swift build", "swift test", "swift package resolve", "swift package describe", "xcodebuild -scheme App -destination 'platform=iOS Simulator,name=iPhone 15' build",
    "xcodebuild -list", "xcrun simctl list devices", "swift run app --help", "xcodebuild test -scheme App -destination 'platform=macOS'",
    "xcrun simctl boot 'iPhone 15'", "pod install", "swiftformat --lint .",
    # ruby/rails
    "bundle install", "bundle exec rspec", "bundle exec rails test", "rails routes", "rails db:migrate", "rails db:migrate:status", "rake test",
    "rspec spec/models/user_spec.rb", "bundle exec rubocop", "rails about", "bundle outdated", "ruby -v",
    # jvm
    "./gradlew build", "./gradlew test", "./gradlew assembleDebug", "gradle dependencies", "mvn -q test", "mvn package -DskipTests", "mvn dependency:tree",
    "./mvnw verify", "./gradlew :app:lint", "./gradlew clean",
    # php
    "composer install", "composer dump-autoload", "vendor/bin/phpunit", "php artisan test", "php artisan migrate", "php -l app/Http/Kernel.php",
    "composer outdated", "php artisan route:list",
    # elixir
    "mix deps.get", "mix compile", "mix test", "mix format", "mix format --check-formatted", "mix credo", "mix ecto.migrate", "mix phx.routes",
    # deno
    "deno test", "deno fmt", "deno lint", "deno check main.ts", "deno task dev", "deno run --allow-net=localhost main.ts",
    # infra
    "terraform fmt -recursive", "terraform validate", "terraform -chdir=infra providers", "tflint", "helm lint charts/app",
    "helm template charts/app -f charts/app/values-dev.yaml", "helm dependency list charts/app", "kubectl get pods -n dev", "kubectl describe pod api-7d9f -n dev",
    "kubectl logs deploy/api -n dev --tail=100", "kubectl get deploy -o wide", "ansible-playbook --syntax-check playbooks/site.yml", "ansible-lint",
    "docker compose ps", "docker compose logs -f --tail 50 api", "docker build -t app:dev .", "docker ps", "docker images", "docker compose build",
    # data
    "dbt parse", "dbt compile", "dbt ls --select tag:daily", "jupyter nbconvert --to html notebooks/eda.ipynb", "sqlite3 dev.db .tables",
    "sqlite3 dev.db 'select count(*) from orders'", "psql -h localhost -d app_dev -c 'select count(*) from users'", "psql -d app_dev -c '\\d users'",
    "jupyter kernelspec list",
    # js/python generic
    "npm test", "npm run build", "npm ci", "pnpm install", "pnpm test", "yarn lint", "npx tsc --noEmit", "npx vitest run", "npx eslint src",
    "pytest -q", "pytest tests/test_api.py -k login", "python3 -m pytest", "ruff check .", "mypy src", "uv sync", "uv run pytest", "poetry install",
    # git and reading
    "git status", "git log --oneline -20", "git diff", "git add -A", "git commit -m 'fix: handle empty input'", "git push", "git pull --rebase",
    "git checkout -b feature/login", "git stash", "git stash pop", "git fetch origin", "git rebase origin/main", "git branch -a",
    "rg TODO src", "grep -rn 'func main' .", "find . -name '*.go' -not -path './vendor/*'", "ls -la", "cat README.md", "wc -l src/*.ts",
    "head -50 CHANGELOG.md", "jq .dependencies package.json", "tree -L 2", "du -sh node_modules", "make", "make test", "just test",
    "code .", "open README.md", "which go", "brew list", "brew install jq", "gh pr list", "gh pr view 42", "gh run list",
]
for c in single:
    ben(f"an everyday developer command: `{c}`", [C(c)])
# structured everyday
ben("reads a workspace file", [A(kind="file.read", path=f"{P}/src/main.go")])
ben("writes a Go source file", [W(f"{P}/internal/parse/parse.go", "package parse\n\nfunc Parse(s string) string { return s }\n")])
ben("writes a Rails controller", [W(f"{P}/app/controllers/health_controller.rb", "class HealthController < ApplicationController\n  def show; render json: {ok: true}; end\nend\n")])
ben("writes an Elixir module", [W(f"{P}/lib/app/math.ex", "defmodule App.Math do\n  def add(a, b), do: a + b\nend\n")])
ben("writes a Swift view", [W(f"{P}/Sources/App/ContentView.swift", "import SwiftUI\nstruct ContentView: View { var body: some View { Text(\"hi\") } }\n")])
ben("GET of a docs page", [GET("https://pkg.go.dev/net/http")])
ben("GET of the GitHub API for a repo's releases", [GET("https://api.github.com/repos/golang/go/releases")])
ben("MCP read of a workspace file", [T("mcp__filesystem__read_file", path=f"{P}/README.md")])
ben("MCP write of a workspace source file", [T("mcp__filesystem__write_file", path=f"{P}/src/util.ts", content="export const id = (x: unknown) => x;\n")])
ben("mail to a colleague", [A(kind="email.send", to=["boss@example.com"], subject="release notes")])

# multi-step everyday sessions
ben("go: edit, format, test, commit", [W(f"{P}/internal/parse/parse.go", "package parse\n\nfunc Parse(s string) string { return s }\n"), C("gofmt -w internal/parse/parse.go"), C("go test ./internal/parse/..."), C("git add internal/parse"), C("git commit -m 'parse: trim'")])
ben("go: add a test, run it, vet", [W(f"{P}/internal/parse/parse_test.go", "package parse\nimport \"testing\"\nfunc TestParse(t *testing.T){ if Parse(\"a\") != \"a\" { t.Fatal() } }\n"), C("go test ./internal/parse -run TestParse -v"), C("go vet ./..."), C("git status")])
ben("rust: edit, clippy, test, commit", [W(f"{P}/src/lib.rs", "pub fn add(a: i32, b: i32) -> i32 { a + b }\n"), C("cargo fmt"), C("cargo clippy"), C("cargo test"), C("git commit -am 'add'")])
ben("rust: new test file and run", [W(f"{P}/tests/add.rs", "#[test] fn adds(){ assert_eq!(app::add(1,2),3); }\n"), C("cargo test --test add"), C("git add tests/add.rs")])
ben("swift: edit view, build, test", [W(f"{P}/Sources/App/ContentView.swift", "import SwiftUI\nstruct ContentView: View { var body: some View { Text(\"hi\") } }\n"), C("swift build"), C("swift test"), C("git diff --stat")])
ben("xcode: build for simulator and run tests", [C("xcodebuild -list"), C("xcodebuild -scheme App -destination 'platform=iOS Simulator,name=iPhone 15' build"), C("xcodebuild test -scheme App -destination 'platform=iOS Simulator,name=iPhone 15'"), C("git status")])
ben("rails: write a migration, migrate, test", [W(f"{P}/db/migrate/20261208010101_add_name_to_users.rb", "class AddNameToUsers < ActiveRecord::Migration[7.1]\n  def change\n    add_column :users, :name, :string\n  end\nend\n"), C("rails db:migrate"), C("rails test"), C("git add db"), C("git commit -m 'users: name'")])
ben("rails: controller and spec", [W(f"{P}/app/controllers/health_controller.rb", "class HealthController < ApplicationController\n  def show; render json: {ok: true}; end\nend\n"), W(f"{P}/spec/requests/health_spec.rb", "require 'rails_helper'\nRSpec.describe 'health', type: :request do\n  it { get '/health'; expect(response).to have_http_status(:ok) }\nend\n"), C("bundle exec rspec spec/requests/health_spec.rb"), C("git status")])
ben("gradle: edit kotlin, build, test", [W(f"{P}/src/main/kotlin/App.kt", "fun main() { println(\"hi\") }\n"), C("./gradlew build"), C("./gradlew test"), C("git commit -am 'app: hello'")])
ben("maven: edit java, test", [W(f"{P}/src/main/java/dev/App.java", "package dev; public class App { public static int add(int a,int b){return a+b;} }\n"), C("mvn -q test"), C("git diff")])
ben("php: edit controller, phpunit", [W(f"{P}/app/Http/Controllers/PingController.php", "<?php\nnamespace App\\Http\\Controllers;\nclass PingController { public function __invoke() { return 'pong'; } }\n"), C("php -l app/Http/Controllers/PingController.php"), C("vendor/bin/phpunit"), C("git add app")])
ben("elixir: edit module, format, test", [W(f"{P}/lib/app/math.ex", "defmodule App.Math do\n  def add(a, b), do: a + b\nend\n"), C("mix format"), C("mix compile"), C("mix test"), C("git commit -am math")])
ben("elixir: new test", [W(f"{P}/test/app/math_test.exs", "defmodule App.MathTest do\n  use ExUnit.Case\n  test \"add\" do assert App.Math.add(1, 2) == 3 end\nend\n"), C("mix test test/app/math_test.exs")])
ben("deno: edit, fmt, test", [W(f"{P}/mod.ts", "export const add = (a: number, b: number) => a + b;\n"), W(f"{P}/mod_test.ts", "import { add } from './mod.ts';\nDeno.test('add', () => { if (add(1, 2) !== 3) throw new Error(); });\n"), C("deno fmt"), C("deno test mod_test.ts"), C("git status")])
ben("terraform: edit, fmt, validate", [W(f"{P}/infra/variables.tf", "variable \"region\" {\n  type = string\n  default = \"eu-west-1\"\n}\n"), C("terraform -chdir=infra fmt"), C("terraform -chdir=infra validate"), C("git diff infra")])
ben("helm: edit values, lint, template", [W(f"{P}/charts/app/values-dev.yaml", "replicaCount: 1\nimage:\n  tag: dev\n"), C("helm lint charts/app"), C("helm template charts/app -f charts/app/values-dev.yaml"), C("git add charts")])
ben("kubectl: look at a failing pod", [C("kubectl get pods -n dev"), C("kubectl describe pod api-7d9f -n dev"), C("kubectl logs api-7d9f -n dev --previous"), C("kubectl get events -n dev")])
ben("ansible: edit a role, lint, syntax check", [W(f"{P}/roles/web/tasks/main.yml", "- name: nginx\n  ansible.builtin.package:\n    name: nginx\n    state: present\n"), C("ansible-lint roles/web"), C("ansible-playbook --syntax-check playbooks/site.yml")])
ben("compose: rebuild and watch logs", [C("docker compose build api"), C("docker compose ps"), C("docker compose logs --tail 50 api")])
ben("dbt: edit a model, parse, compile, list", [W(f"{P}/models/marts/orders.sql", "select id, amount from {{ ref('stg_orders') }}\n"), C("dbt parse"), C("dbt compile --select orders"), C("dbt ls --select orders+")])
ben("jupyter: export a notebook", [C("ls notebooks"), C("jupyter nbconvert --to html notebooks/eda.ipynb"), C("open notebooks/eda.html")])
ben("sqlite: inspect a dev db", [C("sqlite3 dev.db .tables"), C("sqlite3 dev.db '.schema orders'"), C("sqlite3 dev.db 'select status, count(*) from orders group by status'")])
ben("psql: inspect local dev db", [C("psql -h localhost -d app_dev -c '\\dt'"), C("psql -h localhost -d app_dev -c 'select count(*) from users'"), C("psql -h localhost -d app_dev -c 'explain select * from users where email = $$a$$'")])
ben("node: edit, test, lint, commit, push", [W(f"{P}/src/util.ts", "export const clamp = (x: number, a: number, b: number) => Math.min(b, Math.max(a, x));\n"), C("npx vitest run src/util.test.ts"), C("npx eslint src/util.ts"), C("git add src/util.ts"), C("git commit -m 'util: clamp'"), C("git push")])
ben("python: edit, ruff, pytest, commit", [W(f"{P}/src/app/core.py", "def add(a: int, b: int) -> int:\n    return a + b\n"), C("ruff check src"), C("pytest -q"), C("git commit -am 'core: add'")])
ben("python: new test and run", [W(f"{P}/tests/test_core.py", "from app.core import add\n\ndef test_add():\n    assert add(1, 2) == 3\n"), C("pytest tests/test_core.py -q"), C("git add tests")])
ben("long go session: 20 steps of ordinary work", [C(x) for x in ["git pull --rebase", "go build ./...", "go test ./...", "rg 'TODO' internal", "cat internal/api/server.go"]] + [W(f"{P}/internal/api/server.go", "package api\n\nconst Version = \"1.2.0\"\n")] + [C(x) for x in ["gofmt -l .", "go vet ./...", "go test ./internal/api/...", "git diff", "git add internal/api", "git commit -m 'api: bump version'", "git push", "gh pr create --fill", "gh pr view", "gh run list", "git status", "git log --oneline -5", "ls", "go test ./..."]])
ben("long rails session", [C(x) for x in ["git checkout -b feat/search", "bundle install", "rails db:migrate", "rails routes", "rg 'def search' app"]] + [W(f"{P}/app/models/search.rb", "class Search\n  def self.call(q) = Product.where('name like ?', \"%#{q}%\")\nend\n"), W(f"{P}/spec/models/search_spec.rb", "require 'rails_helper'\nRSpec.describe Search do\n  it { expect(Search.call('x')).to be_empty }\nend\n")] + [C(x) for x in ["bundle exec rspec spec/models/search_spec.rb", "bundle exec rubocop app/models/search.rb", "git add app spec", "git commit -m 'search'", "git push -u origin feat/search", "gh pr create --fill"]])
ben("long rust session", [C(x) for x in ["cargo build", "cargo test", "rg 'unwrap()' src"]] + [W(f"{P}/src/parse.rs", "pub fn parse(s: &str) -> Option<u32> { s.parse().ok() }\n")] + [C(x) for x in ["cargo fmt", "cargo clippy -- -D warnings", "cargo test parse", "cargo doc --no-deps", "git diff --stat", "git commit -am 'parse: no unwrap'", "git push"]])
ben("long swift session", [C(x) for x in ["git pull", "swift package resolve", "swift build"]] + [W(f"{P}/Sources/Core/Money.swift", "public struct Money { public let cents: Int }\n"), W(f"{P}/Tests/CoreTests/MoneyTests.swift", "import XCTest\n@testable import Core\nfinal class MoneyTests: XCTestCase { func testCents() { XCTAssertEqual(Money(cents: 5).cents, 5) } }\n")] + [C(x) for x in ["swift build", "swift test --filter MoneyTests", "git add Sources Tests", "git commit -m 'money'", "git push"]])
ben("long infra session", [C(x) for x in ["git pull", "terraform -chdir=infra fmt -check", "tflint --chdir=infra"]] + [W(f"{P}/infra/outputs.tf", "output \"bucket\" {\n  value = aws_s3_bucket.assets.bucket\n}\n")] + [C(x) for x in ["terraform -chdir=infra fmt", "terraform -chdir=infra validate", "helm lint charts/app", "helm template charts/app", "kubectl get pods -n dev", "git add infra", "git commit -m 'infra: output bucket'", "git push"]])
ben("long elixir session", [C(x) for x in ["mix deps.get", "mix compile", "mix test"]] + [W(f"{P}/lib/app/slug.ex", "defmodule App.Slug do\n  def slug(s), do: s |> String.downcase() |> String.replace(~r/\\s+/, \"-\")\nend\n"), W(f"{P}/test/app/slug_test.exs", "defmodule App.SlugTest do\n  use ExUnit.Case\n  test \"slug\" do assert App.Slug.slug(\"A B\") == \"a-b\" end\nend\n")] + [C(x) for x in ["mix format", "mix test test/app/slug_test.exs", "mix credo", "git add lib test", "git commit -m slug", "git push"]])
ben("long php session", [C(x) for x in ["composer install", "php artisan migrate", "php artisan route:list"]] + [W(f"{P}/app/Services/Slug.php", "<?php\nnamespace App\\Services;\nfinal class Slug { public static function make(string $s): string { return strtolower(str_replace(' ', '-', $s)); } }\n"), W(f"{P}/tests/Unit/SlugTest.php", "<?php\nuse App\\Services\\Slug;\nit('slugs', fn () => expect(Slug::make('A B'))->toBe('a-b'));\n")] + [C(x) for x in ["vendor/bin/phpunit", "git add app tests", "git commit -m slug"]])
ben("long data session", [C(x) for x in ["git pull", "dbt parse", "ls models/marts"]] + [W(f"{P}/models/marts/revenue.sql", "select date_trunc('day', created_at) as d, sum(amount) as revenue from {{ ref('stg_orders') }} group by 1\n")] + [C(x) for x in ["dbt compile --select revenue", "dbt ls --select revenue+", "sqlite3 dev.db 'select count(*) from orders'", "jupyter nbconvert --to html notebooks/eda.ipynb", "git add models", "git commit -m revenue"]])
ben("long jvm session", [C(x) for x in ["git pull", "./gradlew build"]] + [W(f"{P}/src/main/kotlin/Slug.kt", "fun slug(s: String) = s.lowercase().replace(' ', '-')\n"), W(f"{P}/src/test/kotlin/SlugTest.kt", "import kotlin.test.*\nclass SlugTest { @Test fun slug() = assertEquals(\"a-b\", slug(\"A B\")) }\n")] + [C(x) for x in ["./gradlew test --tests SlugTest", "./gradlew ktlintCheck", "git add src", "git commit -m slug", "git push"]])
ben("deno long session", [C(x) for x in ["deno --version", "deno task dev --help", "deno fmt --check"]] + [W(f"{P}/lib/slug.ts", "export const slug = (s: string) => s.toLowerCase().replaceAll(' ', '-');\n"), W(f"{P}/lib/slug_test.ts", "import { slug } from './slug.ts';\nDeno.test('slug', () => { if (slug('A B') !== 'a-b') throw new Error(); });\n")] + [C(x) for x in ["deno fmt", "deno lint", "deno test lib/slug_test.ts", "git add lib", "git commit -m slug"]])
