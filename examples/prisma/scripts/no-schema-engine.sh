#!/bin/sh
# Stands in for Prisma's schema engine where its download cannot be had: `prisma generate` (which compiles the
# schema with WebAssembly and runs no engine) only checks that the file exists. Anything that does run the
# engine (prisma migrate, db push, db pull) fails here with this message instead of a download error.
echo "Prisma's schema engine is not installed here (no download of it was possible): apply prisma/schema.sql with npm run schema; prisma migrate needs the engine (docs/prisma.md)" >&2
exit 1
