// Carries out the lab runtime's pod actions (I/O, pod-actions.ts decides them): wires a pod
// into the kernel (its netns, the veth pair to its node, address and routes) and reports it
// Running in its status; marks pods Failed or Pending; removes pod namespaces nobody wants.
import type { Condition } from "../api/conditions.js";
import type { Resource } from "../api/meta.js";
import { ANN_GATEWAY_OWNER } from "../api/well-known.js";
import { readModifyWrite } from "../datastore/read-modify-write.js";
import type { Datastore } from "../datastore/types.js";
import { stopProcesses } from "../util/background-process.js";
import type { Result } from "../util/result.js";
import { POD_INTERFACE } from "./names.js";
import { addNetns, deleteNetns, ipBatch, netnsPids } from "./netns.js";
import { podSetupLines, type PodAction, type PodRef } from "./pod-actions.js";

type Create = Extract<PodAction, { kind: "create" }>;

/** How a status write ended: the pod is gone, or the write failed (logged; the next pass retries). */
type StatusWrite = "written" | "absent" | "failed";

const describePod = (p: PodRef): string => `${p.namespace}/${p.name}`;

const notReadyYet = (now: Date): Condition => ({
  type: "Ready",
  status: "False",
  reason: "ContainersNotReady",
  message: "the gateway process has not reported its readiness yet",
  lastTransitionTime: now.toISOString(),
});

/** Removes a pod namespace: processes in it first (they would keep it and its veth alive). */
export const removePodNetns = async (netns: string): Promise<Result<void, string>> => {
  const pids = await netnsPids(netns);
  if (pids.length > 0) await stopProcesses(pids, 1000);
  await ipBatch(netns, [`link del ${POD_INTERFACE}`]);
  return deleteNetns([netns]);
};

export class PodWiring {
  constructor(
    private readonly store: Datastore,
    private readonly log: (line: string) => void,
  ) {}

  async apply(a: PodAction): Promise<void> {
    const { log } = this;
    switch (a.kind) {
      case "remove": {
        const r = await removePodNetns(a.netns);
        log(r.ok ? `removed pod namespace ${a.netns}` : `cannot remove ${a.netns}: ${r.error}`);
        return;
      }
      case "fail":
        log(`${a.reason}: ${a.message}`);
        await this.writeStatus(a.pod, () => ({
          status: { phase: "Failed", reason: a.reason, message: a.message },
        }));
        return;
      case "pending":
        log(`${a.reason}: ${a.message}`);
        await this.writeStatus(a.pod, () => ({
          status: { phase: "Pending", reason: a.reason, message: a.message },
        }));
        return;
      case "create":
        await this.create(a);
        return;
    }
  }

  private async create(a: Create): Promise<void> {
    const name = describePod(a.pod);
    if (a.replaceExisting) await removePodNetns(a.netns);
    const wired = await this.wire(a);
    if (!wired.ok) {
      await removePodNetns(a.netns);
      const message = `Pod ${name}: cannot set up its network on ${a.node.name}: ${wired.error}`;
      this.log(message);
      await this.writeStatus(a.pod, () => ({
        status: { phase: "Failed", reason: "NetworkSetupFailed", message },
      }));
      return;
    }
    const written = await this.writeStatus(a.pod, (current) => ({
      ...(a.scheduled ? { spec: { ...((current.spec ?? {}) as object), nodeName: a.node.name } } : {}),
      status: {
        phase: "Running",
        podIP: a.ip,
        hostIP: a.node.underlayIp,
        hostInterface: a.hostInterface,
        // As a kubelet reports a pod whose readiness has not passed yet: a gateway replica is not
        // ready until its own process says so, so clients do not route to it before it works.
        ...(current.metadata.annotations?.[ANN_GATEWAY_OWNER] === undefined
          ? {}
          : { conditions: [notReadyYet(new Date())] }),
      },
    }));
    if (written !== "written") {
      // Absent: the pod vanished while we wired it. Failed: it is not Running in the store, so
      // the next pass wires it again from scratch. Either way leave nothing behind.
      await removePodNetns(a.netns);
      return;
    }
    this.log(
      `pod ${name} running on ${a.node.name}: ${a.ip} (${a.hostInterface} in ${a.node.netns}, netns ${a.netns})`,
    );
  }

  private async wire(a: Create): Promise<Result<void, string>> {
    const lines = podSetupLines(a);
    const created = await addNetns([a.netns]);
    if (!created.ok) return created;
    const node = await ipBatch(a.node.netns, lines.node);
    if (!node.ok) return node;
    return ipBatch(a.netns, lines.pod);
  }

  /** Read-modify-write of one pod with compare-and-swap, retried on conflicts. */
  private async writeStatus(
    ref: PodRef,
    change: (current: Resource) => Partial<Resource>,
  ): Promise<StatusWrite> {
    const r = await readModifyWrite(
      this.store,
      { kind: "Pod", namespace: ref.namespace, name: ref.name },
      (current) => ({ ...current, ...change(current) }),
    );
    if (r.ok) return r.value.kind === "absent" ? "absent" : "written";
    if (r.error.code === "Conflict")
      this.log(`pod ${describePod(ref)} kept changing; will retry on the next pass`);
    else this.log(`cannot update pod ${describePod(ref)}: ${r.error.message}`);
    return "failed";
  }
}
