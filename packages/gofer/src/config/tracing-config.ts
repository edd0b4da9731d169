/**
 * OpenTelemetry tracing is configured the standard way, by `OTEL_*` environment variables, not by Gofer's
 * settings: an operator who already points every service at a collector does the same here. Tracing is on when an
 * OTLP endpoint is set and neither `OTEL_SDK_DISABLED=true` nor `OTEL_TRACES_EXPORTER=none` says otherwise.
 * Spans go over OTLP/HTTP encoded as JSON (`OTEL_EXPORTER_OTLP_PROTOCOL=http/json`), which every OpenTelemetry
 * collector and Jaeger, Tempo and Honeycomb accept.
 */
export interface TracingConfig {
  /** Where spans are POSTed: `<OTEL_EXPORTER_OTLP_ENDPOINT>/v1/traces`, or the traces endpoint as given. */
  endpoint: string;
  headers: Record<string, string>;
  serviceName: string;
  resourceAttributes: Record<string, string>;
}

/** Undefined when tracing is off; `problems` gets what is wrong with the variables. */
export function tracingFromEnv(env: NodeJS.ProcessEnv, problems: string[]): TracingConfig | undefined {
  if ((env.OTEL_SDK_DISABLED ?? "").toLowerCase() === "true") return undefined;
  const exporter = (env.OTEL_TRACES_EXPORTER ?? "otlp").toLowerCase();
  if (exporter === "none") return undefined;
  const tracesEndpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? "";
  const baseEndpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT ?? "";
  if (tracesEndpoint === "" && baseEndpoint === "") return undefined;
  if (exporter !== "otlp") {
    problems.push(
      `OTEL_TRACES_EXPORTER=${exporter} is not supported; Gofer exports OTLP (otlp) or nothing (none)`,
    );
    return undefined;
  }
  const protocol = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? "http/json";
  if (protocol !== "http/json") {
    problems.push(
      `OTEL_EXPORTER_OTLP_PROTOCOL=${protocol} is not supported; Gofer sends OTLP over HTTP as JSON: set it to http/json`,
    );
    return undefined;
  }
  const endpoint = tracesEndpoint !== "" ? tracesEndpoint : `${baseEndpoint.replace(/\/+$/, "")}/v1/traces`;
  const parsed = URL.parse(endpoint);
  if (parsed === null || (parsed.protocol !== "http:" && parsed.protocol !== "https:")) {
    problems.push(`the OTLP endpoint ${JSON.stringify(endpoint)} is not an http:// or https:// URL`);
    return undefined;
  }
  return {
    endpoint,
    headers: keyValues(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS ?? env.OTEL_EXPORTER_OTLP_HEADERS ?? ""),
    serviceName: env.OTEL_SERVICE_NAME || "gofer",
    resourceAttributes: keyValues(env.OTEL_RESOURCE_ATTRIBUTES ?? ""),
  };
}

/** `key1=value1,key2=value2`, values percent-decoded, as the OpenTelemetry specification writes them. */
function keyValues(text: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const pair of text.split(",")) {
    const at = pair.indexOf("=");
    if (at <= 0) continue;
    const key = pair.slice(0, at).trim();
    const raw = pair.slice(at + 1).trim();
    let value = raw;
    try {
      value = decodeURIComponent(raw);
    } catch {
      // Kept as written.
    }
    result[key] = value;
  }
  return result;
}
