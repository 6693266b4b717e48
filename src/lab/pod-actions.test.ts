import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { podHostInterface, podNetns } from "./names.js";
import { frozenBy } from "./partition.js";
import { podActions, podSetupLines, podView, type PodAction, type PodView } from "./pod-actions.js";
import { planTopology, type LabNode } from "./topology.js";

const lab = "t";
const topo = planTopology(lab, 2);
if (!topo.ok) throw new Error(topo.error);
const nodes: LabNode[] = topo.value.nodes;
const ns = new Set(["default", "shop"]);

const pod = (name: string, extra: Partial<PodView> = {}): PodView => ({ namespace: "shop", name, ...extra });
const running = (name: string, node: string, ip: string): PodView =>
  pod(name, {
    nodeName: node,
    phase: "Running",
    podIP: ip,
    hostInterface: podHostInterface(lab, "shop", name),
  });
const creates = (actions: PodAction[]) =>
  actions.flatMap((a) =>
    a.kind === "create" ? [[a.pod.name, a.node.name, a.ip, a.scheduled, a.replaceExisting]] : [],
  );

describe("pod actions", () => {
  it("wires pods onto their node with the lowest free IPs", () => {
    const actions = podActions({
      lab,
      nodes,
      pods: [
        pod("a", { nodeName: "node-1" }),
        pod("b", { nodeName: "node-2" }),
        pod("c", { nodeName: "node-1" }),
      ],
      namespaces: ns,
      existingNetns: [],
    });
    assert.deepEqual(creates(actions), [
      ["a", "node-1", "10.244.1.1", false, false],
      ["b", "node-2", "10.244.2.1", false, false],
      ["c", "node-1", "10.244.1.2", false, false],
    ]);
    const a = actions[0];
    assert.ok(a && a.kind === "create");
    assert.equal(a.netns, podNetns(lab, "shop", "a"));
    assert.equal(a.hostInterface, podHostInterface(lab, "shop", "a"));
  });

  it("schedules pods without spec.nodeName onto the least-loaded node", () => {
    const actions = podActions({
      lab,
      nodes,
      pods: [running("a", "node-1", "10.244.1.1"), pod("b"), pod("c")],
      namespaces: ns,
      existingNetns: [podNetns(lab, "shop", "a")],
    });
    assert.deepEqual(creates(actions), [
      ["b", "node-2", "10.244.2.1", true, false],
      ["c", "node-1", "10.244.1.2", true, false],
    ]);
  });

  it("adopts running pods whose namespace exists (restart) and plans nothing for a converged lab", () => {
    const actions = podActions({
      lab,
      nodes,
      pods: [running("a", "node-1", "10.244.1.1"), running("b", "node-2", "10.244.2.1")],
      namespaces: ns,
      existingNetns: [
        podNetns(lab, "shop", "a"),
        podNetns(lab, "shop", "b"),
        "unrelated",
        "egw-other-p-0123456789ab",
      ],
    });
    assert.deepEqual(actions, []);
  });

  it("keeps an adopted pod's IP even if a new pod sorts before it", () => {
    const actions = podActions({
      lab,
      nodes,
      pods: [pod("a", { nodeName: "node-1" }), running("z", "node-1", "10.244.1.1")],
      namespaces: ns,
      existingNetns: [podNetns(lab, "shop", "z")],
    });
    assert.deepEqual(creates(actions), [["a", "node-1", "10.244.1.2", false, false]]);
  });

  it("rebuilds a running pod whose namespace vanished, keeping its IP; replaces a half-built one", () => {
    const actions = podActions({
      lab,
      nodes,
      pods: [running("a", "node-2", "10.244.2.7"), pod("b", { nodeName: "node-1" })],
      namespaces: ns,
      existingNetns: [podNetns(lab, "shop", "b")],
    });
    assert.deepEqual(creates(actions), [
      ["a", "node-2", "10.244.2.7", false, false],
      ["b", "node-1", "10.244.1.1", false, true],
    ]);
  });

  it("fails a pod on an unknown node with a clear message and creates nothing for it", () => {
    const actions = podActions({
      lab,
      nodes,
      pods: [pod("a", { nodeName: "node-9" })],
      namespaces: ns,
      existingNetns: [],
    });
    assert.deepEqual(actions, [
      {
        kind: "fail",
        pod: { namespace: "shop", name: "a" },
        reason: "UnknownNode",
        message: 'Pod shop/a: spec.nodeName "node-9" is not a node of lab "t" (nodes: node-1, node-2)',
      },
    ]);
  });

  it("fails a pod when its node's block is exhausted", () => {
    const full: PodView[] = [];
    for (let i = 1; i <= 254; i++) full.push(running(`p${i}`, "node-1", `10.244.1.${i}`));
    const actions = podActions({
      lab,
      nodes,
      pods: [...full, pod("extra", { nodeName: "node-1" })],
      namespaces: ns,
      existingNetns: full.map((p) => podNetns(lab, p.namespace, p.name)),
    });
    assert.equal(actions.length, 1);
    const a = actions[0];
    assert.ok(a && a.kind === "fail");
    assert.equal(a.reason, "IPPoolExhausted");
    assert.match(a.message, /no free pod IP in node node-1's block 10\.244\.1\.0\/24/);
  });

  it("schedules around a full node, and fails only when every block is full", () => {
    const oneNode = nodes.slice(0, 1);
    const full: PodView[] = [];
    for (let i = 1; i <= 254; i++) full.push(running(`p${i}`, "node-1", `10.244.1.${i}`));
    const existing = full.map((p) => podNetns(lab, p.namespace, p.name));
    const two = podActions({
      lab,
      nodes,
      pods: [...full, pod("x")],
      namespaces: ns,
      existingNetns: existing,
    });
    assert.deepEqual(creates(two), [["x", "node-2", "10.244.2.1", true, false]]);
    const one = podActions({
      lab,
      nodes: oneNode,
      pods: [...full, pod("x")],
      namespaces: ns,
      existingNetns: existing,
    });
    assert.equal(one[0]?.kind === "fail" && one[0].reason, "IPPoolExhausted");
  });

  it("keeps pods of a missing namespace pending, once", () => {
    const first = podActions({
      lab,
      nodes,
      pods: [{ namespace: "nope", name: "a" }],
      namespaces: ns,
      existingNetns: [],
    });
    assert.equal(first.length, 1);
    const p = first[0];
    assert.ok(p && p.kind === "pending");
    assert.equal(p.reason, "NamespaceNotFound");
    const again = podActions({
      lab,
      nodes,
      pods: [{ namespace: "nope", name: "a", phase: "Pending", message: p.message }],
      namespaces: ns,
      existingNetns: [],
    });
    assert.deepEqual(again, []);
  });

  it("fails pods whose names cannot be Kubernetes names", () => {
    const actions = podActions({ lab, nodes, pods: [pod("Bad_Name")], namespaces: ns, existingNetns: [] });
    assert.equal(actions[0]?.kind === "fail" && actions[0].reason, "InvalidName");
  });

  it("removes namespaces of deleted and failed pods, and only this lab's", () => {
    const actions = podActions({
      lab,
      nodes,
      pods: [pod("f", { phase: "Failed", nodeName: "node-1" })],
      namespaces: ns,
      existingNetns: [
        podNetns(lab, "shop", "gone"),
        podNetns(lab, "shop", "f"),
        podNetns("other", "shop", "x"),
      ],
    });
    assert.deepEqual(
      actions.map((a) => a.kind === "remove" && a.netns).sort(),
      [podNetns(lab, "shop", "gone"), podNetns(lab, "shop", "f")].sort(),
    );
  });

  it("reads the fields it needs from a stored Pod", () => {
    const v = podView({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "a", namespace: "shop" },
      spec: { nodeName: "node-1" },
      status: { phase: "Running", podIP: "10.244.1.1", hostInterface: "ew1" },
    });
    assert.deepEqual(v, {
      namespace: "shop",
      name: "a",
      nodeName: "node-1",
      phase: "Running",
      podIP: "10.244.1.1",
      hostInterface: "ew1",
    });
  });

  it("renders the ip batches that wire a pod", () => {
    const [a] = podActions({
      lab,
      nodes,
      pods: [pod("a", { nodeName: "node-1" })],
      namespaces: ns,
      existingNetns: [],
    });
    assert.ok(a && a.kind === "create");
    const lines = podSetupLines(a);
    assert.match(
      lines.node[0] ?? "",
      new RegExp(
        `^link add ${a.hostInterface} address ee:ee:ee:ee:ee:ee type veth peer name eth0 netns ${a.netns}$`,
      ),
    );
    assert.ok(lines.node.includes(`route replace 10.244.1.1/32 dev ${a.hostInterface} scope link`));
    assert.ok(lines.pod.includes("addr add 10.244.1.1/32 dev eth0"));
    assert.ok(lines.pod.includes("route add default via 169.254.1.1 dev eth0"));
  });
});

