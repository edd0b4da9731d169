/**
 * The `objects` group of the client: raw bytes stored by key for a pipeline (kept across its runs), for one run,
 * or for an extension. Contents travel as bytes, never as JSON: `put` takes a stream as well as a buffer and
 * sends it as it is read, and `stream` hands a download over as it arrives, so neither holds a large object
 * in memory.
 */
import { type HttpClient, apiPath as path, type RawBody } from "./http.ts";

/** An object's metadata as v0 serves it. */
export interface StoredObject {
  key: string;
  /** Epoch milliseconds when the current content was stored. */
  created: number;
  /** Bytes, when the server reports them (v0 list and put answers carry only `key` and `created`). */
  size?: number;
}

/** What `put` stores: bytes in memory, a Blob (a file opened as one, say), or a stream read as it is sent. */
export type ObjectBody = RawBody;

export interface PutObjectOptions {
  /** Replace an existing object; without it an existing key fails with 409, `ALREADY_EXISTS`. */
  force?: boolean;
}

export interface ObjectStreamOptions {
  /** Ends the download; the stream then errors with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Keys are names, not paths: 1–256 bytes of UTF-8 without `/`, `\` or control characters, and not `.` or `..`.
 * `get` reads the whole object within the client's timeout; use `stream` for large ones.
 */
export interface PipelineObjectsApi {
  /** Oldest first. */
  list(namespace: string, pipelineId: string): Promise<StoredObject[]>;
  get(namespace: string, pipelineId: string, key: string): Promise<Uint8Array>;
  /** The content as it arrives; the timeout covers only the wait for the answer to start. */
  stream(
    namespace: string,
    pipelineId: string,
    key: string,
    options?: ObjectStreamOptions,
  ): Promise<ReadableStream<Uint8Array>>;
  /** Stores `body` under `key`. A stream body's timeout restarts with every chunk, so only a stalled upload fails. */
  put(
    namespace: string,
    pipelineId: string,
    key: string,
    body: ObjectBody,
    options?: PutObjectOptions,
  ): Promise<StoredObject>;
  delete(namespace: string, pipelineId: string, key: string): Promise<void>;
}

/** A run's objects, as {@link PipelineObjectsApi}; once the run's objects have expired it takes no new ones (409). */
export interface RunObjectsApi {
  list(namespace: string, pipelineId: string, runId: number): Promise<StoredObject[]>;
  get(namespace: string, pipelineId: string, runId: number, key: string): Promise<Uint8Array>;
  stream(
    namespace: string,
    pipelineId: string,
    runId: number,
    key: string,
    options?: ObjectStreamOptions,
  ): Promise<ReadableStream<Uint8Array>>;
  put(
    namespace: string,
    pipelineId: string,
    runId: number,
    key: string,
    body: ObjectBody,
    options?: PutObjectOptions,
  ): Promise<StoredObject>;
  delete(namespace: string, pipelineId: string, runId: number, key: string): Promise<void>;
}

/** An extension's objects, as {@link PipelineObjectsApi}. */
export interface ExtensionObjectsApi {
  list(extensionId: string): Promise<StoredObject[]>;
  get(extensionId: string, key: string): Promise<Uint8Array>;
  stream(
    extensionId: string,
    key: string,
    options?: ObjectStreamOptions,
  ): Promise<ReadableStream<Uint8Array>>;
  put(extensionId: string, key: string, body: ObjectBody, options?: PutObjectOptions): Promise<StoredObject>;
  delete(extensionId: string, key: string): Promise<void>;
}

export interface ObjectsApi {
  pipeline: PipelineObjectsApi;
  run: RunObjectsApi;
  extension: ExtensionObjectsApi;
}

/** The five operations on the objects under one owner's `…/objects` path. */
interface ObjectsAt {
  list(): Promise<StoredObject[]>;
  get(key: string): Promise<Uint8Array>;
  stream(key: string, options?: ObjectStreamOptions): Promise<ReadableStream<Uint8Array>>;
  put(key: string, body: ObjectBody, options?: PutObjectOptions): Promise<StoredObject>;
  delete(key: string): Promise<void>;
}

function objectsAt(http: HttpClient, base: string): ObjectsAt {
  const item = (key: string) => base + path`/${key}`;
  return {
    list: async () => http.json("GET", base, "objects"),
    get: async (key) => http.bytes("GET", item(key)),
    stream: async (key, options = {}) => {
      const response = await http.stream(item(key), { signal: options.signal });
      return http.byteStream(response, item(key), options.signal);
    },
    put: async (key, body, options = {}) =>
      http.rawJson("POST", item(key), "object", {
        body,
        query: { force: options.force ? true : undefined },
      }),
    delete: async (key) => http.empty("DELETE", item(key)),
  };
}

export function objectsApi(http: HttpClient): ObjectsApi {
  const pipeline = (namespace: string, pipelineId: string) =>
    objectsAt(http, path`/api/namespaces/${namespace}/pipelines/${pipelineId}/objects`);
  const run = (namespace: string, pipelineId: string, runId: number) =>
    objectsAt(http, path`/api/namespaces/${namespace}/pipelines/${pipelineId}/runs/${runId}/objects`);
  const extension = (extensionId: string) => objectsAt(http, path`/api/extensions/${extensionId}/objects`);
  return {
    pipeline: {
      list: async (namespace, pipelineId) => pipeline(namespace, pipelineId).list(),
      get: async (namespace, pipelineId, key) => pipeline(namespace, pipelineId).get(key),
      stream: async (namespace, pipelineId, key, options) =>
        pipeline(namespace, pipelineId).stream(key, options),
      put: async (namespace, pipelineId, key, body, options) =>
        pipeline(namespace, pipelineId).put(key, body, options),
      delete: async (namespace, pipelineId, key) => pipeline(namespace, pipelineId).delete(key),
    },
    run: {
      list: async (namespace, pipelineId, runId) => run(namespace, pipelineId, runId).list(),
      get: async (namespace, pipelineId, runId, key) => run(namespace, pipelineId, runId).get(key),
      stream: async (namespace, pipelineId, runId, key, options) =>
        run(namespace, pipelineId, runId).stream(key, options),
      put: async (namespace, pipelineId, runId, key, body, options) =>
        run(namespace, pipelineId, runId).put(key, body, options),
      delete: async (namespace, pipelineId, runId, key) => run(namespace, pipelineId, runId).delete(key),
    },
    extension: {
      list: async (extensionId) => extension(extensionId).list(),
      get: async (extensionId, key) => extension(extensionId).get(key),
      stream: async (extensionId, key, options) => extension(extensionId).stream(key, options),
      put: async (extensionId, key, body, options) => extension(extensionId).put(key, body, options),
      delete: async (extensionId, key) => extension(extensionId).delete(key),
    },
  };
}
