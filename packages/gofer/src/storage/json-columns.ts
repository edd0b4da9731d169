/** JSON columns are written only by Gofer, so a parse failure means corruption and is allowed to throw. */
export function parseJson<T>(text: string): T {
  return JSON.parse(text) as T;
}

export function parseNullableJson<T>(text: string | null): T | null {
  return text === null ? null : (JSON.parse(text) as T);
}

export const toJson = (value: unknown): string => JSON.stringify(value);

export const toNullableJson = (value: unknown): string | null =>
  value === null || value === undefined ? null : JSON.stringify(value);
