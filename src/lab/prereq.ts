// What `egw up` needs from the machine, checked before anything is built. Each missing piece is
// reported with the Debian package that provides it.
import { accessSync, constants, existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import { addNetns, deleteNetns, ipBatch } from "./netns.js";

export interface Problem {
  what: string;
  fix: string;
}

const REQUIRED_COMMANDS: readonly { cmd: string; pkg: string; why: string }[] = [
  { cmd: "ip", pkg: "iproute2", why: "network namespaces, links and routes" },
  { cmd: "nft", pkg: "nftables", why: "node SNAT and the lab firewall" },
  { cmd: "etcd", pkg: "etcd-server", why: "the lab's datastore" },
  { cmd: "sysctl", pkg: "procps", why: "forwarding and proxy ARP inside namespaces" },
  { cmd: "ulogd", pkg: "ulogd2", why: "the firewall's connection log" },
];

const ULOGD_PLUGIN_DIRS = [
  "/usr/lib/x86_64-linux-gnu/ulogd",
  "/usr/lib/aarch64-linux-gnu/ulogd",
  "/usr/lib/ulogd",
  "/usr/lib64/ulogd",
];

/** Where ulogd's plugins live (the JSON output plugin comes from ulogd2-json). */
export const ulogdPluginDir = (): string | undefined =>
  ULOGD_PLUGIN_DIRS.find((d) => existsSync(join(d, "ulogd_output_JSON.so")));

/** Finds an executable on PATH (plus the sbin directories root's PATH may lack). */
export const findCommand = (cmd: string, path = process.env.PATH ?? ""): string | undefined => {
  const dirs = [...path.split(delimiter), "/usr/local/sbin", "/usr/sbin", "/sbin"].filter((d) => d !== "");
  for (const d of dirs) {
    const full = join(d, cmd);
    try {
      accessSync(full, constants.X_OK);
      return full;
    } catch {
      // not here
    }
  }
  return undefined;
};

/** Checks root, the commands and the kernel (VXLAN in a scratch namespace). Empty = all good. */
export const checkPrerequisites = async (scratchNetns: string): Promise<Problem[]> => {
  const problems: Problem[] = [];
  if (process.getuid?.() !== 0) {
    problems.push({
      what: "egw up must run as root (it creates network namespaces)",
      fix: "run it with sudo, e.g. sudo egw up",
    });
    return problems;
  }
  for (const c of REQUIRED_COMMANDS) {
    if (!findCommand(c.cmd)) {
      problems.push({ what: `'${c.cmd}' is not installed (${c.why})`, fix: `apt-get install ${c.pkg}` });
    }
  }
  if (findCommand("ulogd") && !ulogdPluginDir()) {
    problems.push({
      what: "ulogd's JSON output plugin is missing (firewall log)",
      fix: "apt-get install ulogd2-json",
    });
  }
  if (findCommand("ip")) {
    const vx = await kernelSupportsVxlan(scratchNetns);
    if (!vx.ok) {
      problems.push({
        what: `the kernel cannot create VXLAN devices (${vx.error})`,
        fix: "use a kernel with CONFIG_VXLAN (e.g. modprobe vxlan, or a stock distribution kernel)",
      });
    }
  }
  return problems;
};

const kernelSupportsVxlan = async (scratch: string): Promise<{ ok: true } | { ok: false; error: string }> => {
  await deleteNetns([scratch]);
  const made = await addNetns([scratch]);
  if (!made.ok) return { ok: false, error: made.error };
  try {
    const r = await ipBatch(scratch, ["link add egwvxchk type vxlan id 4097 dstport 4790"]);
    return r.ok ? { ok: true } : { ok: false, error: r.error };
  } finally {
    await deleteNetns([scratch]);
  }
};

export const formatProblems = (problems: readonly Problem[]): string[] =>
  problems.map((p) => `${p.what}; fix: ${p.fix}`);
