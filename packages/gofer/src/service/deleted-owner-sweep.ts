/**
 * Boot-time clean-up after deletes whose files were never removed. A pipeline or namespace delete commits its
 * rows and its event in one transaction; the files follow once listeners receive the event
 * (`logs/log-lifecycle.ts`, `objects/object-lifecycle.ts`). A process that stops in between leaves folders no
 * row owns, and no event will come for them again: this sweep, run at boot before anything writes files,
 * removes every such folder.
 */
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { GoferDb } from "../storage/database.ts";
import { listNamespaces } from "../storage/namespaces-store.ts";
import { listAllPipelineIds } from "../storage/pipelines-store.ts";

export interface OwnedFolders {
  /** Task logs, `<logsDir>/<namespace>/<pipeline>/…` (see `LogStore.pathFor`). */
  logsDir: string;
  /** Objects, `<objectsDir>/namespaces/<namespace>/<pipeline>/…` for pipelines and their runs (see `ObjectStore`). */
  objectsDir: string;
}

export async function sweepDeletedOwners(db: GoferDb, folders: OwnedFolders): Promise<void> {
  const namespaces = new Set((await listNamespaces(db)).map((namespace) => namespace.id));
  // Ids never hold "/", so the pair joined by one is unambiguous.
  const pipelines = new Set(
    (await listAllPipelineIds(db)).map((pipeline) => `${pipeline.namespace_id}/${pipeline.pipeline_id}`),
  );
  for (const root of [folders.logsDir, join(folders.objectsDir, "namespaces")]) {
    for (const namespaceId of await subfolders(root)) {
      const namespaceDir = join(root, namespaceId);
      if (!namespaces.has(namespaceId)) {
        await rm(namespaceDir, { recursive: true, force: true });
        continue;
      }
      for (const pipelineId of await subfolders(namespaceDir)) {
        if (!pipelines.has(`${namespaceId}/${pipelineId}`)) {
          await rm(join(namespaceDir, pipelineId), { recursive: true, force: true });
        }
      }
    }
  }
}

/** The folders directly inside `dir`; none when it does not exist (nothing was ever stored there). */
async function subfolders(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
}
