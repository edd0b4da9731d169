/**
 * What a first-time user trips on, in a real browser against a real server and engine: the runs list's page and
 * status kept in the address (Back from a run and a reload return to them), a pipeline with no deployed version
 * saying so instead of offering a run the server refuses, a `?config=` that names no version, a run link naming a
 * task the run does not have, a namespace that does not exist or holds nothing, and the start dialog refusing a
 * value without a name.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { Browser } from "playwright-core";
import { storeFinishedRuns } from "../../packages/gofer/test/support/finished-runs.ts";
import {
  deployPipeline,
  pipelineConfig,
  shTask,
  startRun,
  waitForRun,
} from "../../packages/gofer/test/support/pipelines.ts";
import type { TestServer } from "../../packages/gofer/test/support/test-server.ts";
import { openPage, PHONE, screenshot, signIn, useServerAndBrowser } from "./support/browser.ts";

describe("the web UI: what a newcomer trips on", { timeout: 240_000 }, () => {
  let server: TestServer;
  let browser: Browser;
  useServerAndBrowser([pipelineConfig("release", [shTask("build", "echo built")])], (started, launched) => {
    server = started;
    browser = launched;
  });

  before(async () => {
    // 31 runs of "busy", every third one failed, stored as the orchestrator stores finished runs.
    await deployPipeline(server, pipelineConfig("busy", [shTask("work", "true")]));
    await storeFinishedRuns(server, "busy", 31, (runId) => (runId % 3 === 0 ? "failed" : "successful"));
    // Registered, never deployed.
    const registered = await server.api("POST", "/api/namespaces/default/pipelines/draft/configs", {
      config: pipelineConfig("draft", [shTask("try", "true")]),
    });
    assert.equal(registered.status, 201, registered.text);
    const namespace = await server.api("POST", "/api/namespaces", {
      id: "staging",
      name: "Staging",
      description: "",
    });
    assert.equal(namespace.status, 201, namespace.text);
    await waitForRun(server, "release", await startRun(server, "release"));
  });

  async function signedInPage(options: Parameters<typeof openPage>[1] = {}) {
    const opened = await openPage(browser, options);
    await opened.page.goto(server.url);
    await signIn(opened.page, server.token);
    return opened;
  }

  it("keeps the runs list's page and status in the address: Back from a run and a reload return to them", async () => {
    const { page, context, errors } = await signedInPage();
    await page.goto(`${server.url}/namespaces/default/pipelines/busy`);
    const positions = page.getByTestId("run-positions");
    await positions.filter({ hasText: "runs 1–25" }).waitFor();
    await page.getByRole("button", { name: "Older" }).click();
    await positions.filter({ hasText: "runs 26–31" }).waitFor();
    assert.match(page.url(), /\/pipelines\/busy\?page=2$/);

    await page.getByRole("link", { name: "#3", exact: true }).click();
    await page.getByTestId("run-state").waitFor();
    await page.goBack();
    await positions.filter({ hasText: "runs 26–31" }).waitFor();

    await page.getByLabel("Run status").selectOption("failed");
    const rows = page.locator("section[aria-labelledby='runs-title'] tbody tr");
    await page.getByRole("link", { name: "#30", exact: true }).waitFor();
    assert.match(page.url(), /\/pipelines\/busy\?status=failed$/);
    await page.reload();
    await page.getByRole("link", { name: "#30", exact: true }).waitFor();
    assert.equal(await page.getByLabel("Run status").inputValue(), "failed");
    assert.equal(await rows.count(), 10);

    // A version followed from the versions list keeps the list's place beside it.
    await page.getByRole("link", { name: "v1", exact: true }).click();
    assert.match(page.url(), /\?status=failed&config=1$/);
    assert.equal(await page.getByLabel("Run status").inputValue(), "failed");
    assert.deepEqual(errors, []);
    await context.close();
  });

  it("says a pipeline with no deployed version cannot run, and how to deploy one, instead of offering Start run", async () => {
    const { page, context, errors } = await signedInPage();
    await page.goto(`${server.url}/namespaces/default/pipelines/draft`);
    const notice = page.getByTestId("not-deployed");
    await notice.waitFor();
    assert.match((await notice.textContent()) ?? "", /gofer pipeline config deploy draft 1/);
    assert.equal(await page.getByRole("button", { name: "Start run" }).isDisabled(), true);
    await screenshot(page, "newcomer-not-deployed");

    // A deployed pipeline says nothing of the kind.
    await page.goto(`${server.url}/namespaces/default/pipelines/release`);
    await page.getByRole("heading", { name: "Pipeline release" }).waitFor();
    assert.equal(await page.getByRole("button", { name: "Start run" }).isDisabled(), false);
    assert.equal(await notice.count(), 0);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it("says so when ?config= names no version, even one that is not a number", async () => {
    const { page, context, errors } = await signedInPage();
    await page.goto(`${server.url}/namespaces/default/pipelines/release?config=latest`);
    await page
      .getByRole("alert")
      .filter({ hasText: "This pipeline has no config version latest; showing version 1 instead." })
      .waitFor();
    assert.deepEqual(errors, []);
    await context.close();
  });

  it("says a run link names a task the run does not have, until another task is picked", async () => {
    const { page, context, errors } = await signedInPage();
    await page.goto(`${server.url}/namespaces/default/pipelines/release/runs/1?task=biuld`);
    const note = page.getByTestId("missing-selection");
    await note.waitFor();
    assert.equal(await note.textContent(), "This run has no task “biuld”; showing build.");
    await page.getByRole("button", { name: "Show log of build" }).click();
    assert.equal(await note.count(), 0);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it("keeps a namespace that does not exist in its picker, with a way back; an empty one says how to fill it", async () => {
    const { page, context } = await signedInPage();
    await page.setViewportSize(PHONE);
    await page.goto(`${server.url}/namespaces/stagign`);
    await page.getByText('Namespace "stagign" not found').waitFor();
    assert.equal(await page.getByLabel("Namespace").inputValue(), "stagign");
    await page.getByRole("link", { name: "See the pipelines of default" }).click();
    await page.getByRole("link", { name: "release", exact: true }).waitFor();

    await page.goto(`${server.url}/namespaces/staging`);
    await page.getByText("No pipelines in this namespace yet.").waitFor();
    assert.equal(await page.locator("main code").textContent(), "gofer up ./pipeline.ts --namespace staging");
    await screenshot(page, "newcomer-empty-namespace-phone");
    await context.close();
  });

  it("lists the default namespace's pipelines to a visitor without asking for configs a visitor may not read", async () => {
    const { page, context, errors } = await openPage(browser);
    const refused: string[] = [];
    page.on("response", (response) => {
      if (response.url().includes("/configs") && response.status() === 401) refused.push(response.url());
    });
    await page.goto(`${server.url}/namespaces/default`);
    await page.getByRole("link", { name: "release", exact: true }).waitFor();
    await page
      .locator('tr[data-pipeline-id="release"] [data-testid="last-run"]')
      .filter({ hasNotText: "never" })
      .waitFor();
    assert.deepEqual(refused, []);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it("refuses to start a run with a variable value that has no name, rather than dropping it", async () => {
    const { page, context, errors } = await signedInPage();
    await page.goto(`${server.url}/namespaces/default/pipelines/release`);
    await page.getByRole("button", { name: "Start run" }).click();
    await page.getByRole("button", { name: "Add variable" }).click();
    await page.getByLabel("Variable value").fill("production");
    await page.getByRole("button", { name: "Start", exact: true }).click();
    await page
      .locator("dialog")
      .getByRole("alert")
      .filter({ hasText: "Variable 1 has a value but no name: name it or remove it." })
      .waitFor();
    const runs = await server.api("GET", "/api/namespaces/default/pipelines/release/runs");
    assert.equal(runs.json.runs.length, 1, "no run was started");
    await page.getByLabel("Variable name").fill("TARGET");
    await page.getByRole("button", { name: "Start", exact: true }).click();
    await page.waitForURL(/\/pipelines\/release\/runs\/2$/);
    const run = await server.api("GET", "/api/namespaces/default/pipelines/release/runs/2");
    assert.deepEqual(
      run.json.run.variables.filter((variable: { key: string }) => variable.key === "TARGET"),
      [{ key: "TARGET", value: "production", source: "run_options" }],
    );
    await waitForRun(server, "release", 2);
    assert.deepEqual(errors, []);
    await context.close();
  });
});
