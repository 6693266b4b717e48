// A restarted agent does not put a gateway replica back into use on a guess: pods that report
// Ready=False and replicas missing from the kernel's existing group stay out until polled OK.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { NodePlan } from "../calc/plan.js";
import type { Resource } from "../api/meta.js";
import { gatewayGroupsOf } from "../dataplane/kernel-groups.js";
import { gatewayPod } from "../daemon/testing/objects.js";
import { podReportsNotReady, replicasOutsideKernelGroups } from "./health-seed.js";
import { readinessUrl } from "./poller.js";
import {
  CLIENT,
  GW_A,
  GW_B,
  hopsOf,
  startTwoReplicaAgent,
  type TwoReplicaOptions,
} from "./testing/harness.js";

const URL_B = readinessUrl(GW_B.ip, 8080);

const withReady = (pod: Resource, status: "True" | "False"): Resource => ({
  ...pod,
  status: { ...(pod.status as object), conditions: [{ type: "Ready", status, reason: "Probe" }] },
});

/** An agent starting on a node whose kernel (fake) already holds `kernelSlots`/`kernelGroups`. */
const restart = (o: TwoReplicaOptions = {}) => startTwoReplicaAgent(o);

describe("agent restart: health seeding", () => {
  it("keeps a replica whose pod says Ready=False out until a poll succeeds", async () => {
    const { clock, dataplane, answers, attempts, agent, log } = await restart({
      podB: withReady(gatewayPod(GW_B), "False"),
    });
    assert.deepEqual(hopsOf(dataplane.last), ["egress/gw-a"]);
    answers.set(URL_B, { status: 503 });
    await clock.advance(600); // first poll of gw-b fails: one failure proves nothing either way
    assert.deepEqual(hopsOf(dataplane.last), ["egress/gw-a"]);
    answers.delete(URL_B);
    await clock.advance(1100); // the next poll succeeds
    assert.deepEqual(hopsOf(dataplane.last), ["egress/gw-a", "egress/gw-b"]);
    const before = attempts.findIndex((p) => hopsOf(p).includes("egress/gw-b"));
    assert.ok(before > 0, "no plan before the successful poll used gw-b");
    assert.ok(log.records.some((r) => r.msg === "gateway replica held out until a poll succeeds"));
    await agent.stop();
  });

  it("keeps a replica missing from the kernel's existing group out until a poll succeeds", async () => {
    const { clock, dataplane, answers, attempts, agent } = await restart({
      kernelSlots: new Map([[CLIENT.ip, 3]]),
      kernelGroups: [{ table: 20003, dst: "0.0.0.0/0", hops: [GW_A.ip] }],
    });
    assert.equal(dataplane.last?.gatewaySets[0]?.table, 20003, "the kernel's slot is adopted");
    assert.deepEqual(hopsOf(dataplane.last), ["egress/gw-a"]);
    assert.ok(
      attempts.every((p) => !hopsOf(p).includes("egress/gw-b")),
      "never in any plan so far",
    );
    answers.set(URL_B, { status: 503 });
    await clock.advance(600);
    assert.deepEqual(hopsOf(dataplane.last), ["egress/gw-a"], "a failed poll keeps it out");
    answers.delete(URL_B);
    await clock.advance(1100);
    assert.deepEqual(hopsOf(dataplane.last), ["egress/gw-a", "egress/gw-b"]);
    await agent.stop();
  });

  it("assumes replicas up with no information (cold start, or a group holding none of them)", async () => {
    const cold = await restart();
    assert.deepEqual(hopsOf(cold.dataplane.last), ["egress/gw-a", "egress/gw-b"]);
    await cold.agent.stop();
    const stale = await restart({
      kernelSlots: new Map([[CLIENT.ip, 1]]),
      kernelGroups: [{ table: 20001, dst: "0.0.0.0/0", hops: ["10.244.2.99"] }],
    });
    assert.deepEqual(hopsOf(stale.dataplane.last), ["egress/gw-a", "egress/gw-b"]);
    await stale.agent.stop();
  });

  it("holds nothing when polling is disabled (nothing could confirm the replica)", async () => {
    const { dataplane, agent } = await restart({ podB: withReady(gatewayPod(GW_B), "False"), intervalMs: 0 });
    assert.deepEqual(hopsOf(dataplane.last), ["egress/gw-a", "egress/gw-b"]);
    await agent.stop();
  });
});

describe("health seeding (pure)", () => {
  it("reads the Ready condition the gateway wrote", () => {
    assert.equal(podReportsNotReady(withReady(gatewayPod(GW_B), "False")), true);
    assert.equal(podReportsNotReady(withReady(gatewayPod(GW_B), "True")), false);
    assert.equal(podReportsNotReady(gatewayPod(GW_B)), false, "no condition: no information");
  });

  it("finds the plan's replicas that the kernel's group for the same route lacks", () => {
    const hop = (replica: string, ip: string) => ({ replica, ip, mac: "", vtep: ip, egressIP: "" });
    const plan = {
      gatewaySets: [
        {
          key: "s1",
          routes: [
            {
              destination: "0.0.0.0/0",
              action: "gateways",
              hops: [hop("ns/a", "10.0.0.1"), hop("ns/b", "10.0.0.2")],
            },
          ],
        },
        {
          key: "s2",
          routes: [{ destination: "198.18.0.0/16", action: "gateways", hops: [hop("ns/c", "10.0.0.3")] }],
        },
      ],
    } as unknown as NodePlan;
    const held = replicasOutsideKernelGroups(plan, [
      { gatewaySet: "s1", dst: "0.0.0.0/0", hops: ["10.0.0.1"], table: 20001 },
      { gatewaySet: "s2", dst: "198.18.0.0/16", hops: ["10.0.0.9"], table: 20002 },
    ]);
    assert.deepEqual([...held.keys()], ["ns/b"], "s2's group holds none of its replicas: left alone");
    assert.match(held.get("ns/b") ?? "", /table 20001 for 0\.0\.0\.0\/0/);
    assert.equal(replicasOutsideKernelGroups(plan, []).size, 0, "no groups: nothing held");
  });

  it("maps routes of egw's tables to their group's gateway IPs", () => {
    const groups = gatewayGroupsOf(
      [
        { table: 20001, dst: "0.0.0.0/0", type: "unicast", nhid: 300 },
        { table: 20001, dst: "198.18.0.0/16", type: "throw" },
      ],
      [
        { id: 101, gateway: "10.0.0.2", onlink: true },
        { id: 102, gateway: "10.0.0.1", onlink: true },
        { id: 300, onlink: false, group: [101, 102] },
      ],
    );
    assert.deepEqual(groups, [{ table: 20001, dst: "0.0.0.0/0", hops: ["10.0.0.1", "10.0.0.2"] }]);
  });
});
