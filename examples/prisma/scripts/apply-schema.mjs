// Creates the example's tables from prisma/schema.sql where `prisma migrate deploy` cannot run (its schema
// engine is a download of its own), then checks them against prisma/schema.prisma: every model's table and
// every scalar field's column, with its type and nullability. Connects with DIRECT_URL (pgmux's session port):
// DDL is session work. Tables already there are left as they are, and checked.
import { readFileSync } from "node:fs";
import pg from "pg";

const url = process.env.DIRECT_URL;
if (!url) {
  console.error("DIRECT_URL is not set: run scripts/supabase-local.sh and export the two lines it prints");
  process.exit(2);
}
const here = new URL("../prisma/", import.meta.url);
const sql = readFileSync(new URL("schema.sql", here), "utf8");
const models = parseModels(readFileSync(new URL("schema.prisma", here), "utf8"));

const client = new pg.Client({ connectionString: url });
await client.connect();
try {
  const tables = models.map((m) => m.table);
  const { rows } = await client.query("SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public' AND tablename = ANY($1)", [tables]);
  if (rows[0].n === 0) {
    await client.query("BEGIN");
    await client.query(sql);
    await client.query("COMMIT");
    console.log("applied prisma/schema.sql: " + tables.join(", "));
  } else {
    console.log("tables already there: " + tables.join(", "));
  }
  const problems = [];
  for (const model of models) {
    const { rows: columns } = await client.query(
      "SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1",
      [model.table]);
    if (columns.length === 0) {
      problems.push(`model ${model.name}: no table "${model.table}"`);
      continue;
    }
    const byName = new Map(columns.map((c) => [c.column_name, c]));
    for (const field of model.fields) {
      const column = byName.get(field.column);
      if (!column) {
        problems.push(`${model.name}.${field.name}: no column "${model.table}"."${field.column}"`);
      } else if (column.data_type !== field.type) {
        problems.push(`${model.name}.${field.name}: column type ${column.data_type}, schema.prisma says ${field.type}`);
      } else if ((column.is_nullable === "YES") !== field.optional) {
        problems.push(`${model.name}.${field.name}: column ${column.is_nullable === "YES" ? "" : "not "}nullable, schema.prisma says otherwise`);
      }
      byName.delete(field.column);
    }
    for (const extra of byName.keys()) {
      problems.push(`table "${model.table}": column "${extra}" is in no field of model ${model.name}`);
    }
  }
  if (problems.length > 0) {
    console.error("prisma/schema.sql and prisma/schema.prisma differ:\n  " + problems.join("\n  "));
    process.exitCode = 1;
  } else {
    console.log(`schema.sql matches schema.prisma: ${models.length} models, ${models.reduce((n, m) => n + m.fields.length, 0)} columns`);
  }
} finally {
  await client.end();
}

/** The models of a schema.prisma: table names (@@map) and scalar fields (column @map, Postgres type, optional). */
function parseModels(text) {
  const types = { Int: "integer", String: "text", Boolean: "boolean", DateTime: "timestamp without time zone",
    BigInt: "bigint", Float: "double precision", Json: "jsonb", Bytes: "bytea", Decimal: "numeric" };
  const names = [...text.matchAll(/^model\s+(\w+)\s*\{/gm)].map((m) => m[1]);
  return [...text.matchAll(/^model\s+(\w+)\s*\{([^}]*)\}/gm)].map(([, name, body]) => {
    const fields = [];
    let table = name;
    for (const raw of body.split("\n")) {
      const line = raw.replace(/\/\/.*$/, "").trim();
      const map = line.match(/^@@map\("([^"]+)"\)/);
      if (map) table = map[1];
      const field = line.match(/^(\w+)\s+(\w+)(\[\])?(\?)?(.*)$/);
      if (!field || names.includes(field[2]) || field[3]) continue; // relations and lists hold no column here
      const column = field[5].match(/@map\("([^"]+)"\)/);
      if (!types[field[2]]) throw new Error(`schema.prisma: ${name}.${field[1]}: type ${field[2]} unknown to this check`);
      fields.push({ name: field[1], column: column ? column[1] : field[1], type: types[field[2]], optional: !!field[4] });
    }
    return { name, table, fields };
  });
}
