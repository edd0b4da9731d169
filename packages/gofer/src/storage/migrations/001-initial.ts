import { type Kysely, sql } from "kysely";

/** The first schema: everything the core run loop stores. Parents cascade to children so deletes leave no orphans. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("namespaces")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("description", "text", (c) => c.notNull())
    .addColumn("created", "integer", (c) => c.notNull())
    .addColumn("modified", "integer", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("pipelines")
    .addColumn("namespace_id", "text", (c) => c.notNull().references("namespaces.id").onDelete("cascade"))
    .addColumn("pipeline_id", "text", (c) => c.notNull())
    .addColumn("created", "integer", (c) => c.notNull())
    .addColumn("modified", "integer", (c) => c.notNull())
    .addColumn("state", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("pipelines_pk", ["namespace_id", "pipeline_id"])
    .execute();

  await db.schema
    .createTable("pipeline_configs")
    .addColumn("namespace_id", "text", (c) => c.notNull())
    .addColumn("pipeline_id", "text", (c) => c.notNull())
    .addColumn("version", "integer", (c) => c.notNull())
    .addColumn("parallelism", "integer", (c) => c.notNull())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("description", "text", (c) => c.notNull())
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("registered", "integer", (c) => c.notNull())
    .addColumn("deprecated", "integer", (c) => c.notNull())
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
    .addColumn("namespace_id", "text", (c) => c.notNull())
    .addColumn("pipeline_id", "text", (c) => c.notNull())
    .addColumn("version", "integer", (c) => c.notNull())
    .addColumn("task_id", "text", (c) => c.notNull())
    .addColumn("position", "integer", (c) => c.notNull())
    .addColumn("task_json", "text", (c) => c.notNull())
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
    .addColumn("namespace_id", "text", (c) => c.notNull())
    .addColumn("pipeline_id", "text", (c) => c.notNull())
    .addColumn("deployment_id", "integer", (c) => c.notNull())
    .addColumn("start_version", "integer", (c) => c.notNull())
    .addColumn("end_version", "integer", (c) => c.notNull())
    .addColumn("started", "integer", (c) => c.notNull())
    .addColumn("ended", "integer", (c) => c.notNull())
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("status_reason_json", "text")
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
    .addColumn("seq", "integer", (c) => c.primaryKey().autoIncrement())
    .addColumn("namespace_id", "text", (c) => c.notNull())
    .addColumn("pipeline_id", "text", (c) => c.notNull())
    .addColumn("run_id", "integer", (c) => c.notNull())
    .addColumn("pipeline_config_version", "integer", (c) => c.notNull())
    .addColumn("created", "integer", (c) => c.notNull())
    .addColumn("started", "integer", (c) => c.notNull())
    .addColumn("ended", "integer", (c) => c.notNull())
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("status_reason_json", "text")
    .addColumn("initiator_json", "text", (c) => c.notNull())
    .addColumn("variables_json", "text", (c) => c.notNull())
    .addColumn("token_id", "text")
    .addColumn("store_objects_expired", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("event_id", "text")
    .addColumn("cancel_requested", "integer", (c) => c.notNull().defaultTo(0))
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
    .addColumn("namespace_id", "text", (c) => c.notNull())
    .addColumn("pipeline_id", "text", (c) => c.notNull())
    .addColumn("run_id", "integer", (c) => c.notNull())
    .addColumn("task_id", "text", (c) => c.notNull())
    .addColumn("task_json", "text", (c) => c.notNull())
    .addColumn("created", "integer", (c) => c.notNull())
    .addColumn("started", "integer", (c) => c.notNull())
    .addColumn("ended", "integer", (c) => c.notNull())
    .addColumn("exit_code", "integer")
    .addColumn("logs_expired", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("logs_removed", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("status_reason_json", "text")
    .addColumn("variables_json", "text", (c) => c.notNull())
    .addColumn("container_id", "text")
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
    .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("details_json", "text", (c) => c.notNull())
    .addColumn("emitted", "integer", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("events_by_emitted").on("events").column("emitted").execute();

  await db.schema
    .createTable("tokens")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("hash", "text", (c) => c.notNull().unique())
    .addColumn("created", "integer", (c) => c.notNull())
    .addColumn("metadata_json", "text", (c) => c.notNull())
    .addColumn("expires", "integer", (c) => c.notNull())
    .addColumn("disabled", "integer", (c) => c.notNull())
    .addColumn("roles_json", "text", (c) => c.notNull())
    .addColumn("user", "text", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("system")
    .addColumn("id", "integer", (c) => c.primaryKey())
    .addColumn("bootstrap_token_created", "integer", (c) => c.notNull())
    .addColumn("ignore_pipeline_run_events", "integer", (c) => c.notNull())
    .addColumn("instance_id", "text", (c) => c.notNull())
    .execute();
  // The instance id labels every container this installation creates, so two Gofer servers sharing one engine
  // never mistake each other's containers for their own.
  await sql`insert into system (id, bootstrap_token_created, ignore_pipeline_run_events, instance_id)
    values (1, 0, 0, lower(hex(randomblob(8))))`.execute(db);
}
