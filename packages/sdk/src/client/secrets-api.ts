/**
 * The `secrets` group of the client: pipeline secrets (one pipeline's) and global secrets (admin only, usable
 * from the namespaces their regexes match whole). Values go in with `put` and come back only from `get` with
 * `includeSecret`, and only to callers allowed to see them (`secret` is `null` otherwise).
 */
import { type HttpClient, apiPath as path } from "./http.ts";

/** A secret's metadata as v0 serves it; never its value. */
export interface Secret {
  key: string;
  /** Global secrets: regexes matched against whole namespace ids. Pipeline secrets: empty. */
  namespaces: string[];
  /** Epoch milliseconds when the current value was stored. */
  created: number;
}

export interface SecretWithValue {
  metadata: Secret;
  /** The plaintext, when asked for and allowed; `null` otherwise. */
  secret: string | null;
}

export interface PutSecretOptions {
  /** Replace an existing value; without it an existing key fails with 409. */
  force?: boolean;
}

export interface PutGlobalSecretOptions extends PutSecretOptions {
  /** Regexes of the namespaces allowed to use the secret, each matched against the whole id. Default `[".*"]`. */
  namespaces?: string[];
}

export interface GetSecretOptions {
  /** Ask for the value as well as the metadata. */
  includeSecret?: boolean;
}

export interface PipelineSecretsApi {
  list(namespace: string, pipelineId: string): Promise<Secret[]>;
  get(
    namespace: string,
    pipelineId: string,
    key: string,
    options?: GetSecretOptions,
  ): Promise<SecretWithValue>;
  put(
    namespace: string,
    pipelineId: string,
    key: string,
    content: string,
    options?: PutSecretOptions,
  ): Promise<Secret>;
  delete(namespace: string, pipelineId: string, key: string): Promise<void>;
}

export interface GlobalSecretsApi {
  list(): Promise<Secret[]>;
  get(key: string, options?: GetSecretOptions): Promise<SecretWithValue>;
  put(key: string, content: string, options?: PutGlobalSecretOptions): Promise<Secret>;
  delete(key: string): Promise<void>;
}

export interface SecretsApi {
  pipeline: PipelineSecretsApi;
  global: GlobalSecretsApi;
}

export function secretsApi(http: HttpClient): SecretsApi {
  const pipelineSecrets = (namespace: string, pipelineId: string) =>
    path`/api/namespaces/${namespace}/pipelines/${pipelineId}/secrets`;
  return {
    pipeline: {
      list: async (namespace, pipelineId) =>
        http.json("GET", pipelineSecrets(namespace, pipelineId), "secrets"),
      get: async (namespace, pipelineId, key, options = {}) =>
        http.json("GET", pipelineSecrets(namespace, pipelineId) + path`/${key}`, undefined, {
          query: { include_secret: options.includeSecret ?? false },
        }),
      put: async (namespace, pipelineId, key, content, options = {}) =>
        http.json("POST", pipelineSecrets(namespace, pipelineId), "secret", {
          body: { key, content, force: options.force ?? false },
        }),
      delete: async (namespace, pipelineId, key) =>
        http.empty("DELETE", pipelineSecrets(namespace, pipelineId) + path`/${key}`),
    },
    global: {
      list: async () => http.json("GET", "/api/secrets/global", "secrets"),
      get: async (key, options = {}) =>
        http.json("GET", path`/api/secrets/global/${key}`, undefined, {
          query: { include_secret: options.includeSecret ?? false },
        }),
      put: async (key, content, options = {}) =>
        http.json("POST", "/api/secrets/global", "secret", {
          body: { key, content, namespaces: options.namespaces ?? [".*"], force: options.force ?? false },
        }),
      delete: async (key) => http.empty("DELETE", path`/api/secrets/global/${key}`),
    },
  };
}
