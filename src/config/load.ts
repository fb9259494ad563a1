import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { type Config, defaultConfig, validateConfig } from "./schema.ts";

export type ConfigLoad = { ok: true; config: Config } | { ok: false; problems: string[] };

/** Reads and validates a config file; without a path, the defaults. Never throws. */
export async function loadConfig(path: string | undefined): Promise<ConfigLoad> {
  if (path === undefined) return { ok: true, config: defaultConfig() };
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    return {
      ok: false,
      problems: [
        `${path}: cannot read config file (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
      ],
    };
  }
  let raw: unknown;
  try {
    raw = parseYaml(text, { prettyErrors: false });
  } catch (error) {
    const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
    return { ok: false, problems: [`${path}: not valid YAML: ${reason}`] };
  }
  if (raw !== null && raw !== undefined && (typeof raw !== "object" || Array.isArray(raw))) {
    return { ok: false, problems: [`${path}: the config must be a YAML mapping`] };
  }
  const result = validateConfig(raw);
  if (result.ok) return result;
  return { ok: false, problems: result.problems.map((problem) => `${path}: ${problem}`) };
}
