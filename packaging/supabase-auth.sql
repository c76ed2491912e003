-- What Supabase's Postgres images create for their pooler to look users up (supabase/postgres:
-- ansible/files/pgbouncer_config/pgbouncer_auth_schema.sql, then the migration
-- 20251121132723_correct_search_path_pgbouncer.sql): a schema pgbouncer owned by the role pgbouncer, and
-- pgbouncer.get_auth(user), SECURITY DEFINER, which returns the user's stored password (its SCRAM verifier)
-- unless the role cannot log in or its password has expired. Only pgbouncer may call it.
-- Run as a superuser once the role pgbouncer exists (scripts/supabase-local.sh, packaging/docker/initdb/).
REVOKE ALL PRIVILEGES ON SCHEMA public FROM pgbouncer;
CREATE SCHEMA IF NOT EXISTS pgbouncer AUTHORIZATION pgbouncer;

CREATE OR REPLACE FUNCTION pgbouncer.get_auth(p_usename TEXT)
RETURNS TABLE(username TEXT, password TEXT)
LANGUAGE plpgsql
SET search_path = ''
SECURITY DEFINER
AS $$
BEGIN
    RAISE DEBUG 'PgBouncer auth request: %', p_usename;

    RETURN QUERY
    SELECT rolname::TEXT,
           CASE WHEN rolvaliduntil < now() THEN NULL ELSE rolpassword::TEXT END
    FROM pg_catalog.pg_authid
    WHERE rolname = p_usename AND rolcanlogin;
END;
$$;

REVOKE ALL ON FUNCTION pgbouncer.get_auth(TEXT) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgbouncer.get_auth(TEXT) TO pgbouncer;
