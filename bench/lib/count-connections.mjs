// Preloaded with `node --import` into a pullcheck process by the check-vs-skopeo benchmark (an
// extra, untimed run): counts the TCP and TLS connections the process opens, by port, and
// prints them to stderr at exit as one JSON line prefixed "bench-connections ".
import net from "node:net";
import tls from "node:tls";

const counts = { tcp: {}, tls: {} };

function portOf(args) {
  const options = args.find((a) => a !== null && typeof a === "object");
  return String(
    options?.port ?? (typeof args[0] === "number" || typeof args[0] === "string" ? args[0] : "?"),
  );
}

for (const [module, kind] of [
  [net, "tcp"],
  [tls, "tls"],
]) {
  const original = module.connect;
  module.connect = function countedConnect(...args) {
    const port = portOf(args);
    counts[kind][port] = (counts[kind][port] ?? 0) + 1;
    return original.apply(this, args);
  };
}

process.on("exit", () => {
  process.stderr.write(`bench-connections ${JSON.stringify(counts)}\n`);
});
