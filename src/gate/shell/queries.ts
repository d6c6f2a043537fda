/**
 * gate60 (issue 19, everyday): the statements a database client is given on its command line
 * (`psql -c`, `sqlite3 FILE SQL`, `mongosh --eval`), read as a query that only reads, or not.
 * Fail closed: a statement is read-only only when every piece of it is one this reader knows
 * changes nothing (a SELECT of columns and pure functions, a catalogue listing); anything else,
 * or anything it cannot read, is not.
 */

/** SQL dialects: what each client adds (sqlite3's dot commands, psql's backslash commands). */
export type Dialect = "sqlite" | "postgres";

/**
 * Words that may stand before `(` without being a call: keywords, casts and pure functions (no
 * side effect, no file, no network, no other session). A user function, `pg_read_file`,
 * `lo_export`, `dblink`, `writefile`, `load_extension`, `set_config`, `nextval` are not here.
 */
const PURE_CALLS = new Set(
  (
    "in exists any all some values from as over filter cast using on within select where and or not is " +
    "count sum avg min max total group_concat string_agg array_agg json_agg jsonb_agg bool_and bool_or every " +
    "coalesce nullif greatest least ifnull iif lower upper length char_length octet_length trim ltrim rtrim " +
    "substr substring replace position instr abs round ceil ceiling floor trunc mod power sqrt sign random " +
    "now date time datetime julianday strftime unixepoch current_date current_time current_timestamp " +
    "date_trunc date_part extract age to_char to_date to_timestamp to_number interval make_date " +
    "concat concat_ws format printf quote left right lpad rpad split_part regexp_replace regexp_match " +
    "json_extract json_object json_array jsonb_build_object json_build_object jsonb_pretty typeof " +
    "version current_database current_schema current_user session_user pg_size_pretty " +
    "pg_total_relation_size pg_relation_size pg_database_size row_number rank dense_rank lag lead " +
    "first_value last_value ntile distinct"
  ).split(" "),
);

/** Statements that only read (their first keyword). EXPLAIN ANALYZE runs the statement: refused below. */
const READ_VERBS = new Set(["select", "explain", "with", "show", "table", "values"]);

/** Keywords that change data, schema, sessions or files, or run the statement they wrap. */
const CHANGES = new Set(
  (
    "insert update delete merge upsert replace create drop alter truncate grant revoke copy vacuum " +
    "reindex analyze analyse attach detach cluster refresh call do execute prepare listen notify " +
    "load lock set reset discard comment security into returning import"
  ).split(" "),
);

/**
 * Catalogues that hold credentials: password hashes (pg_authid, pg_shadow), foreign servers' and
 * subscriptions' connection passwords (pg_user_mapping(s), pg_subscription): a read of one is a
 * secret read, not everyday (red38 secret-read-024).
 */
const SECRET_RELATIONS = new Set([
  "pg_authid",
  "pg_shadow",
  "pg_user_mapping",
  "pg_user_mappings",
  "pg_subscription",
]);

/** sqlite3's dot commands that only print (sqlite.org/cli.html); `.shell`, `.system`, `.output`, `.import`, `.load`, `.open`, `.read`, `.backup` are not. */
const SQLITE_DOTS = new Set([
  ".tables",
  ".table",
  ".schema",
  ".fullschema",
  ".indexes",
  ".indices",
  ".databases",
  ".headers",
  ".header",
  ".mode",
  ".show",
  ".dbinfo",
  ".width",
  ".nullvalue",
  ".timer",
  ".help",
]);

/** psql's backslash commands that only describe or list (postgresql.org/docs/current/app-psql.html). */
const PSQL_META = /^\\(?:d[a-zA-Z]{0,3}[+S]{0,2}|l\+?|list\+?|conninfo|x|encoding|timing)$/;

/**
 * True when `text` holds only statements that read: SQL SELECT / EXPLAIN / WITH … SELECT / SHOW /
 * TABLE, of columns and pure functions, and the client's own listing commands. A quoted identifier
 * (`"writefile"(…)`), a dollar quote or a comment is not read here: not read-only.
 */
