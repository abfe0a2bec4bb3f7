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
    // Durable operations (owner, lease, intent) for coordination and recovery, follow-ups such as
    // the unbind's late look, and named leases for once-per-deployment background jobs.
    // warren_begin_operation checks and records in one round trip, serialized per instance by a
    // transaction-level advisory lock (held for microseconds, never across an HTTP call).
    version: 3,
    sql: `
      ALTER TABLE warren_operations ADD COLUMN owner text;
      ALTER TABLE warren_operations ADD COLUMN lease_until timestamptz;
      ALTER TABLE warren_operations ADD COLUMN intent jsonb;
      ALTER TABLE warren_operations ADD COLUMN followup_at timestamptz;
      CREATE INDEX warren_operations_active_by_instance ON warren_operations (instance_id) WHERE state = 'in progress';
      CREATE INDEX warren_operations_active_by_resource ON warren_operations (resource_id) WHERE state = 'in progress';
      CREATE INDEX warren_operations_followups ON warren_operations (followup_at) WHERE followup_at IS NOT NULL;
      CREATE TABLE warren_leases (
        name       text PRIMARY KEY,
        holder     text NOT NULL,
        epoch      bigint NOT NULL,
        expires_at timestamptz NOT NULL
      );
      CREATE FUNCTION warren_begin_operation(
        p_id text, p_type text, p_resource text, p_instance text, p_kind text, p_owner text, p_lease_ms integer, p_intent jsonb
      ) RETURNS SETOF warren_operations LANGUAGE plpgsql AS $fn$
      DECLARE
        t timestamptz := clock_timestamp();
      BEGIN
        PERFORM pg_advisory_xact_lock(hashtext('warren:instance:' || p_instance));
        UPDATE warren_operations o
           SET state = 'failed', description = 'abandoned by a replica that stopped; superseded by a newer request',
               owner = NULL, lease_until = NULL, updated_at = t
         WHERE o.state = 'in progress' AND coalesce(o.lease_until, '-infinity') <= t
           AND ((p_type = 'instance' AND o.instance_id = p_instance)
             OR (p_type = 'binding' AND ((o.resource_type = 'instance' AND o.resource_id = p_instance)
                                      OR (o.resource_type = 'binding' AND o.resource_id = p_resource))));
        RETURN QUERY
          SELECT * FROM warren_operations o
           WHERE o.state = 'in progress'
             AND ((p_type = 'instance' AND o.instance_id = p_instance)
               OR (p_type = 'binding' AND ((o.resource_type = 'instance' AND o.resource_id = p_instance)
                                        OR (o.resource_type = 'binding' AND o.resource_id = p_resource))))
           LIMIT 1;
        IF FOUND THEN
          RETURN;
        END IF;
        INSERT INTO warren_operations
          (id, resource_type, resource_id, instance_id, kind, state, description, owner, lease_until, intent, followup_at, created_at, updated_at)
        VALUES
          (p_id, p_type, p_resource, p_instance, p_kind, 'in progress', NULL, p_owner, t + p_lease_ms * interval '1 millisecond', p_intent, NULL, t, t);
      END
      $fn$;
    `,
  },
  {
    // Facts about the deployment itself, one row each (deployment_id: see meta.ts).
    version: 4,
    sql: `CREATE TABLE warren_meta (key text PRIMARY KEY, value text NOT NULL);`,
  },
  {
    // Begin, plus what the operation works on, in one round trip and one commit: the blocking
    // operation, or the instance and binding rows read after the lock (as JSON: one row of three
    // tables), with the binding's state set first where asked (an unbind's 'deleting'). An
    // abandoned operation it supersedes gets a look for its late writes. Binding operations on one
    // instance no longer queue behind each other (see the locks).
    version: 5,
    sql: `
      CREATE FUNCTION warren_begin_operation_rows(
        p_id text, p_type text, p_resource text, p_instance text, p_kind text, p_owner text, p_lease_ms integer, p_intent jsonb,
        p_binding_state text, p_binding jsonb, p_superseded_look_ms integer
      ) RETURNS TABLE (blocking json, instance json, binding json) LANGUAGE plpgsql AS $fn$
      DECLARE
        t timestamptz;
        b warren_operations;
      BEGIN
        -- A reader-writer lock per instance: an instance operation excludes everything on the
        -- instance; binding operations share it and exclude each other per binding. (The lock is
        -- held until commit, so binds on one instance would otherwise queue behind each fsync.)
        IF p_type = 'instance' THEN
          PERFORM pg_advisory_xact_lock(1, hashtext(p_instance));
        ELSE
          PERFORM pg_advisory_xact_lock_shared(1, hashtext(p_instance));
          PERFORM pg_advisory_xact_lock(2, hashtext(p_resource));
        END IF;
        t := clock_timestamp();
        UPDATE warren_operations o
           SET state = 'failed', description = 'abandoned by a replica that stopped; superseded by a newer request',
               owner = NULL, lease_until = NULL, updated_at = t,
               followup_at = t + p_superseded_look_ms * interval '1 millisecond',
               intent = coalesce(o.intent, '{}'::jsonb) || '{"writesInDoubt": true}'::jsonb
         WHERE o.state = 'in progress' AND coalesce(o.lease_until, '-infinity') <= t
           AND ((p_type = 'instance' AND o.instance_id = p_instance)
             OR (p_type = 'binding' AND ((o.resource_type = 'instance' AND o.resource_id = p_instance)
                                      OR (o.resource_type = 'binding' AND o.resource_id = p_resource))));
        SELECT * INTO b FROM warren_operations o
         WHERE o.state = 'in progress'
           AND ((p_type = 'instance' AND o.instance_id = p_instance)
             OR (p_type = 'binding' AND ((o.resource_type = 'instance' AND o.resource_id = p_instance)
                                      OR (o.resource_type = 'binding' AND o.resource_id = p_resource))))
         LIMIT 1;
        IF FOUND THEN
          RETURN QUERY SELECT row_to_json(b), NULL::json, NULL::json;
          RETURN;
        END IF;
        INSERT INTO warren_operations
          (id, resource_type, resource_id, instance_id, kind, state, description, owner, lease_until, intent, followup_at, created_at, updated_at)
        VALUES
          (p_id, p_type, p_resource, p_instance, p_kind, 'in progress', NULL, p_owner, t + p_lease_ms * interval '1 millisecond', p_intent, NULL, t, t);
        IF p_type = 'binding' AND p_binding_state IS NOT NULL THEN
          UPDATE warren_bindings SET state = p_binding_state, updated_at = t
           WHERE id = p_resource AND instance_id = p_instance AND state <> p_binding_state;
        END IF;
        -- A bind's row, where the instance takes binds on that plan (the broker checks the rest).
        IF p_type = 'binding' AND p_binding IS NOT NULL THEN
          INSERT INTO warren_bindings
            SELECT (jsonb_populate_record(NULL::warren_bindings, p_binding)).*
             WHERE EXISTS (SELECT 1 FROM warren_instances i
                            WHERE i.id = p_instance AND i.state IN ('ready', 'updating') AND i.plan_id = p_binding->>'plan_id')
          ON CONFLICT (id) DO NOTHING;
        END IF;
        RETURN QUERY SELECT NULL::json,
          (SELECT row_to_json(i) FROM warren_instances i WHERE i.id = p_instance),
          (SELECT row_to_json(x) FROM warren_bindings x WHERE p_type = 'binding' AND x.id = p_resource);
      END
      $fn$;
      -- Replicas of the previous version, still running during a rolling upgrade, take the same locks.
      CREATE OR REPLACE FUNCTION warren_begin_operation(
        p_id text, p_type text, p_resource text, p_instance text, p_kind text, p_owner text, p_lease_ms integer, p_intent jsonb
      ) RETURNS SETOF warren_operations LANGUAGE sql AS $fn$
        SELECT (json_populate_record(NULL::warren_operations, r.blocking)).*
          FROM warren_begin_operation_rows(p_id, p_type, p_resource, p_instance, p_kind, p_owner, p_lease_ms, p_intent, NULL, NULL, 30000) r
         WHERE r.blocking IS NOT NULL
      $fn$;
    `,
  },
];
