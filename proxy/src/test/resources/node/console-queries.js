// Queries pgmux's admin console with node-postgres (pg), the way its users do, and prints what the driver
// made of each answer as one JSON document. Connection settings come from the PG* environment variables.
//   SHOW POOLS                            client.query(text): the simple protocol (Query)
//   SHOW DATABASES, rowMode 'array'       the simple protocol, rows as arrays
//   SHOW VERSION, named 'p', twice        the extended protocol: Parse, Bind, Describe (portal), Execute, Sync;
//                                         the second run reuses the statement (no Parse)
//   SHOW STATS_TOTALS, queryMode extended the extended protocol on the unnamed statement
//   SHOW NO_SUCH_LIST, named              an error in the extended protocol; the statement after it still runs
const { Client } = require('pg');

function summary(result) {
  return {
    command: result.command,
    rowCount: result.rowCount,
    fields: result.fields.map((f) => ({ name: f.name, dataTypeID: f.dataTypeID })),
    rows: result.rows,
  };
}

async function main() {
  const client = new Client({ ssl: false, connectionTimeoutMillis: 10000, query_timeout: 20000 });
  await client.connect();
  try {
    const out = {};
    out.pools = summary(await client.query('SHOW POOLS'));
    out.databases = summary(await client.query({ text: 'SHOW DATABASES', rowMode: 'array' }));
    out.version = summary(await client.query({ name: 'p', text: 'SHOW VERSION' }));
    out.versionAgain = summary(await client.query({ name: 'p', text: 'SHOW VERSION' }));
    out.statsTotals = summary(await client.query({ text: 'SHOW STATS_TOTALS', queryMode: 'extended' }));
    try {
      await client.query({ name: 'bad', text: 'SHOW NO_SUCH_LIST' });
      out.invalid = { error: null };
    } catch (e) {
      out.invalid = { error: e.code || String(e) };
    }
    out.afterError = summary(await client.query({ name: 'p', text: 'SHOW VERSION' }));
    process.stdout.write(JSON.stringify(out) + '\n');
  } finally {
    await client.end();
  }
}

main().catch((e) => {
  process.stderr.write('node-postgres failed: ' + (e.code ? e.code + ' ' : '') + e.message + '\n');
  process.exit(1);
});
