/**
 * Self-signed certificates made at test time with Debian's openssl, so that no certificate or private key is
 * ever committed.
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";

export interface CertificateFiles {
  /** Path of the PEM certificate. */
  cert: string;
  /** Path of its PEM private key. */
  key: string;
}

/** Names a certificate for the loopback address, the only one tests dial. */
export const LOOPBACK_NAMES = ["IP:127.0.0.1", "DNS:localhost"];

/**
 * Writes `<name>.crt` and `<name>.key` into `dir`: a one-day certificate for `altNames` (subjectAltName
 * entries such as `IP:127.0.0.1`), its own issuer.
 */
export function makeCertificate(
  dir: string,
  name: string,
  altNames: readonly string[] = LOOPBACK_NAMES,
): CertificateFiles {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  const commonName = altNames[0]?.replace(/^(IP|DNS):/, "") ?? name;
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      "-subj",
      `/CN=${commonName}`,
      "-addext",
      `subjectAltName=${altNames.join(",")}`,
      "-keyout",
      key,
      "-out",
      cert,
    ],
    { stdio: "ignore" },
  );
  return { cert, key };
}
