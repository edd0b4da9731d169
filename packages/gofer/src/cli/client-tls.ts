/**
 * How the CLI trusts an https:// server: its CA file (`ca_cert_path`, GOFER_CA_CERT) joins the system's CAs, or
 * with `insecure_skip_tls_verify` no certificate is checked, as Gofer's CLI allowed. Both apply to the whole
 * process, which is one command: every request it makes (HTTP and WebSocket) goes to the one server.
 */
import { readFileSync } from "node:fs";
import { getCACertificates, setDefaultCACertificates } from "node:tls";
import type { CliConfig } from "./cli-config.ts";
import { CliError } from "./cli-error.ts";

export function applyClientTls(config: Pick<CliConfig, "caCertPath" | "insecureSkipTlsVerify">): void {
  if (config.insecureSkipTlsVerify) {
    // Read by Node's TLS client at each connection; Node warns on stderr that this is insecure.
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";
    return;
  }
  if (config.caCertPath === undefined) return;
  let pem: string;
  try {
    pem = readFileSync(config.caCertPath, "utf8");
  } catch (error) {
    throw new CliError(`cannot read the CA certificate ${config.caCertPath}: ${(error as Error).message}`, {
      hint: "point ca_cert_path (or GOFER_CA_CERT) at the PEM file of the server's certificate or its CA",
    });
  }
  try {
    setDefaultCACertificates([...getCACertificates("default"), pem]);
  } catch (error) {
    throw new CliError(`${config.caCertPath} is not a PEM certificate: ${(error as Error).message}`, {
      hint: "ca_cert_path (or GOFER_CA_CERT) takes a PEM file: -----BEGIN CERTIFICATE----- …",
    });
  }
}
