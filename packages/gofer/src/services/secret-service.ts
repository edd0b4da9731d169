/**
 * Pipeline and global secrets. Values go in through `put` and come out only through `get` with `includeValue`
 * for callers allowed to see them; every other answer carries metadata only.
 *
 * Revealing a pipeline secret's value needs `secrets` write on its namespace and pipeline (the people who
 * could replace it anyway); `secrets` read shows that it exists. Global secrets are admin-only throughout, which
 * the route access table enforces. Gofer has no secret events, so none are published.
 */
import { resolveNeeds } from "../auth/authorize.ts";
import type { Principal } from "../auth/tokens.ts";
import { notFound } from "../domain/errors.ts";
import { rolesSatisfy } from "../domain/permissions.ts";
import { requireNamespaceRules, requireSecretKey } from "../domain/secrets.ts";
import type { SecretMetadata, SecretStore } from "../secrets/secret-store.ts";
import type { GoferDb } from "../storage/database.ts";
import { getRoles } from "../storage/roles-store.ts";
import { requirePipeline } from "./lookups.ts";

export interface PipelineSecretKey {
  namespace_id: string;
  pipeline_id: string;
  key: string;
}

/** A secret as the API answers it: the value is null unless asked for and allowed. */
export interface ShownSecret {
  metadata: SecretMetadata;
  secret: string | null;
}

export interface SecretServiceDeps {
  db: GoferDb;
  secrets: SecretStore;
}

export class SecretService {
  readonly #db: GoferDb;
  readonly #secrets: SecretStore;

  constructor({ db, secrets }: SecretServiceDeps) {
    this.#db = db;
    this.#secrets = secrets;
  }

  async listPipelineSecrets(namespaceId: string, pipelineId: string): Promise<SecretMetadata[]> {
    await requirePipeline(this.#db, namespaceId, pipelineId);
    return this.#secrets.listPipelineSecrets(namespaceId, pipelineId);
  }

  /** 409 when the key exists and `force` is false. */
  async putPipelineSecret(
    namespaceId: string,
    pipelineId: string,
    secret: { key: string; content: string; force: boolean },
  ): Promise<SecretMetadata> {
    requireSecretKey(secret.key);
    await requirePipeline(this.#db, namespaceId, pipelineId);
    return this.#secrets.putPipelineSecret(namespaceId, pipelineId, secret.key, secret.content, secret.force);
  }

  async getPipelineSecret(
    { namespace_id, pipeline_id, key }: PipelineSecretKey,
    includeValue: boolean,
    principal: Principal,
  ): Promise<ShownSecret> {
    const secret = await this.#secrets.getPipelineSecret(namespace_id, pipeline_id, key);
    if (!secret) {
      await requirePipeline(this.#db, namespace_id, pipeline_id);
      throw notFound(`Secret "${key}" of pipeline "${pipeline_id}"`);
    }
    const reveal = includeValue && (await this.#mayReveal(principal, { namespace_id, pipeline_id }));
    return { metadata: secret.metadata, secret: reveal ? secret.value() : null };
  }

  async deletePipelineSecret({ namespace_id, pipeline_id, key }: PipelineSecretKey): Promise<void> {
    if (!(await this.#secrets.deletePipelineSecret(namespace_id, pipeline_id, key))) {
      await requirePipeline(this.#db, namespace_id, pipeline_id);
      throw notFound(`Secret "${key}" of pipeline "${pipeline_id}"`);
    }
  }

  listGlobalSecrets(): Promise<SecretMetadata[]> {
    return this.#secrets.listGlobalSecrets();
  }

  /** 409 when the key exists and `force` is false. */
  putGlobalSecret(secret: {
    key: string;
    content: string;
    namespaces: string[];
    force: boolean;
  }): Promise<SecretMetadata> {
    requireSecretKey(secret.key);
    requireNamespaceRules(secret.namespaces);
    return this.#secrets.putGlobalSecret(secret.key, secret.content, secret.namespaces, secret.force);
  }

  /** Global secrets are admin-only, so whoever gets here may see the value. */
  async getGlobalSecret(key: string, includeValue: boolean): Promise<ShownSecret> {
    const secret = await this.#secrets.getGlobalSecret(key);
    if (!secret) throw notFound(`Global secret "${key}"`);
    return { metadata: secret.metadata, secret: includeValue ? secret.value() : null };
  }

  async deleteGlobalSecret(key: string): Promise<void> {
    if (!(await this.#secrets.deleteGlobalSecret(key))) throw notFound(`Global secret "${key}"`);
  }

  async #mayReveal(
    principal: Principal,
    params: { namespace_id: string; pipeline_id: string },
  ): Promise<boolean> {
    if (principal.admin) return true;
    if (!principal.token) return false;
    const needs = resolveNeeds(["namespaces:{namespace_id}", "pipelines:{pipeline_id}", "secrets"], params);
    return rolesSatisfy(await getRoles(this.#db, principal.token.roles), "write", needs);
  }
}
