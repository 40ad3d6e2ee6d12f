import { z } from "zod";

const positiveInt = z.coerce.number().int().positive();

/**
 * Sets `target[key]` from each environment variable of `vars` that is set (name -> key), every one a
 * positive integer; a bad value is an error naming the variable (the server refuses to start on it).
 */
export function readPositiveInts<K extends string>(
  env: NodeJS.ProcessEnv,
  vars: Readonly<Record<string, K>>,
  target: Record<K, number>,
): void {
  for (const [name, key] of Object.entries(vars) as [string, K][]) {
    const raw = env[name];
    if (raw === undefined || raw === "") continue;
    const parsed = positiveInt.safeParse(raw);
    if (!parsed.success) throw new Error(`${name} must be a positive integer, got "${raw}"`);
    target[key] = parsed.data;
  }
}
