// Runs parameterised queries without statement names through node-postgres (pg), the way most of its users
// do: each client.query(text, values) is Parse, Bind, Describe (portal), Execute, Sync on the unnamed
// statement. Several clients at once, a few dozen distinct texts, every value checked; a division by zero
// now and then (the client goes on after it), and some queries inside BEGIN..COMMIT. Prints one JSON line
// with the counts; exits 1 at the first wrong answer. Connection settings come from the PG* variables.
const { Client } = require('pg');

const CLIENTS = Number(process.env.UNNAMED_CLIENTS || 4);
const ROUNDS = Number(process.env.UNNAMED_ROUNDS || 150);
const TEXTS = 30;

function fail(message) {
  throw new Error(message);
}

async function checked(client, k, n) {
  if (k % 3 === 0) {
    const r = await client.query(`SELECT $1::int + ${k} AS v, $2::text AS t`, [n, 'n' + n]);
    if (r.rows.length !== 1 || r.rows[0].v !== n + k || r.rows[0].t !== 'n' + n) {
      fail(`text ${k}, n ${n}: got ${JSON.stringify(r.rows)}`);
    }
  } else if (k % 3 === 1) {
    const r = await client.query(`SELECT g * ${k} AS v FROM generate_series(1, $1::int) g`, [n % 5 + 1]);
    if (r.rows.length !== n % 5 + 1 || r.rows[r.rows.length - 1].v !== (n % 5 + 1) * k) {
      fail(`series ${k}, n ${n}: got ${JSON.stringify(r.rows)}`);
    }
  } else {
    const r = await client.query(`SELECT $1::text || '-${k}' AS s`, ['v' + n]);
    if (r.rows.length !== 1 || r.rows[0].s !== `v${n}-${k}`) {
      fail(`concat ${k}, n ${n}: got ${JSON.stringify(r.rows)}`);
    }
  }
}

async function run(id, counts) {
  const client = new Client({ ssl: false, connectionTimeoutMillis: 10000, query_timeout: 20000 });
  await client.connect();
  try {
    for (let i = 0; i < ROUNDS; i++) {
      const k = (i * 7 + id * 11) % TEXTS;
      const n = i * 13 + id;
      if (i % 17 === 5) {
        try {
          await client.query(`SELECT 10 / $1::int AS v -- ${k}`, [0]);
          fail('division by zero succeeded');
        } catch (e) {
          if (e.code !== '22012') {
            throw e;
          }
          counts.errors++;
        }
      } else if (i % 10 === 3) {
        await client.query('BEGIN');
        await checked(client, k, n);
        await checked(client, (k + 1) % TEXTS, n + 1);
        await client.query('COMMIT');
        counts.queries += 2;
      } else {
        await checked(client, k, n);
        counts.queries++;
      }
    }
  } finally {
    await client.end();
  }
}

async function main() {
  const counts = { queries: 0, errors: 0 };
  const clients = [];
  for (let id = 0; id < CLIENTS; id++) {
    clients.push(run(id, counts));
  }
  await Promise.all(clients);
  process.stdout.write(JSON.stringify(counts) + '\n');
}

main().catch((e) => {
  process.stderr.write('node-postgres failed: ' + (e.code ? e.code + ' ' : '') + e.message + '\n');
  process.exit(1);
});
