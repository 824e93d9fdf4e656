-- The least-privileged role the web, worker and beat processes log in as in production
-- (docs/configuration.md, "A least-privileged database role").
--
-- Run as the role that owns the tables (the one `manage.py migrate` runs as), connected to the
-- control plane's database, after every `migrate`: new tables get their grants, and the audit
-- table stays append-only. Create the role itself once, beforehand:
--     CREATE ROLE controlplane_app LOGIN PASSWORD '...';
-- then run this file: psql -d controlplane -f docs/sql/app-role.sql

GRANT USAGE ON SCHEMA public TO controlplane_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO controlplane_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO controlplane_app;

-- The audit trail: read and append, nothing else (the trigger of audit migration 0005 refuses
-- UPDATE and DELETE to everyone as well; TRUNCATE is refused here only).
REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON audit_auditevent FROM controlplane_app;

-- No schema changes: migrations run as the owner, never as this role.
REVOKE CREATE ON SCHEMA public FROM controlplane_app;
