// PostgreSQL schema, as numbered migrations (migrations.ts, then PostgreSQL's own). Append new
// versions; never edit a released one. Same tables as SQLite in PostgreSQL types: jsonb, timestamptz.

import { sharedMigrations, type Migration } from './migrations.ts';
import { PG_TYPES } from './statement-text.ts';

// The signature of begin, alike in versions 5 and 6.
const BEGIN_ROWS_HEAD = `warren_begin_operation_rows(
        p_id text, p_type text, p_resource text, p_instance text, p_kind text, p_owner text, p_lease_ms integer, p_intent jsonb,
        p_binding_state text, p_binding jsonb, p_superseded_look_ms integer
      ) RETURNS TABLE (blocking json, instance json, binding json) LANGUAGE plpgsql AS $fn$
      DECLARE
        t timestamptz;
        b warren_operations;
      BEGIN
`;

// Its locks, alike in versions 5 and 6.
const BEGIN_ROWS_LOCKS = `        IF p_type = 'instance' THEN
          PERFORM pg_advisory_xact_lock(1, hashtext(p_instance));
        ELSE
          PERFORM pg_advisory_xact_lock_shared(1, hashtext(p_instance));
          PERFORM pg_advisory_xact_lock(2, hashtext(p_resource));
        END IF;
        t := clock_timestamp();
`;

// The end of begin: the operation's row, the binding's state or row, and what the operation
// works on. Versions 5 and 6 selected the binding's row as `(jsonb_populate_record(..)).*`, which
// PostgreSQL expands into one call per column (13 parses of the JSON per bind); 7 calls it once.
const beginRowsTail = (bindingRow: string): string => `        INSERT INTO warren_operations
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
            ${bindingRow}
             WHERE EXISTS (SELECT 1 FROM warren_instances i
                            WHERE i.id = p_instance AND i.state IN ('ready', 'updating') AND i.plan_id = p_binding->>'plan_id')
          ON CONFLICT (id) DO NOTHING;
        END IF;
        RETURN QUERY SELECT NULL::json,
          (SELECT row_to_json(i) FROM warren_instances i WHERE i.id = p_instance),
          (SELECT row_to_json(x) FROM warren_bindings x WHERE p_type = 'binding' AND x.id = p_resource);
      END
      $fn$;
`;
// Version 6's search for conflicts: one index probe per kind of operation (see version 6).
const BEGIN_ROWS_CONFLICTS = `        FOR pass IN 1..2 LOOP
          IF p_type = 'instance' THEN
            SELECT * INTO b FROM warren_operations o
             WHERE o.state = 'in progress' AND o.instance_id = p_instance
             ORDER BY coalesce(o.lease_until, '-infinity') LIMIT 1;
          ELSE
            SELECT * INTO b FROM (
              SELECT * FROM warren_operations o
               WHERE o.state = 'in progress' AND o.resource_id = p_resource AND o.resource_type = 'binding'
              UNION ALL
              SELECT * FROM warren_operations o
               WHERE o.state = 'in progress' AND o.resource_id = p_instance AND o.resource_type = 'instance'
            ) c ORDER BY coalesce(c.lease_until, '-infinity') LIMIT 1;
          END IF;
          EXIT WHEN NOT FOUND;
          -- The earliest lease is still running: that operation blocks this one.
          IF pass = 2 OR coalesce(b.lease_until, '-infinity') > t THEN
            RETURN QUERY SELECT row_to_json(b), NULL::json, NULL::json;
            RETURN;
          END IF;
          -- Abandoned by a replica that stopped: superseded, with a look for its late writes.
          UPDATE warren_operations o
             SET state = 'failed', description = 'abandoned by a replica that stopped; superseded by a newer request',
                 owner = NULL, lease_until = NULL, updated_at = t,
                 followup_at = t + p_superseded_look_ms * interval '1 millisecond',
                 intent = coalesce(o.intent, '{}'::jsonb) || '{"writesInDoubt": true}'::jsonb
           WHERE o.state = 'in progress' AND coalesce(o.lease_until, '-infinity') <= t
             AND o.id IN (
               SELECT a.id FROM warren_operations a
                WHERE p_type = 'instance' AND a.state = 'in progress' AND a.instance_id = p_instance
               UNION ALL
               SELECT a.id FROM warren_operations a
                WHERE p_type = 'binding' AND a.state = 'in progress'
                  AND ((a.resource_type = 'binding' AND a.resource_id = p_resource) OR (a.resource_type = 'instance' AND a.resource_id = p_instance)));
        END LOOP;
`;
const PER_COLUMN_BINDING_ROW = 'SELECT (jsonb_populate_record(NULL::warren_bindings, p_binding)).*';

