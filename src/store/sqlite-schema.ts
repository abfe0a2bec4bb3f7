// SQLite schema, as numbered migrations. Append new versions; never edit a released one.
// Dates are UTC ISO 8601 text (sortable as text); JSON is text; credentials are sealed text.

export const SQLITE_MIGRATIONS: readonly { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE warren_instances (
        id                       TEXT PRIMARY KEY,
        service_id               TEXT NOT NULL,
        plan_id                  TEXT NOT NULL,
        organization_guid        TEXT NOT NULL,
        space_guid               TEXT NOT NULL,
        parameters               TEXT,
        context                  TEXT,
        maintenance_info_version TEXT,
        vhost                    TEXT NOT NULL,
        dashboard_url            TEXT,
        state                    TEXT NOT NULL,
        created_at               TEXT NOT NULL,
        updated_at               TEXT NOT NULL
      );
      CREATE TABLE warren_bindings (
        id                     TEXT PRIMARY KEY,
        -- No cascade: an instance's bindings must be removed (and their users deleted) first.
        instance_id            TEXT NOT NULL REFERENCES warren_instances (id),
        service_id             TEXT NOT NULL,
        plan_id                TEXT NOT NULL,
        app_guid               TEXT,
        bind_resource          TEXT,
        parameters             TEXT,
        context                TEXT,
        predecessor_binding_id TEXT,
        username               TEXT NOT NULL,
        credentials            TEXT,
        state                  TEXT NOT NULL,
        created_at             TEXT NOT NULL,
        updated_at             TEXT NOT NULL
      );
      CREATE INDEX warren_bindings_by_instance ON warren_bindings (instance_id, created_at);
      -- Operations outlive their instance (last_operation after deprovision), so no foreign key.
      CREATE TABLE warren_operations (
        id            TEXT PRIMARY KEY,
        resource_type TEXT NOT NULL,
        resource_id   TEXT NOT NULL,
        instance_id   TEXT NOT NULL,
        kind          TEXT NOT NULL,
        state         TEXT NOT NULL,
        description   TEXT,
        created_at    TEXT NOT NULL,
        updated_at    TEXT NOT NULL
      );
      CREATE INDEX warren_operations_by_resource ON warren_operations (resource_type, resource_id, created_at);
    `,
  },
  {
    // pruneOperations deletes by updated_at: without an index it scans every row.
    version: 2,
    sql: `CREATE INDEX warren_operations_by_update ON warren_operations (updated_at);`,
  },
  {
    // Durable operations (owner, lease, intent) for coordination and recovery, follow-ups such as
    // the unbind's late look, and named leases for once-per-deployment background jobs.
    version: 3,
    sql: `
      ALTER TABLE warren_operations ADD COLUMN owner TEXT;
      ALTER TABLE warren_operations ADD COLUMN lease_until TEXT;
      ALTER TABLE warren_operations ADD COLUMN intent TEXT;
      ALTER TABLE warren_operations ADD COLUMN followup_at TEXT;
      CREATE INDEX warren_operations_active_by_instance ON warren_operations (instance_id) WHERE state = 'in progress';
      CREATE INDEX warren_operations_active_by_resource ON warren_operations (resource_id) WHERE state = 'in progress';
      CREATE INDEX warren_operations_followups ON warren_operations (followup_at) WHERE followup_at IS NOT NULL;
      CREATE TABLE warren_leases (
        name       TEXT PRIMARY KEY,
        holder     TEXT NOT NULL,
        epoch      INTEGER NOT NULL,
        expires_at TEXT NOT NULL
      );
    `,
  },
  {
    // Facts about the deployment itself, one row each (deployment_id: see meta.ts).
    version: 4,
    sql: `CREATE TABLE warren_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);`,
  },
];
