// Prisma 7 through pgmux's transaction port (DATABASE_URL), as an app runs through Supabase's pooler on 6543:
// no `pgbouncer=true`, named prepared statements on, an interactive transaction, and a unique violation
// caught as P2002. Run `npm run schema` first (prisma/schema.sql), then `npm start`. See docs/prisma.md.
import { createHash } from "node:crypto";
import { PrismaPg } from "@prisma/adapter-pg";
import { Prisma, PrismaClient } from "./generated/prisma/client.ts";

const url = process.env.DATABASE_URL;
if (!url) {
  console.error("DATABASE_URL is not set: run scripts/supabase-local.sh and export the two lines it prints");
  process.exit(2);
}

const adapter = new PrismaPg(
  // node-postgres' own pool: at most 5 connections to pgmux, which serves them with its pool_size servers.
  { connectionString: url, max: 5, connectionTimeoutMillis: 10_000 },
  // Named prepared statements, one per distinct SQL text: the statements a client prepares on one server
  // must still be there when its next transaction lands on another. pgmux's prepared_statements: rewrite
  // makes sure of it, where PgBouncer users had to turn them off with pgbouncer=true.
  { statementNameGenerator: (query) => "prisma_" + createHash("sha256").update(query.sql).digest("hex").slice(0, 16) },
);
const prisma = new PrismaClient({ adapter });
const domain = "@pgmux-example.test";

function show(label: string, value: unknown) {
  console.log(label.padEnd(37) + JSON.stringify(value));
}

async function main() {
  // Start from nothing, so that the example can run again (posts go with their authors: ON DELETE CASCADE).
  const removed = await prisma.author.deleteMany({ where: { email: { endsWith: domain } } });
  show("authors removed from a last run", removed.count);

  // Creates: an author with two posts in one nested write, a second author on its own.
  const ada = await prisma.author.create({
    data: {
      email: "ada" + domain,
      name: "Ada",
      posts: { create: [{ title: "Notes on the engine" }, { title: "On pooling", body: "transaction mode" }] },
    },
    include: { posts: true },
  });
  show("created author with posts", { name: ada.name, posts: ada.posts.map((p) => p.title) });
  const grace = await prisma.author.create({ data: { email: "grace" + domain, name: "Grace" } });
  show("created author", grace.name);

  // Reads: a relation, a filter, an aggregate.
  const authors = await prisma.author.findMany({
    where: { email: { endsWith: domain } },
    include: { _count: { select: { posts: true } } },
    orderBy: { name: "asc" },
  });
  show("authors and their post counts", authors.map((a) => [a.name, a._count.posts]));
  const unpublished = await prisma.post.count({ where: { published: false, author: { email: { endsWith: domain } } } });
  show("unpublished posts", unpublished);

  // An interactive transaction: reads and writes on one server connection from BEGIN to COMMIT, which pgmux
  // keeps for this client until the transaction ends.
  const moved = await prisma.$transaction(async (tx) => {
    const [first] = await tx.$queryRaw<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`;
    const post = await tx.post.findFirstOrThrow({ where: { authorId: ada.id }, orderBy: { id: "asc" } });
    await tx.post.update({ where: { id: post.id }, data: { authorId: grace.id, published: true } });
    const [last] = await tx.$queryRaw<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`;
    return { title: post.title, sameServerThroughout: first.pid === last.pid };
  });
  show("interactive transaction committed", moved);

  // One that fails halfway rolls back all of it.
  try {
    await prisma.$transaction(async (tx) => {
      await tx.post.create({ data: { title: "never seen", authorId: grace.id } });
      throw new Error("changed my mind");
    });
  } catch (e) {
    show("interactive transaction rolled back", (e as Error).message);
  }
  show("posts titled 'never seen'", await prisma.post.count({ where: { title: "never seen" } }));

  // A deliberate unique violation: Postgres' 23505 through pgmux, Prisma's P2002.
  try {
    await prisma.author.create({ data: { email: "ada" + domain, name: "Ada again" } });
    throw new Error("expected a unique violation");
  } catch (e) {
    if (!(e instanceof Prisma.PrismaClientKnownRequestError) || e.code !== "P2002") {
      throw e;
    }
    show("unique violation caught", { code: e.code, target: uniqueTarget(e) });
  }

  // The connection still serves after the error; then 20 queries at once over node-postgres' 5 connections.
  const counts = await Promise.all(Array.from({ length: 20 }, () => prisma.post.count()));
  show("20 concurrent counts agree", counts.every((c) => c === counts[0]));

  const final = await prisma.author.findMany({
    where: { email: { endsWith: domain } },
    select: { name: true, posts: { select: { title: true, published: true }, orderBy: { id: "asc" } } },
    orderBy: { name: "asc" },
  });
  show("final state", final);
}

/** Which constraint or fields the violation was on, wherever this Prisma version reports it. */
function uniqueTarget(e: Prisma.PrismaClientKnownRequestError): unknown {
  const meta = (e.meta ?? {}) as Record<string, unknown>;
  const cause = meta.driverAdapterError as { cause?: { constraint?: unknown } } | undefined;
  return meta.target ?? cause?.cause?.constraint ?? meta;
}

main()
  .then(() => console.log("done"))
  .catch((e) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(() => prisma.$disconnect());
