/** Every problem found while loading the configuration, reported at once so one edit can fix them all. */
export class ConfigError extends Error {
  readonly code = "CONFIG_INVALID";
  readonly problems: string[];

  constructor(problems: string[]) {
    const heading =
      problems.length === 1
        ? "Invalid configuration:"
        : `Invalid configuration (${problems.length} problems):`;
    super(`${heading}\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}