describe("pod actions: cut nodes", () => {
  const frozen = frozenBy(lab, {
    "node-2": {
      since: "2030-01-01T00:00:00Z",
      pods: [
        { namespace: "shop", name: "gone" },
        { namespace: "shop", name: "b" },
      ],
    },
  });

  it("leaves a cut node's pods and namespaces alone, even deleted ones, and schedules elsewhere", () => {
    const actions = podActions({
      lab,
      nodes,
      pods: [running("b", "node-2", "10.244.2.1"), pod("new-on-2", { nodeName: "node-2" }), pod("anywhere")],
      namespaces: ns,
      existingNetns: [
        podNetns(lab, "shop", "b"),
        podNetns(lab, "shop", "gone"),
        podNetns(lab, "shop", "orphan"),
      ],
      frozen,
    });
    assert.deepEqual(creates(actions), [["anywhere", "node-1", "10.244.1.1", true, false]]);
    assert.deepEqual(
      actions.filter((a) => a.kind === "remove"),
      [{ kind: "remove", netns: podNetns(lab, "shop", "orphan") }],
      "the deleted pod's namespace stays while its node is cut",
    );
  });

  it("a new pod taking a cut pod's name elsewhere waits for the namespace", () => {
    const actions = podActions({
      lab,
      nodes,
      pods: [pod("gone", { nodeName: "node-1" })],
      namespaces: ns,
      existingNetns: [podNetns(lab, "shop", "gone")],
      frozen,
    });
    assert.deepEqual(actions, []);
  });
});
