/**
 * `gofer task attach`: a shell (or any command) inside a running task's container. On a terminal the local
 * terminal goes raw, so keys such as Ctrl-C reach the remote shell, and its size follows the window. With
 * piped input there is no terminal: the input is sent, then end-of-input, as `docker exec -i` does.
 */
import type { AttachOptions, TaskTerminal } from "@gofer/sdk/client";
import type { CommandContext } from "./command-context.ts";

export interface AttachTarget {
  pipelineId: string;
  runId: number;
  taskId: string;
  command: string;
}

/** Relays until the command ends; answers its exit code (1 when the server could not tell). */
export async function attachToTask(context: CommandContext, target: AttachTarget): Promise<number> {
  const { stdin, stdout, stderr } = process;
  const interactive = stdin.isTTY === true && stdout.isTTY === true;
  const options: AttachOptions = {
    command: target.command,
    tty: interactive,
    ...(interactive && { columns: stdout.columns, rows: stdout.rows }),
  };
  const terminal = await context.client.tasks.attach(
    context.namespace,
    target.pipelineId,
    target.runId,
    target.taskId,
    options,
  );
  if (interactive) {
    stderr.write(`Attached to task ${target.taskId} (leave with exit or Ctrl-D)\r\n`);
    stdin.setRawMode(true);
  }
  const onResize = () => terminal.resize(stdout.columns, stdout.rows);
  if (interactive) stdout.on("resize", onResize);
  const sendInput = (data: Buffer) => terminal.write(data);
  const endInput = () => terminal.endInput();
  stdin.on("data", sendInput);
  stdin.on("end", endInput);
  stdin.resume();
  try {
    await printOutput(terminal);
    const code = await terminal.exited;
    return code ?? 1;
  } finally {
    stdin.off("data", sendInput);
    stdin.off("end", endInput);
    stdout.off("resize", onResize);
    if (interactive) stdin.setRawMode(false);
    stdin.pause();
  }
}

async function printOutput(terminal: TaskTerminal): Promise<void> {
  for await (const chunk of terminal.output) {
    if (!process.stdout.write(chunk)) await new Promise((resolve) => process.stdout.once("drain", resolve));
  }
}
