// PostgreSQL schema, as numbered migrations. Append new versions; never edit a released one.
// Same tables as SQLite (sqlite-schema.ts) in PostgreSQL types: jsonb, timestamptz.

export const POSTGRES_MIGRATIONS: readonly { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE warren_instances (
        id                       text PRIMARY KEY,
        service_id               text NOT NULL,
        plan_id                  text NOT NULL,
        organization_guid        text NOT NULL,
        space_guid               text NOT NULL,
        parameters               jsonb,
        context                  jsonb,
        maintenance_info_version text,
        vhost                    text NOT NULL,
        dashboard_url            text,
        state                    text NOT NULL,
        created_at               timestamptz NOT NULL,
        updated_at               timestamptz NOT NULL
      );
      CREATE TABLE warren_bindings (
        id                     text PRIMARY KEY,
        -- No cascade: an instance's bindings must be removed (and their users deleted) first.
        instance_id            text NOT NULL REFERENCES warren_instances (id),
        service_id             text NOT NULL,
        plan_id                text NOT NULL,
        app_guid               text,
        bind_resource          jsonb,
        parameters             jsonb,
        context                jsonb,
        predecessor_binding_id text,
        username               text NOT NULL,
        credentials            text, -- sealed (secret-box.ts), not JSON
        state                  text NOT NULL,
        created_at             timestamptz NOT NULL,
        updated_at             timestamptz NOT NULL
      );
      CREATE INDEX warren_bindings_by_instance ON warren_bindings (instance_id, created_at);
      -- Operations outlive their instance (last_operation after deprovision), so no foreign key.
      -- seq breaks ties between operations created in the same millisecond.
      CREATE TABLE warren_operations (
        id            text PRIMARY KEY,
        seq           bigint GENERATED ALWAYS AS IDENTITY,
        resource_type text NOT NULL,
        resource_id   text NOT NULL,
        instance_id   text NOT NULL,
        kind          text NOT NULL,
        state         text NOT NULL,
        description   text,
        created_at    timestamptz NOT NULL,
        updated_at    timestamptz NOT NULL
      );
      CREATE INDEX warren_operations_by_resource ON warren_operations (resource_type, resource_id, created_at DESC, seq DESC);
    `,
  },
  {
    // pruneOperations deletes by updated_at: without an index it scans every row.
    version: 2,
    sql: `CREATE INDEX warren_operations_by_update ON warren_operations (updated_at);`,
  },
  {
    // Facts about the deployment itself, one row each (deployment_id: see meta.ts).
    version: 3,
    sql: `CREATE TABLE warren_meta (key text PRIMARY KEY, value text NOT NULL);`,
  },
];
