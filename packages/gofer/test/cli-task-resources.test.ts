import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { assertExit, type Gofer, scratchDir, useCliServer } from "./support/cli.ts";
import { BUSYBOX } from "./support/test-server.ts";

const limited = (memory: string) => `
import { pipeline, task } from "@gofer/sdk";
const image = ${JSON.stringify(BUSYBOX)};
export default pipeline("limits", "Limits").tasks(
  task("build", image).resources({ cpu: "0.5", memory: ${JSON.stringify(memory)} }).command("true"),
  task("test", image).command("true"),
);
`;

describe("gofer CLI: task resources", () => {
  let gofer: Gofer;
  useCliServer((_server, cli) => {
    gofer = cli;
  });

  it("`up` registers limits, finds them unchanged, then shows a changed limit; `config get` lists them", async () => {
    const dir = scratchDir("gofer-cli-resources-");
    const file = join(dir, "pipeline.ts");
    writeFileSync(file, limited("64Mi"));
    assertExit(await gofer(["up", file]), 0);

    const again = await gofer(["up", file]);
    assertExit(again, 0);
    assert.match(again.stdout, /Nothing to do: version 1 is live and identical/);

    writeFileSync(file, limited("128Mi"));
    const changed = await gofer(["up", file]);
    assertExit(changed, 0);
    assert.match(changed.stdout, /~ task build: memory 64Mi → 128Mi/);

    const shown = await gofer(["pipeline", "config", "get", "limits", "2"]);
    assertExit(shown, 0);
    assert.match(shown.stdout, /DEPENDS ON +RESOURCES/);
    assert.match(shown.stdout, /cpu 0\.5, memory 128Mi/);

    writeFileSync(file, limited("12XB"));
    const refused = await gofer(["up", file]);
    assert.notEqual(refused.code, 0);
    assert.match(
      refused.stderr,
      /task `build`: memory `12XB` is not a quantity; use bytes or a suffix like 256Mi or 1G/,
    );
  });
});