export const POSTGRES_MIGRATIONS: readonly Migration[] = [
  ...sharedMigrations({
    types: PG_TYPES,
    integer: 'bigint',
    operationExtras: [
      { name: 'seq', definition: 'bigint GENERATED ALWAYS AS IDENTITY', note: 'Breaks ties between operations created in the same millisecond.' },
    ],
    operationsByResource: 'resource_type, resource_id, created_at DESC, seq DESC',
  }),
  // Version 3 also created warren_begin_operation (check and record in one round trip); version 5
  // replaces it, so a database at 3 or 4 has its body replaced there and a new one gets it there.
  {
    // Begin, plus what the operation works on, in one round trip and one commit: the blocking
    // operation, or the instance and binding rows read after the lock (as JSON: one row of three
    // tables), with the binding's state set first where asked (an unbind's 'deleting'). An
    // abandoned operation it supersedes gets a look for its late writes. Binding operations on one
    // instance no longer queue behind each other (see the locks).
    version: 5,
    sql: `
      CREATE FUNCTION ${BEGIN_ROWS_HEAD}        -- A reader-writer lock per instance: an instance operation excludes everything on the
        -- instance; binding operations share it and exclude each other per binding. (The lock is
        -- held until commit, so binds on one instance would otherwise queue behind each fsync.)
${BEGIN_ROWS_LOCKS}        UPDATE warren_operations o
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
${beginRowsTail(PER_COLUMN_BINDING_ROW)}      -- Replicas of the previous version, still running during a rolling upgrade, take the same locks.
      CREATE OR REPLACE FUNCTION warren_begin_operation(
        p_id text, p_type text, p_resource text, p_instance text, p_kind text, p_owner text, p_lease_ms integer, p_intent jsonb
      ) RETURNS SETOF warren_operations LANGUAGE sql AS $fn$
        SELECT (json_populate_record(NULL::warren_operations, r.blocking)).*
          FROM warren_begin_operation_rows(p_id, p_type, p_resource, p_instance, p_kind, p_owner, p_lease_ms, p_intent, NULL, NULL, 30000) r
         WHERE r.blocking IS NOT NULL
      $fn$;
    `,
  },
  {
    // Version 5 found conflicts with one statement for both kinds of operation: `(p_type =
    // 'instance' AND instance_id = ..) OR (p_type = 'binding' AND ..)`. Once PL/pgSQL switched to
    // its generic plan, a binding operation scanned the instance's entries in the active index as
    // well, and every finished binding operation of the instance leaves one (dead, until VACUUM):
    // with autovacuum off, PostgreSQL's CPU per bind+unbind tripled within 16k operations. Each
    // kind now has its own statements, and the common case (no conflict) is one index scan: look
    // first, supersede expired operations only when there are any.
    version: 6,
    sql: `
      CREATE OR REPLACE FUNCTION ${BEGIN_ROWS_HEAD}        -- A reader-writer lock per instance: an instance operation excludes everything on the
        -- instance; binding operations share it and exclude each other per binding.
${BEGIN_ROWS_LOCKS}${BEGIN_ROWS_CONFLICTS}${beginRowsTail(PER_COLUMN_BINDING_ROW)}    `,
  },
  {
    // The bind's row parsed from its JSON once instead of once per column (see beginRowsTail). The
    // wrapper for replicas of version 4 and older gets the same change.
    version: 7,
    sql: `
      CREATE OR REPLACE FUNCTION ${BEGIN_ROWS_HEAD}        -- A reader-writer lock per instance: an instance operation excludes everything on the
        -- instance; binding operations share it and exclude each other per binding.
${BEGIN_ROWS_LOCKS}${BEGIN_ROWS_CONFLICTS}${beginRowsTail('SELECT r.* FROM jsonb_populate_record(NULL::warren_bindings, p_binding) r')}
      CREATE OR REPLACE FUNCTION warren_begin_operation(
        p_id text, p_type text, p_resource text, p_instance text, p_kind text, p_owner text, p_lease_ms integer, p_intent jsonb
      ) RETURNS SETOF warren_operations LANGUAGE sql AS $fn$
        SELECT o.*
          FROM warren_begin_operation_rows(p_id, p_type, p_resource, p_instance, p_kind, p_owner, p_lease_ms, p_intent, NULL, NULL, 30000) r,
               json_populate_record(NULL::warren_operations, r.blocking) o
         WHERE r.blocking IS NOT NULL
      $fn$;
    `,
  },
];
