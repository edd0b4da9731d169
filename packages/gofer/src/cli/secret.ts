/**
 * `gofer secret global …` and `gofer secret pipeline …`: store, inspect and delete secrets.
 *
 * A value comes from the argument, from a file (`@path`) or from stdin (`-`), so it need not appear in shell
 * history or process lists. Read from a file or stdin, one trailing newline is dropped (what `echo` and most
 * editors add); the rest is kept byte for byte.
 */
import { readFile } from "node:fs/promises";
import type { Secret, SecretWithValue } from "@gofer/sdk/client";
import type { Command } from "commander";
import { CliError } from "./cli-error.ts";
import { contextOf } from "./command-context.ts";
import type { Printer } from "./output/printer.ts";

const VALUE_HELP = "the value, @<file> to read it from a file, or - to read it from stdin";

/** A value given as itself, `@<file>` or `-` (stdin), so a secret need not be typed on the command line. */
export async function readValue(value: string): Promise<string> {
  let text: string;
  if (value === "-") {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    text = Buffer.concat(chunks).toString("utf8");
  } else if (value.startsWith("@")) {
    try {
      text = await readFile(value.slice(1), "utf8");
    } catch (error) {
      throw new CliError(`cannot read ${value.slice(1)}: ${(error as NodeJS.ErrnoException).code ?? error}`);
    }
  } else {
    return value;
  }
  return text.replace(/\r?\n$/, "");
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

function printList(out: Printer, secrets: Secret[], withNamespaces: boolean): void {
  out.result(secrets, () =>
    out.table(
      withNamespaces ? ["key", "namespaces", "created"] : ["key", "created"],
      secrets.map((secret) =>
        withNamespaces
          ? [secret.key, secret.namespaces.join(", "), out.time(secret.created)]
          : [secret.key, out.time(secret.created)],
      ),
    ),
  );
}

function printOne(out: Printer, result: SecretWithValue, withNamespaces: boolean): void {
  out.result(result, () => [
    ...out.fields([
      ["key", result.metadata.key],
      ...(withNamespaces ? [["namespaces", result.metadata.namespaces.join(", ")] as [string, string]] : []),
      ["created", out.time(result.metadata.created)],
    ]),
    ...(result.secret === null ? [] : [`secret: ${result.secret}`]),
  ]);
}

export function registerSecretCommands(program: Command): void {
  const secret = program
    .command("secret")
    .description("Manage secrets (values tasks receive through variables)");

  const global = secret
    .command("global")
    .description("Global secrets: admin only, usable from the namespaces their regexes match");
  global
    .command("list")
    .description("List global secrets (never their values)")
    .action(async (_options, command: Command) => {
      const { client, out } = contextOf(command);
      printList(out, await client.secrets.global.list(), true);
    });
  global
    .command("get <key>")
    .description("Show a global secret")
    .option("-i, --include-secret", "also print the value")
    .action(async (key: string, options: { includeSecret?: boolean }, command: Command) => {
      const { client, out } = contextOf(command);
      printOne(
        out,
        await client.secrets.global.get(key, { includeSecret: options.includeSecret ?? false }),
        true,
      );
    });
  global
    .command("put <key> <value>")
    .description(`Store a global secret; <value> is ${VALUE_HELP}`)
    .option(
      "-n, --namespaces <regex>",
      "a namespace regex matched against whole ids (repeatable; default .*)",
      collect,
    )
    .option("-f, --force", "replace an existing value")
    .action(
      async (
        key: string,
        value: string,
        options: { namespaces?: string[]; force?: boolean },
        command: Command,
      ) => {
        const { client, out } = contextOf(command);
        const stored = await client.secrets.global.put(key, await readValue(value), {
          namespaces: options.namespaces ?? [".*"],
          force: options.force ?? false,
        });
        out.result(
          stored,
          () => `Stored global secret ${stored.key} (namespaces: ${stored.namespaces.join(", ")})`,
        );
      },
    );
  global
    .command("delete <key>")
    .description("Delete a global secret")
    .action(async (key: string, _options, command: Command) => {
      const { client, out } = contextOf(command);
      await client.secrets.global.delete(key);
      out.result({ deleted: key }, () => `Deleted global secret ${key}`);
    });

  const pipeline = secret.command("pipeline").description("Secrets of one pipeline (in --namespace)");
  pipeline
    .command("list <pipeline>")
    .description("List a pipeline's secrets (never their values)")
    .action(async (pipelineId: string, _options, command: Command) => {
      const { client, out, namespace } = contextOf(command);
      printList(out, await client.secrets.pipeline.list(namespace, pipelineId), false);
    });
  pipeline
    .command("get <pipeline> <key>")
    .description("Show a pipeline secret")
    .option("-i, --include-secret", "also print the value (needs secrets write access)")
    .action(
      async (pipelineId: string, key: string, options: { includeSecret?: boolean }, command: Command) => {
        const { client, out, namespace } = contextOf(command);
        const result = await client.secrets.pipeline.get(namespace, pipelineId, key, {
          includeSecret: options.includeSecret ?? false,
        });
        printOne(out, result, false);
        if (options.includeSecret && result.secret === null)
          out.note("the value was withheld: this token may read but not write this pipeline's secrets");
      },
    );
  pipeline
    .command("put <pipeline> <key> <value>")
    .description(`Store a pipeline secret; <value> is ${VALUE_HELP}`)
    .option("-f, --force", "replace an existing value")
    .action(
      async (
        pipelineId: string,
        key: string,
        value: string,
        options: { force?: boolean },
        command: Command,
      ) => {
        const { client, out, namespace } = contextOf(command);
        const stored = await client.secrets.pipeline.put(namespace, pipelineId, key, await readValue(value), {
          force: options.force ?? false,
        });
        out.result(stored, () => `Stored secret ${stored.key} for pipeline ${pipelineId}`);
      },
    );
  pipeline
    .command("delete <pipeline> <key>")
    .description("Delete a pipeline secret")
    .action(async (pipelineId: string, key: string, _options, command: Command) => {
      const { client, out, namespace } = contextOf(command);
      await client.secrets.pipeline.delete(namespace, pipelineId, key);
      out.result({ deleted: key }, () => `Deleted secret ${key} of pipeline ${pipelineId}`);
    });
}
