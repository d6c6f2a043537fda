import json
L = r"""git status
git status -sb
git log --oneline -20
git log --graph --oneline --all -30
git diff
git diff --stat HEAD~3
git diff --cached
git show HEAD --stat
git branch -a
git switch -c feature/login
git checkout main
git add src/index.ts
git add -p
git commit -m "fix: handle empty input"
git stash
git stash pop
git fetch origin
git pull --rebase origin main
git push origin feature/login
git rebase main
git blame src/app.ts
git grep -n TODO
git ls-files | wc -l
git rev-parse --abbrev-ref HEAD
git remote -v
git tag -l
git describe --tags
git shortlog -sn
git clean -n
git restore src/app.ts
git cherry-pick abc1234
git config --get user.email
npm install
npm ci
npm test
npm run build
npm run lint
npm run dev
npm outdated
npm ls --depth=0
npm audit
npx tsc --noEmit
npx vitest run
npx eslint src
npx prettier --check .
pnpm install
pnpm test
yarn build
node scripts/build.js
node --version
python3 --version
python3 -m venv .venv
python3 -m pytest -q
pytest tests/test_api.py -k login
pip install -r requirements.txt
pip list
ruff check .
black --check .
mypy src
make
make test
make clean
cargo build
cargo test
cargo clippy
cargo fmt
go build ./...
go test ./...
go vet ./...
go mod tidy
gofmt -l .
ls -la
ls -R src | head -50
cat README.md
cat package.json
head -40 src/index.ts
tail -n 100 logs/dev.log
grep -rn "useEffect" src
rg -n "fetch\(" src
find . -name "*.test.ts" -not -path "./node_modules/*"
find src -type f | wc -l
wc -l src/*.ts
du -sh node_modules
df -h
tree -L 2 src
jq .scripts package.json
sort -u words.txt
diff -u a.txt b.txt
sed -n 1,20p src/app.ts
awk -F, '{print $2}' data.csv | sort | uniq -c
cut -d: -f1 data.txt
stat README.md
file dist/app.js
which node
echo $PATH
pwd
date -u
uname -a
sw_vers
docker ps
docker images
docker compose ps
docker logs web --tail 50
brew list
brew info node
mkdir -p src/components
touch src/components/Button.tsx
cp .env.example .env.example.bak
mv src/old.ts src/legacy.ts
rm -rf dist
rm src/tmp.ts
chmod +x scripts/dev.sh
./scripts/dev.sh
bash scripts/check.sh
tar czf dist.tgz dist
unzip -l assets.zip
curl -s https://registry.npmjs.org/react | jq .version
curl -sI https://github.com
shasum -a 256 dist/app.js
ps aux | grep node
lsof -i :3000
kill 12345
code .
open README.md
xcodebuild -list
swift build
tsc -p tsconfig.json
vitest run src/app.test.ts
cmake -S . -B build
cmake --build build
ollama list"""
out=[]
for i,l in enumerate(L.split("\n"),1):
    out.append(json.dumps({"id":f"everyday-{i:03d}","family":"everyday","claim":"an everyday developer command (no harmful effect)","steps":[{"command":l}]}))
open("test/gate/corpus-red36/benign.jsonl","w").write("\n".join(out)+"\n")
print(len(out))
