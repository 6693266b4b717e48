import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildSteps, renderNodeNat } from "./build-steps.js";
import { planTopology } from "./topology.js";

describe("lab build steps", () => {
  const t = planTopology("x", 2);
  if (!t.ok) throw new Error(t.error);
  const steps = buildSteps(t.value);

  it("creates every namespace first, and only this lab's", () => {
    const first = steps[0];
    assert.ok(first && first.kind === "netns");
    assert.deepEqual(first.names, [
      "egw-x-ul",
      "egw-x-ctl",
      "egw-x-rtr",
      "egw-x-ext",
      "egw-x-n1",
      "egw-x-n2",
    ]);
    assert.equal(steps.filter((s) => s.kind === "netns").length, 1);
  });

  it("never touches the root namespace", () => {
    for (const s of steps) if (s.kind !== "netns") assert.match(s.netns, /^egw-x-/);
  });

  it("routes each node's peers' pod blocks over the underlay and defaults to the router", () => {
    const n1 = steps.find((s) => s.kind === "ip" && s.netns === "egw-x-n1");
    assert.ok(n1 && n1.kind === "ip");
    assert.ok(n1.lines.includes("addr add 172.30.0.11/24 dev ul0"));
    assert.ok(n1.lines.includes("route add default via 172.30.0.1"));
    assert.ok(n1.lines.includes("route add 10.244.2.0/24 via 172.30.0.12"));
    assert.ok(!n1.lines.some((l) => l.includes("10.244.1.0/24")));
  });

  it("enables forwarding on nodes and router, and keeps bridged frames out of netfilter", () => {
    const sysctl = (ns: string) => steps.find((s) => s.kind === "sysctl" && s.netns === ns);
    const rtr = sysctl("egw-x-rtr");
    assert.ok(rtr && rtr.kind === "sysctl" && rtr.settings["net.ipv4.ip_forward"] === "1");
    assert.equal(rtr.settings["net.ipv4.conf.ul0.send_redirects"], "0", "no redirects: egress IPs move");
    const ul = sysctl("egw-x-ul");
    assert.ok(ul && ul.kind === "sysctl" && ul.settings["net.bridge.bridge-nf-call-iptables"] === "0");
  });

  it("SNATs pod traffic leaving a node for non-pod destinations", () => {
    assert.match(
      renderNodeNat(),
      /oifname "ul0" ip saddr 10\.244\.0\.0\/16 ip daddr != 10\.244\.0\.0\/16 counter masquerade/,
    );
    assert.equal(steps.filter((s) => s.kind === "nft").length, 3); // router firewall + 2 nodes
  });
});
