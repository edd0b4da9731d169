/**
 * The few endpoints of GitHub's REST API the extension calls, on a free port of 127.0.0.1. It checks what
 * GitHub checks: the App's JWT (RS256 signature against the App's public key, `iss`, the `iat`/`exp` window),
 * the installation token on check-run calls, and the headers GitHub asks for; and it records every call.
 */
import { type KeyObject, randomBytes, verify } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { closeServer, listenLocally } from "../../../../packages/sdk/test/support/fake-server.ts";

export interface GithubCall {
  method: string;
  path: string;
  authorization: string | undefined;
  body: Record<string, unknown> | undefined;
  /** The status answered. */
  status: number;
  /** Why the call was refused, when it was. */
  refusal?: string;
}

export interface CheckRun {
  id: number;
  owner: string;
  repo: string;
  name: string;
  head_sha: string;
  status: string;
  conclusion?: string;
  external_id?: string;
  details_url?: string;
  output?: { title: string; summary: string };
  started_at?: string;
  completed_at?: string;
}

export interface FakeGithubOptions {
  appId: string;
  installationId: string;
  publicKey: KeyObject;
  /** GitHub's clock, in ms; the wall clock unless a test moves time itself. */
  now?: () => number;
  tokenLifetimeMs?: number;
}

interface Failure {
  method: string;
  path: RegExp;
  status: number;
}

export class FakeGithub {
  readonly calls: GithubCall[] = [];
  readonly checkRuns = new Map<number, CheckRun>();
  /** Installation tokens handed out, with their expiry (ms). */
  readonly tokens = new Map<string, number>();
  readonly #options: FakeGithubOptions;
  readonly #failures: Failure[] = [];
  #nextCheckRunId = 4000;
  #server = createServer((request, response) => void this.#answer(request, response));

  constructor(options: FakeGithubOptions) {
    this.#options = options;
  }

