/**
 * The variables a run was started with, each with where it came from. A value naming a secret says which
 * secret it names; a secret's value never reaches the API, so it can never reach the page.
 */
import type { Run } from "../api/types.ts";
import { secretReference } from "./variable-sets.ts";

const SOURCES: Record<string, string> = {
  run_options: "given when started",
  extension: "from an extension",
  pipeline_config: "from the pipeline",
  system: "set by Gofer",
  unknown: "unknown",
};

export function RunVariables({ run }: { run: Run }) {
  return (
    <section aria-labelledby="run-variables-title" class="run-variables">
      <h2 id="run-variables-title">Variables</h2>
      {run.variables.length === 0 ? (
        <p class="muted">Started with no variables.</p>
      ) : (
        <table aria-labelledby="run-variables-title">
          <thead>
            <tr>
              <th>Name</th>
              <th>Value</th>
              <th>Source</th>
            </tr>
          </thead>
          <tbody>
            {run.variables.map((variable) => {
              const secret = secretReference(variable.value);
              return (
                <tr key={variable.key} data-variable={variable.key}>
                  <td>
                    <code>{variable.key}</code>
                  </td>
                  <td>
                    {secret ? (
                      <span class="secret-reference" title="The secret's value is never shown">
                        {secret.scope} secret <code>{secret.key}</code>
                      </span>
                    ) : (
                      <code class="variable-value">{variable.value}</code>
                    )}
                  </td>
                  <td class="muted" data-source={variable.source}>
                    {SOURCES[variable.source] ?? variable.source}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
