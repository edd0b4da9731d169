import { type Kysely, sql } from "kysely";
import { type DialectName, dialectTypes } from "../dialect.ts";

/** The first schema: everything the core run loop stores. Parents cascade to children so deletes leave no orphans. */
export async function up(db: Kysely<unknown>, dialect: DialectName = "sqlite"): Promise<void> {
  const t = dialectTypes(dialect);
  await db.schema
    .createTable("namespaces")
    .addColumn("id", t.text, (c) => c.primaryKey())
    .addColumn("name", t.text, (c) => c.notNull())
    .addColumn("description", t.text, (c) => c.notNull())
    .addColumn("created", t.integer, (c) => c.notNull())
    .addColumn("modified", t.integer, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("pipelines")
    .addColumn("namespace_id", t.text, (c) => c.notNull().references("namespaces.id").onDelete("cascade"))
    .addColumn("pipeline_id", t.text, (c) => c.notNull())
    .addColumn("created", t.integer, (c) => c.notNull())
    .addColumn("modified", t.integer, (c) => c.notNull())
    .addColumn("state", t.text, (c) => c.notNull())
    .addPrimaryKeyConstraint("pipelines_pk", ["namespace_id", "pipeline_id"])
    .execute();

  await db.schema
    .createTable("pipeline_configs")
    .addColumn("namespace_id", t.text, (c) => c.notNull())
    .addColumn("pipeline_id", t.text, (c) => c.notNull())
    .addColumn("version", t.integer, (c) => c.notNull())
    .addColumn("parallelism", t.integer, (c) => c.notNull())
    .addColumn("name", t.text, (c) => c.notNull())
    .addColumn("description", t.text, (c) => c.notNull())
    .addColumn("state", t.text, (c) => c.notNull())
    .addColumn("registered", t.integer, (c) => c.notNull())
    .addColumn("deprecated", t.integer, (c) => c.notNull())
    .addPrimaryKeyConstraint("pipeline_configs_pk", ["namespace_id", "pipeline_id", "version"])
    .addForeignKeyConstraint(
      "pipeline_configs_pipeline_fk",
      ["namespace_id", "pipeline_id"],
      "pipelines",
      ["namespace_id", "pipeline_id"],
      (fk) => fk.onDelete("cascade"),
    )
    .execute();

  await db.schema
    .createTable("pipeline_tasks")
    .addColumn("namespace_id", t.text, (c) => c.notNull())
    .addColumn("pipeline_id", t.text, (c) => c.notNull())
    .addColumn("version", t.integer, (c) => c.notNull())
    .addColumn("task_id", t.text, (c) => c.notNull())
    .addColumn("position", t.integer, (c) => c.notNull())
    .addColumn("task_json", t.text, (c) => c.notNull())
    .addPrimaryKeyConstraint("pipeline_tasks_pk", ["namespace_id", "pipeline_id", "version", "task_id"])
    .addForeignKeyConstraint(
      "pipeline_tasks_config_fk",
      ["namespace_id", "pipeline_id", "version"],
      "pipeline_configs",
      ["namespace_id", "pipeline_id", "version"],
      (fk) => fk.onDelete("cascade"),
    )
    .execute();

  await db.schema
    .createTable("deployments")
    .addColumn("namespace_id", t.text, (c) => c.notNull())
    .addColumn("pipeline_id", t.text, (c) => c.notNull())
    .addColumn("deployment_id", t.integer, (c) => c.notNull())
    .addColumn("start_version", t.integer, (c) => c.notNull())
    .addColumn("end_version", t.integer, (c) => c.notNull())
    .addColumn("started", t.integer, (c) => c.notNull())
    .addColumn("ended", t.integer, (c) => c.notNull())
    .addColumn("state", t.text, (c) => c.notNull())
    .addColumn("status", t.text, (c) => c.notNull())
    .addColumn("status_reason_json", t.text)
    .addPrimaryKeyConstraint("deployments_pk", ["namespace_id", "pipeline_id", "deployment_id"])
    .addForeignKeyConstraint(
      "deployments_pipeline_fk",
      ["namespace_id", "pipeline_id"],
      "pipelines",
      ["namespace_id", "pipeline_id"],
      (fk) => fk.onDelete("cascade"),
    )
    .execute();

  await db.schema
    .createTable("runs")
    .addColumn("seq", t.integer, t.generatedKey)
    .addColumn("namespace_id", t.text, (c) => c.notNull())
    .addColumn("pipeline_id", t.text, (c) => c.notNull())
    .addColumn("run_id", t.integer, (c) => c.notNull())
    .addColumn("pipeline_config_version", t.integer, (c) => c.notNull())
    .addColumn("created", t.integer, (c) => c.notNull())
    .addColumn("started", t.integer, (c) => c.notNull())
    .addColumn("ended", t.integer, (c) => c.notNull())
    .addColumn("state", t.text, (c) => c.notNull())
    .addColumn("status", t.text, (c) => c.notNull())
    .addColumn("status_reason_json", t.text)
    .addColumn("initiator_json", t.text, (c) => c.notNull())
    .addColumn("variables_json", t.text, (c) => c.notNull())
    .addColumn("token_id", t.text)
    .addColumn("store_objects_expired", t.integer, (c) => c.notNull().defaultTo(0))
    .addColumn("event_id", t.text)
    .addColumn("cancel_requested", t.integer, (c) => c.notNull().defaultTo(0))
    .addUniqueConstraint("runs_natural_key", ["namespace_id", "pipeline_id", "run_id"])
    .addForeignKeyConstraint(
      "runs_pipeline_fk",
      ["namespace_id", "pipeline_id"],
      "pipelines",
      ["namespace_id", "pipeline_id"],
      (fk) => fk.onDelete("cascade"),
    )
    .execute();
  await db.schema.createIndex("runs_by_state").on("runs").columns(["state", "seq"]).execute();

  await db.schema
    .createTable("task_executions")
    .addColumn("namespace_id", t.text, (c) => c.notNull())
    .addColumn("pipeline_id", t.text, (c) => c.notNull())
    .addColumn("run_id", t.integer, (c) => c.notNull())
    .addColumn("task_id", t.text, (c) => c.notNull())
    .addColumn("task_json", t.text, (c) => c.notNull())
    .addColumn("created", t.integer, (c) => c.notNull())
    .addColumn("started", t.integer, (c) => c.notNull())
    .addColumn("ended", t.integer, (c) => c.notNull())
    .addColumn("exit_code", t.integer)
    .addColumn("logs_expired", t.integer, (c) => c.notNull().defaultTo(0))
    .addColumn("logs_removed", t.integer, (c) => c.notNull().defaultTo(0))
    .addColumn("state", t.text, (c) => c.notNull())
    .addColumn("status", t.text, (c) => c.notNull())
    .addColumn("status_reason_json", t.text)
    .addColumn("variables_json", t.text, (c) => c.notNull())
    .addColumn("container_id", t.text)
    .addPrimaryKeyConstraint("task_executions_pk", ["namespace_id", "pipeline_id", "run_id", "task_id"])
    .addForeignKeyConstraint(
      "task_executions_run_fk",
      ["namespace_id", "pipeline_id", "run_id"],
      "runs",
      ["namespace_id", "pipeline_id", "run_id"],
      (fk) => fk.onDelete("cascade"),
    )
    .execute();

  await db.schema
    .createTable("events")
    .addColumn("id", t.integer, t.generatedKey)
    .addColumn("kind", t.text, (c) => c.notNull())
    .addColumn("details_json", t.text, (c) => c.notNull())
    .addColumn("emitted", t.integer, (c) => c.notNull())
    .execute();
  await db.schema.createIndex("events_by_emitted").on("events").column("emitted").execute();

  await db.schema
    .createTable("tokens")
    .addColumn("id", t.text, (c) => c.primaryKey())
    .addColumn("hash", t.text, (c) => c.notNull().unique())
    .addColumn("created", t.integer, (c) => c.notNull())
    .addColumn("metadata_json", t.text, (c) => c.notNull())
    .addColumn("expires", t.integer, (c) => c.notNull())
    .addColumn("disabled", t.integer, (c) => c.notNull())
    .addColumn("roles_json", t.text, (c) => c.notNull())
    .addColumn("user", t.text, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("system")
    .addColumn("id", t.integer, (c) => c.primaryKey())
    .addColumn("bootstrap_token_created", t.integer, (c) => c.notNull())
    .addColumn("ignore_pipeline_run_events", t.integer, (c) => c.notNull())
    .addColumn("instance_id", t.text, (c) => c.notNull())
    .execute();
  // The instance id labels every container this installation creates, so two Gofer servers sharing one engine
  // never mistake each other's containers for their own.
  await sql`insert into system (id, bootstrap_token_created, ignore_pipeline_run_events, instance_id)
    values (1, 0, 0, ${t.randomHex16})`.execute(db);
}
