/**
 * A benchmark's numeric setting from its environment variable. A value that is not a positive number stops the
 * benchmark with exit code 2 and the variable's name, instead of running zero rounds or NaN-sized work.
 */
export function setting(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!(value > 0)) {
    process.stderr.write(`${name} must be a positive number, not "${process.env[name]}"\n`);
    process.exit(2);
  }
  return value;
}

/** The same, rounded to a whole count. */
export const countSetting = (name: string, fallback: number): number => Math.round(setting(name, fallback));
