// Entry point of the lab's egw components (controller, agents, gateways), started in the
// background by `egw up` and the lab runtime:
//   node component-main.js --state-dir DIR --etcd URL -- <egw arguments…>
// It points the CLI at the lab's etcd (as a DaemonSet's environment would) and runs `egw …`.
// The state dir is on the command line so `egw down` recognises the process as the lab's.
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const main = async (argv: string[]): Promise<void> => {
  const sep = argv.indexOf("--");
  const own = sep >= 0 ? argv.slice(0, sep) : argv;
  const egwArgs = sep >= 0 ? argv.slice(sep + 1) : [];
  const opt = (name: string): string | undefined => {
    const i = own.indexOf(name);
    return i >= 0 ? own[i + 1] : undefined;
  };
  const stateDir = opt("--state-dir");
  const etcd = opt("--etcd");
  if (!stateDir || !etcd || egwArgs.length === 0) {
    process.stderr.write("usage: component-main --state-dir DIR --etcd URL -- EGW-ARGS…\n");
    process.exit(2);
  }
  process.env.EGW_DATASTORE_TYPE = "etcd";
  process.env.EGW_ETCD_ENDPOINTS = etcd;
  // A config file that never exists: the user's CLI config must not leak into lab components.
  process.env.EGW_CONFIG = join(stateDir, "component-config.yaml");
  const cli = await import("../cli/main.js");
  await cli.main([process.execPath, "egw", ...egwArgs]);
};

if (process.argv[1] === fileURLToPath(import.meta.url)) void main(process.argv.slice(2));
