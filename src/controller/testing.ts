// Shared helpers for the controller's tests (unit and e2e): fixtures and convergence waits.
import assert from "node:assert/strict";
import type { Resource } from "../api/meta.js";
import type { EgressGatewaySpec, EgressGatewayStatus } from "../api/schemas/egress.js";
import { ANN_GATEWAY_EGRESS_IP, ANN_GATEWAY_OWNER } from "../api/well-known.js";
import { readModifyWrite } from "../datastore/read-modify-write.js";
import type { Datastore } from "../datastore/types.js";
import { listAllocations, type Allocation } from "../ipam/allocator.js";
import { compareBy } from "../util/compare.js";

export const nodeObj = (name: string, labels: Record<string, string> = {}): Resource => ({
  apiVersion: "v1",
  kind: "Node",
  metadata: { name, labels: { "kubernetes.io/hostname": name, ...labels } },
  status: {
    addresses: [{ type: "InternalIP", address: `172.30.0.${10 + Number(name.replace(/\D/g, "") || 0)}` }],
  },
});

export const poolObj = (name: string, cidr: string): Resource => ({
  apiVersion: "egw.dev/v1",
  kind: "IPPool",
  metadata: { name },
  spec: { cidr, allowedUses: ["EgressGateway"], blockSize: 32, nodeSelector: "!all()" },
});

export const gatewayObj = (name: string, namespace: string, spec: Partial<EgressGatewaySpec>): Resource => ({
  apiVersion: "egw.dev/v1",
  kind: "EgressGateway",
  metadata: { name, namespace },
  spec: { replicas: 1, ipPools: [{ name: "egress" }], ...spec },
});

export const must = async <T>(
  p: Promise<{ ok: true; value: T } | { ok: false; error: unknown }>,
): Promise<T> => {
  const r = await p;
  if (!r.ok) assert.fail(`unexpected error: ${String((r.error as Error).message ?? r.error)}`);
  return r.value;
};

export const replicaPods = async (ds: Datastore, namespace: string, gateway: string): Promise<Resource[]> => {
  const pods = await must(ds.list("Pod", { namespace }));
  return pods.items
    .filter((p) => p.metadata.annotations?.[ANN_GATEWAY_OWNER] === `${namespace}/${gateway}`)
    .sort(compareBy((p) => p.metadata.name));
};

export const egressIPOf = (pod: Resource): string | undefined =>
  pod.metadata.annotations?.[ANN_GATEWAY_EGRESS_IP];

export const allocations = (ds: Datastore): Promise<Allocation[]> => must(listAllocations(ds));

export const statusOf = async (
  ds: Datastore,
  namespace: string,
  name: string,
): Promise<EgressGatewayStatus> => {
  const gw = await must(ds.get({ kind: "EgressGateway", namespace, name }));
  return (gw.status ?? {}) as EgressGatewayStatus;
};

/**
 * Polls `check` until it returns true. Not a timing assertion: the deadline only turns a hang
 * into a failure with the last observed state.
 */
export const waitFor = async (
  what: string,
  check: () => Promise<boolean>,
  describe: () => Promise<unknown> = async () => "",
  deadlineMs = 20_000,
): Promise<void> => {
  const end = Date.now() + deadlineMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end)
      assert.fail(`${what} did not happen; last state: ${JSON.stringify(await describe())}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

/**
 * The invariant that matters most: every replica pod has an egress IP, that IP is allocated to
 * exactly that replica, and no IP is held twice.
 */
export const assertConsistent = async (ds: Datastore): Promise<void> => {
  const pods = (await must(ds.list("Pod"))).items.filter((p) => p.metadata.annotations?.[ANN_GATEWAY_OWNER]);
  const allocs = await allocations(ds);
  assert.equal(new Set(allocs.map((a) => a.ip)).size, allocs.length, "an IP is allocated twice");
  const podIPs = pods.map(egressIPOf);
  assert.equal(new Set(podIPs).size, podIPs.length, `two replicas share an egress IP: ${podIPs.join(", ")}`);
  for (const p of pods) {
    const ip = egressIPOf(p);
    assert.ok(ip, `replica ${p.metadata.name} has no egress IP`);
    const [ns, gw] = (p.metadata.annotations?.[ANN_GATEWAY_OWNER] ?? "").split("/");
    const a = allocs.find((x) => x.ip === ip);
    assert.deepEqual(
      a?.owner,
      { namespace: ns, gateway: gw, replica: p.metadata.name },
      `egress IP ${ip} of ${p.metadata.name} is not allocated to it`,
    );
  }
};

/** As a user would (egw apply): read, change, write with CAS, again if the controller wrote meanwhile. */
export const setReplicas = async (
  ds: Datastore,
  namespace: string,
  name: string,
  replicas: number,
): Promise<void> => {
  const r = await must(
    readModifyWrite(
      ds,
      { kind: "EgressGateway", namespace, name },
      (gw) => ({ ...gw, spec: { ...(gw.spec as object), replicas } }),
      { attempts: 100 },
    ),
  );
  assert.equal(r.kind, "written", `EgressGateway ${namespace}/${name} does not exist`);
};