  start(): Promise<string> {
    return listenLocally(this.#server);
  }

  stop(): Promise<void> {
    return closeServer(this.#server);
  }

  /** The next call of `method` on a path matching `path` is answered `status`, once. */
  failNext(method: string, path: RegExp, status: number): void {
    this.#failures.push({ method, path, status });
  }

  /** A check run created before the test began, e.g. by an earlier start of the extension. */
  seedCheckRun(checkRun: Omit<CheckRun, "id">): number {
    const id = this.#nextCheckRunId++;
    this.checkRuns.set(id, { id, ...checkRun });
    return id;
  }

  callsTo(method: string, path: RegExp): GithubCall[] {
    return this.calls.filter((call) => call.method === method && path.test(call.path));
  }

  #now(): number {
    return (this.#options.now ?? Date.now)();
  }

  async #answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    const method = request.method ?? "";
    const path = new URL(request.url ?? "/", "http://github").pathname;
    const call: GithubCall = {
      method,
      path,
      authorization: request.headers.authorization,
      body: text === "" ? undefined : (JSON.parse(text) as Record<string, unknown>),
      status: 0,
    };
    this.calls.push(call);
    const send = (status: number, body: unknown, refusal?: string) => {
      call.status = status;
      if (refusal !== undefined) call.refusal = refusal;
      response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    };
    const refuse = (status: number, message: string) => send(status, { message }, message);

    if (request.headers.accept !== "application/vnd.github+json") {
      return refuse(415, "the Accept header is not application/vnd.github+json");
    }
    if (!request.headers["x-github-api-version"]) return refuse(400, "X-GitHub-Api-Version is missing");
    if (!request.headers["user-agent"]) return refuse(403, "requests must carry a User-Agent");
    const failure = this.#failures.findIndex((f) => f.method === method && f.path.test(path));
    if (failure !== -1) {
      const [{ status }] = this.#failures.splice(failure, 1) as [Failure];
      return refuse(status, `injected failure ${status}`);
    }

    const tokenRequest = /^\/app\/installations\/([^/]+)\/access_tokens$/.exec(path);
    if (method === "POST" && tokenRequest) {
      const problem = this.#jwtProblem(request.headers.authorization);
      if (problem) return refuse(401, problem);
      if (decodeURIComponent(tokenRequest[1] ?? "") !== this.#options.installationId) {
        return refuse(404, "Not Found: no such installation");
      }
      const token = `ghs_${randomBytes(18).toString("hex")}`;
      const expiresAt = this.#now() + (this.#options.tokenLifetimeMs ?? 3_600_000);
      this.tokens.set(token, expiresAt);
      // GitHub writes times to the second.
      const expires = new Date(expiresAt).toISOString().replace(/\.\d{3}Z$/, "Z");
      return send(201, { token, expires_at: expires, permissions: { checks: "write" } });
    }

    const checkRuns = /^\/repos\/([^/]+)\/([^/]+)\/check-runs(?:\/(\d+))?$/.exec(path);
    if (checkRuns) {
      const problem = this.#tokenProblem(request.headers.authorization);
      if (problem) return refuse(401, problem);
      const [, owner = "", repo = "", idText] = checkRuns;
      const body = call.body ?? {};
      if (method === "POST" && idText === undefined) {
        if (typeof body.name !== "string" || body.name === "") return refuse(422, "name is missing");
        if (typeof body.head_sha !== "string" || !/^[0-9a-f]{40}$/.test(body.head_sha)) {
          return refuse(422, "head_sha is not a commit SHA");
        }
        const id = this.#nextCheckRunId++;
        const checkRun = { id, owner, repo, ...body } as CheckRun;
        this.checkRuns.set(id, checkRun);
        return send(201, checkRun);
      }
      if (method === "PATCH" && idText !== undefined) {
        const checkRun = this.checkRuns.get(Number(idText));
        if (!checkRun || checkRun.owner !== owner || checkRun.repo !== repo) return refuse(404, "Not Found");
        if (body.status === "completed" && typeof body.conclusion !== "string") {
          return refuse(422, "a completed check run needs a conclusion");
        }
        Object.assign(checkRun, body);
        return send(200, checkRun);
      }
    }
    refuse(404, `Not Found: ${method} ${path}`);
  }

  #jwtProblem(authorization: string | undefined): string | undefined {
    const match = /^Bearer ([\w-]+)\.([\w-]+)\.([\w-]+)$/.exec(authorization ?? "");
    if (!match) return "the Authorization header is not Bearer <JWT>";
    const [, header = "", claims = "", signature = ""] = match;
    const valid = verify(
      "sha256",
      Buffer.from(`${header}.${claims}`),
      this.#options.publicKey,
      Buffer.from(signature, "base64url"),
    );
    if (!valid) return "the JWT's signature does not verify with the App's public key";
    const decode = (part: string) =>
      JSON.parse(Buffer.from(part, "base64url").toString("utf8")) as Record<string, unknown>;
    const { alg, typ } = decode(header);
    if (alg !== "RS256" || typ !== "JWT") return `the JWT header is ${JSON.stringify({ alg, typ })}`;
    const { iss, iat, exp } = decode(claims);
    if (String(iss) !== this.#options.appId)
      return `the JWT's iss ${JSON.stringify(iss)} is not the App's id`;
    if (typeof iat !== "number" || typeof exp !== "number") return "the JWT lacks iat or exp";
    const now = Math.floor(this.#now() / 1000);
    if (iat > now) return "the JWT's iat is in the future";
    if (exp <= now) return "the JWT has expired";
    if (exp > now + 600) return "the JWT's exp is more than 10 minutes ahead";
    return undefined;
  }

  #tokenProblem(authorization: string | undefined): string | undefined {
    const match = /^(?:token|Bearer) (\S+)$/.exec(authorization ?? "");
    if (!match?.[1]) return "the Authorization header is not token <installation token>";
    const expiresAt = this.tokens.get(match[1]);
    if (expiresAt === undefined) return "Bad credentials: not an installation token";
    if (this.#now() >= expiresAt) return "Bad credentials: the installation token has expired";
    return undefined;
  }
}
