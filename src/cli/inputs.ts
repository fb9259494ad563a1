import { readFile } from "node:fs/promises";
import { parseAllDocuments } from "yaml";

/** The IO a CLI command may do, passed in so commands stay testable. */
export interface CliIO {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly readFile: (path: string) => Promise<string>;
  readonly readStdin: () => Promise<string>;
  readonly stdoutIsTTY: boolean;
}

export function processIO(): CliIO {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    readFile: (path) => readFile(path, "utf8"),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString("utf8");
    },
    stdoutIsTTY: process.stdout.isTTY === true,
  };
}

/** A usage or input problem: the command prints the one-line reason and exits 2. */
export class InputError extends Error {
  override readonly name = "InputError";
}

export async function readInput(io: CliIO, path: string, what: string): Promise<string> {
  if (path === "-") return io.readStdin();
  try {
    return await io.readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(`${path}: cannot read ${what} (${code ?? (error as Error).message})`);
  }
}

/** Every document of a (multi-document) YAML stream; bad YAML is an InputError naming file and line. */
export function parseYamlDocuments(text: string, path: string): unknown[] {
  const documents = parseAllDocuments(text, { prettyErrors: false });
  const list = Array.isArray(documents) ? documents : [documents];
  const objects: unknown[] = [];
  for (const document of list) {
    const error = document.errors[0];
    if (error !== undefined) {
      const line = error.linePos?.[0]?.line;
      throw new InputError(
        `${path === "-" ? "stdin" : path}${line ? `:${line}` : ""}: not valid YAML: ${error.message.split("\n")[0]}`,
      );
    }
    const value: unknown = document.toJS({ maxAliasCount: 100 });
    if (value !== null && value !== undefined) objects.push(value);
  }
  return objects;
}
