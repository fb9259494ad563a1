// Commands load their modules on demand, so `explain` and `check` never pay for the
// webhook server or the Kubernetes client.

/**
 * Composition root: parses argv, loads config, wires the engine and runs one command.
 * Usage and input problems print one line and exit 2; nothing here prints a stack trace.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { configPolicies, engineFromConfig } from "../check/from-config.ts";
import { loadConfig } from "../config/load.ts";
import { readRegistryCas } from "../config/registries.ts";
import type { Config } from "../config/schema.ts";
import { parsePlatform } from "../registry/platform.ts";
import { runExplain } from "./explain.ts";
import { type CliIO, InputError, processIO } from "./inputs.ts";

const VERSION = "0.1.0";

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function platformFlag(value: string, previous: string[]): string[] {
  const parsed = parsePlatform(value);
  if ("error" in parsed) throw new InvalidArgumentError(parsed.error);
  return [...previous, value];
}

const outputOption = () =>
  new Option("-o, --output <format>", "table or json (default: table on a terminal, json otherwise)").choices(
    ["table", "json"],
  );

async function loadConfigOrExit(path: string | undefined, platforms: string[]): Promise<Config> {
  const loaded = await loadConfig(path);
  if (!loaded.ok) throw new InputError(`invalid config: ${loaded.problems.join("; ")}`);
  return platforms.length ? { ...loaded.config, platforms } : loaded.config;
}

async function wire(config: Config) {
  const cas = await readRegistryCas(config.registries);
  if (!cas.ok) throw new InputError(`invalid config: ${cas.problems.join("; ")}`);
  const { createRegistryClient } = await import("../registry/client.ts");
  const client = createRegistryClient();
  return { client, engine: engineFromConfig(config, client, cas.pems) };
}

export function buildProgram(io: CliIO, setExitCode: (code: number) => void): Command {
  const program = new Command("pullcheck")
    .description(
      "Stops ImagePullBackOff before it happens: checks that every image a pod would pull exists and is pullable.",
    )
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showSuggestionAfterError(true);

  program
    .command("check")
    .description("check images given as arguments and/or found in Kubernetes YAML")
    .argument("[image...]", "image references")
    .option("-f, --file <file>", "Kubernetes YAML (multi-document; - = stdin), repeatable", collect, [])
    .option(
      "--docker-config <file>",
      "docker config.json or a Secret's .dockerconfigjson/.dockercfg payload, repeatable",
      collect,
      [],
    )
    .option("--config <file>", "pullcheck config file")
    .option("--platform <os/arch>", "required platform, repeatable (overrides config)", platformFlag, [])
    .addOption(outputOption())
    .option("--kubeconfig <file>", "use the cluster's pull secrets the way the kubelet would")
    .option("-n, --namespace <namespace>", "namespace for objects without one (with --kubeconfig)")
    .option("--service-account <name>", "service account for images given as arguments (with --kubeconfig)")
    .action(async (images: string[], options) => {
      const config = await loadConfigOrExit(options.config, options.platform);
      const { client, engine } = await wire(config);
      const { runCheck } = await import("./check.ts");
      try {
        setExitCode(
          await runCheck(
            images,
            {
              file: options.file,
              dockerConfig: options.dockerConfig,
              output: options.output,
              kubeconfig: options.kubeconfig,
              namespace: options.namespace,
              serviceAccount: options.serviceAccount,
            },
            { engine },
            io,
          ),
        );
      } finally {
        await client.close();
      }
    });

  program
    .command("explain")
    .description(
      "no network: show the normalized reference and which credential entry would be used, and why",
    )
    .argument("<image>", "image reference")
    .option("--docker-config <file>", "docker config.json or a Secret payload, repeatable", collect, [])
    .option("--config <file>", "pullcheck config file")
    .option("--platform <os/arch>", "required platform, repeatable", platformFlag, [])
    .addOption(outputOption())
    .action(async (image: string, options) => {
      const config = await loadConfigOrExit(options.config, options.platform);
      const cas = await readRegistryCas(config.registries);
      if (!cas.ok) throw new InputError(`invalid config: ${cas.problems.join("; ")}`);
      setExitCode(
        await runExplain(
          image,
          { dockerConfig: options.dockerConfig, output: options.output },
          { ...configPolicies(config, cas.pems), platforms: config.platforms },
          io,
        ),
      );
    });

  program
    .command("serve")
    .description("run the HTTPS admission webhook (POST /validate, /healthz, /readyz, /metrics)")
    .option("--config <file>", "pullcheck config file", process.env.PULLCHECK_CONFIG)
    .option(
      "--kubeconfig <file>",
      "kubeconfig for reading pull secrets (default: in-cluster)",
      process.env.KUBECONFIG,
    )
    .option("--tls-cert <file>", "serving certificate (overrides tls.certFile)")
    .option("--tls-key <file>", "serving key (overrides tls.keyFile)")
    .option("--port <port>", "listen port (overrides listen.port)", (v) => portNumber(v))
    .action(async (options) => {
      const config = await loadConfigOrExit(options.config, []);
      const { runServe } = await import("./serve.ts");
      setExitCode(await runServe(config, options, io));
    });

  program
    .command("certs")
    .description(
      "write a CA and a webhook serving certificate (ca.crt, tls.crt, tls.key) and print the caBundle",
    )
    .requiredOption("--service <name>", "webhook Service name")
    .requiredOption("--namespace <namespace>", "webhook Service namespace")
    .option("--out <dir>", "output directory", "certs")
    .option("--dns <name>", "extra DNS SAN, repeatable", collect, [])
    .option("--ip <address>", "extra IP SAN, repeatable", collect, [])
    .option("--days <days>", "serving certificate validity in days", (v) => positiveInt(v), 365)
    .action(async (options) => {
      const { runCertsCommand } = await import("./certs.ts");
      setExitCode(await runCertsCommand(options, io));
    });

  return program;
}

function portNumber(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new InvalidArgumentError("not a port number");
  return port;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("not a positive whole number");
  return n;
}

export async function main(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  let exitCode = 0;
  const program = buildProgram(io, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...argv], { from: "user" });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are successes; everything else commander reports is a usage error.
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof InputError) {
      io.stderr(`pullcheck: ${error.message}\n`);
      return 2;
    }
    io.stderr(`pullcheck: unexpected error: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
}
