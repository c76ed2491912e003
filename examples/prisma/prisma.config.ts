// Prisma 7 reads its CLI settings from here. The URL is the one the CLI (prisma migrate, db push, studio)
// connects with: DIRECT_URL, pgmux's session port (or Postgres itself), because migrations hold a
// session-level advisory lock that a transaction-mode pooler cannot keep for them. The application connects
// with DATABASE_URL instead (src/main.ts). `prisma generate` connects nowhere and needs neither.
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "prisma/schema.prisma",
  datasource: {
    url: process.env.DIRECT_URL ?? "",
  },
});