export function readOnlySql(text: string, dialect: Dialect): boolean {
  if (text.length === 0 || text.length > 4096) return false;
  const trimmed = text.trim();
  if (trimmed.startsWith(".") || trimmed.startsWith("\\")) return clientCommands(trimmed, dialect);
  // String literals ('…', '' inside) are data; everything else is read as words.
  const bare = trimmed.replace(/'(?:[^']|'')*'/g, "''");
  if (/['"`[\]$\\]|--|\/\*|#/.test(bare.replace(/''/g, ""))) return false;
  const statements = bare.split(";").map((s) => s.trim());
  let any = false;
  for (const st of statements) {
    if (st === "") continue;
    any = true;
    const words = st.toLowerCase().match(/[a-z_][a-z0-9_]*|\(/g) ?? [];
    if (!READ_VERBS.has(words[0] ?? "")) return false;
    for (let i = 0; i < words.length; i++) {
      const w = words[i]!;
      if (CHANGES.has(w) || SECRET_RELATIONS.has(w)) return false;
      if (words[i + 1] === "(" && w !== "(" && !PURE_CALLS.has(w)) return false;
    }
  }
  return any;
}

function clientCommands(text: string, dialect: Dialect): boolean {
  // One command per line, its arguments plain names (a pattern, a table, `on`/`off`, a mode).
  for (const line of text.split("\n")) {
    const t = line.trim();
    if (t === "") continue;
    const [cmd, ...args] = t.split(/\s+/);
    if (args.some((a) => !/^[\w.*+-]+$/.test(a))) return false;
    if (dialect === "sqlite" ? !SQLITE_DOTS.has(cmd!) : !PSQL_META.test(cmd!)) return false;
    if (dialect === "sqlite" && cmd === ".mode" && args.some((a) => !/^[a-z]+$/.test(a))) return false;
  }
  return true;
}

/**
 * mongosh `--eval`: one read of a collection or a listing, `db.NAME.find({…})`, `.countDocuments()`,
 * `.findOne()`, `.distinct('f')`, `.estimatedDocumentCount()`, `db.getCollectionNames()`,
 * `db.stats()`, with `.limit(n)`, `.sort({…})`, `.count()`, `.toArray()`, `.pretty()` after it; the
 * arguments literals only (no function, no `$where`, `$function`, `$accumulator`: server-side
 * JavaScript). Anything else is JavaScript the gate does not read.
 */
export function readOnlyMongo(text: string): boolean {
  const t = text.trim().replace(/;$/, "");
  if (t.length === 0 || t.length > 2048) return false;
  if (/^show (?:dbs|databases|collections|tables)$/.test(t)) return true;
  if (/^db\.(?:getCollectionNames|getCollectionInfos|stats|version|getName)\(\)$/.test(t)) return true;
  const m =
    /^db\.([A-Za-z_][\w]*)\.(find|findOne|countDocuments|estimatedDocumentCount|distinct)\((.*)\)$/s.exec(t);
  if (m === null) return false;
  // Calls after the first: `.limit(5).sort({a: 1})`; split at `).` outside the argument literals.
  const rest = m[3]!;
  const parts = rest.split(/\)\s*\.\s*(?=(?:limit|skip|sort|count|toArray|pretty|project)\()/);
  const args: string[] = [parts[0]!];
  for (const p of parts.slice(1)) {
    const c = /^(limit|skip|sort|count|toArray|pretty|project)\((.*)$/s.exec(p);
    if (c === null) return false;
    args.push(c[2]!);
  }
  return args.every(literalArgs);
}

/** Object, array, string, number and name literals only: no call, no arrow, no template, no operator code. */
function literalArgs(a: string): boolean {
  const bare = a.replace(/'[^'\\]*'|"[^"\\]*"/g, '""');
  if (/[()`=>;\\]|\$(?:where|function|accumulator|expr)\b|function|=>/i.test(bare)) return false;
  return /^[\w\s{}[\]:,."$.+-]*$/.test(bare);
}

/** What a database client's flag takes: a statement, where the database is, nothing of interest, or something the gate does not read. */
type DbRole = "sql" | "db" | "host" | "none" | "write" | "unread";

export interface DbClient {
  dialect: Dialect | "mongo";
  /** Flags without a value. */
  bare: ReadonlySet<string>;
  values: Readonly<Record<string, DbRole>>;
  /** What it does with no statement given (psql -l lists the databases): the flags that make that a read. */
  listing: readonly string[];
}

const set = (s: string) => new Set(s.split(" "));

/**
 * The clients (postgresql.org/docs/current/app-psql.html, sqlite.org/cli.html,
 * mongodb.com/docs/mongodb-shell/reference/options): flags not listed make the line unread.
 * `-f`/`--file`/`-init` run a file of statements, `-o`/`-L` write one.
 */
export const DB_CLIENTS: Readonly<Record<string, DbClient>> = {
  psql: {
    dialect: "postgres",
    bare: set(
      "-A --no-align -t --tuples-only -q --quiet -X --no-psqlrc -x --expanded -e --echo-queries -E --echo-hidden " +
        "-a --echo-all -b --echo-errors -n --no-readline -w --no-password -H --html -S --single-line -1 " +
        "--single-transaction -l --list -0 --field-separator-zero -z --record-separator-zero --csv",
    ),
    values: {
      "-c": "sql",
      "--command": "sql",
      "-d": "db",
      "--dbname": "db",
      "-h": "host",
      "--host": "host",
      "-p": "none",
      "--port": "none",
      "-U": "none",
      "--username": "none",
      "-v": "none",
      "--set": "none",
      "--variable": "none",
      "-P": "none",
      "--pset": "none",
      "-F": "none",
      "--field-separator": "none",
      "-R": "none",
      "--record-separator": "none",
      "-T": "none",
      "--table-attr": "none",
      "-o": "write",
      "--output": "write",
      "-L": "write",
      "--log-file": "write",
      "-f": "unread",
      "--file": "unread",
    },
    listing: ["-l", "--list"],
  },
  sqlite3: {
    dialect: "sqlite",
    bare: set(
      "-readonly -header -noheader -column -csv -json -line -list -box -markdown -table -html -bail -batch " +
        "-echo -quote -tabs -ascii -safe -nofollow",
    ),
    values: {
      "-separator": "none",
      "-newline": "none",
      "-nullvalue": "none",
      "-cmd": "sql",
      "-init": "unread",
      "-vfs": "unread",
    },
    listing: [],
  },
  mongosh: {
    dialect: "mongo",
    bare: set("--quiet --norc --nodb --tls"),
    values: {
      "--eval": "sql",
      "--host": "host",
      "--port": "none",
      "-u": "none",
      "--username": "none",
      "--authenticationDatabase": "none",
      "-f": "unread",
      "--file": "unread",
    },
    listing: [],
  },
};

/** What a database client's line does, as read by `databaseLine`. */
export interface DbLine {
  /** Statements given on the line. */
  statements: string[];
  /** The words that hold statements and connection strings: the client's language, not paths. */
  exprAt: number[];
  hosts: string[];
  /** Files read (sqlite3's database) and written (`psql -o`). */
  reads: string[];
  writes: string[];
  /** Why it is not a read the gate can judge (null: it is one). */
  unread: string | null;
}

/**
 * Reads a database client's argv (values known; null: a word only known at run time). The
 * statements are read-only or the line is unread; the hosts are where it connects.
 */
export function databaseLine(program: string, argv: readonly (string | null)[]): DbLine {
  const spec = DB_CLIENTS[program]!;
  const out: DbLine = { statements: [], exprAt: [], hosts: [], reads: [], writes: [], unread: null };
  const unread = (why: string) => {
    out.unread ??= why;
  };
  const operands: [string, number][] = [];
  let listing = false;
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i];
    if (v === null || v === undefined) {
      unread("a word only known at run time");
      continue;
    }
    if (!v.startsWith("-") || v === "-") {
      operands.push([v, i]);
      continue;
    }
    // sqlite3 takes --flag for -flag; psql and mongosh take --flag=value.
    const eq = v.startsWith("--") ? v.indexOf("=") : -1;
    let flag = eq > 0 ? v.slice(0, eq) : v;
    if (spec.dialect === "sqlite" && flag.startsWith("--")) flag = flag.slice(1);
    if (spec.bare.has(flag) && eq < 0) {
      if (spec.listing.includes(flag)) listing = true;
      continue;
    }
    // psql's bundled short flags (`-At`, `-Atc SQL`): all without a value but the last.
    if (spec.dialect === "postgres" && /^-[a-zA-Z01]{2,}$/.test(flag)) {
      const head = [...flag.slice(1, -1)].map((c) => `-${c}`);
      const last = `-${flag.slice(-1)}`;
      if (head.every((f) => spec.bare.has(f)) && (spec.bare.has(last) || spec.values[last] !== undefined)) {
        if ([...head, last].some((f) => spec.listing.includes(f))) listing = true;
        if (spec.bare.has(last)) continue;
        flag = last;
      }
    }
    const role = spec.values[flag];
    if (role === undefined) {
      unread(`'${flag}' is not a flag the gate reads for ${program}`);
      continue;
    }
    let value: string | null | undefined;
    let at = i;
    if (eq > 0) value = v.slice(eq + 1);
    else {
      at = ++i;
      value = argv[i];
    }
    if (value === null || value === undefined) {
      unread(`the value of '${flag}' is only known at run time`);
      continue;
    }
    take(spec, role, value, at, flag, out, unread);
  }
  // psql DBNAME [USER]; sqlite3 FILE [SQL…]; mongosh [ADDRESS] (further operands are script files).
  if (program === "psql") {
    if (operands.length > 2) unread("more operands than a database and a user");
    if (operands[0] !== undefined) take(spec, "db", operands[0][0], operands[0][1], "operand", out, unread);
  } else if (program === "sqlite3") {
    const [file, ...sql] = operands;
    if (file === undefined) unread("no database file");
    else if (file[0] !== ":memory:") out.reads.push(file[0]);
    for (const [s, at] of sql) take(spec, "sql", s, at, "operand", out, unread);
  } else {
    if (operands.length > 1) unread("it runs script files");
    if (operands[0] !== undefined) take(spec, "db", operands[0][0], operands[0][1], "operand", out, unread);
  }
  if (out.statements.length === 0 && !listing)
    unread("no statement on the line: it reads them from its standard input or the terminal");
  return out;
}

function take(
  spec: DbClient,
  role: DbRole,
  value: string,
  at: number,
  flag: string,
  out: DbLine,
  unread: (why: string) => void,
): void {
  switch (role) {
    case "none":
      return;
    case "write":
      out.writes.push(value);
      return;
    case "unread":
      unread(`it runs the statements of a file (${flag})`);
      return;
    case "host":
      out.hosts.push(value);
      return;
    case "sql": {
      out.statements.push(value);
      out.exprAt.push(at);
      const ok = spec.dialect === "mongo" ? readOnlyMongo(value) : readOnlySql(value, spec.dialect);
      if (!ok)
        unread(
          `'${value.length > 80 ? `${value.slice(0, 80)}…` : value}' is not a statement that only reads`,
        );
      return;
    }
    case "db": {
      // A name is a database on this machine's default server; a URL or conninfo names its host.
      // The word is no path (a URL is still read as an endpoint: the agent's own port is DENY).
      out.exprAt.push(at);
      if (/^[\w.-]+$/.test(value) && !(spec.dialect === "mongo" && value.includes("."))) return;
      const url =
        /^(?:postgres(?:ql)?|mongodb(?:\+srv)?):\/\/(?:[^@/?#]*@)?(\[[^\]]+\]|[^:/?#,]+)(?::\d+)?(?:[/?#]|$)/i.exec(
          value,
        );
      if (url !== null) {
        out.hosts.push(url[1]!.replace(/^\[|\]$/g, ""));
        return;
      }
      if (spec.dialect === "postgres" && /^(?:\s*\w+\s*=\s*[^\s'=]*)+\s*$/.test(value)) {
        for (const m of value.matchAll(/\b(host|hostaddr)\s*=\s*([^\s]+)/g)) out.hosts.push(m[2]!);
        return;
      }
      if (spec.dialect === "mongo") {
        const hp = /^([\w.-]+|\[[^\]]+\])(?::\d+)?\/[\w-]+$/.exec(value);
        if (hp !== null) {
          out.hosts.push(hp[1]!.replace(/^\[|\]$/g, ""));
          return;
        }
      }
      unread(`'${value}' is not a database name or a connection URL the gate reads`);
      return;
    }
  }
}

/** The programs `databaseLine` reads. */
export const DATABASE_CLIENTS: ReadonlySet<string> = new Set(Object.keys(DB_CLIENTS));
