// The tracer follows nf_tables' semantics on hand-built rulesets, and refuses what it cannot
// evaluate. The gateway replica's rendered table is traced here too.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { renderGateway } from "../render-gateway.js";
import {
  ACCEPT,
  anonymous,
  chain,
  concat,
  counter,
  DROP,
  field,
  goto,
  inSet,
  is,
  isNot,
  jump,
  log,
  RETURN,
  rule,
  set,
  setMark,
  states,
  verdictMap,
  vmap,
  type BaseChain,
  type Table,
} from "./objects.js";
import { PATHS, Tracer, type Packet } from "./trace.js";

const hook = (h: BaseChain["hook"], offset = 0, policy: "accept" | "drop" = "accept"): BaseChain => ({
  type: "filter",
  hook: h,
  priority: { base: "filter", offset },
  policy,
});

const packet = (p: Partial<Packet> = {}): Packet => ({
  iif: "ew1",
  saddr: "10.0.0.1",
  daddr: "198.18.0.1",
  l4proto: 6,
  dport: 80,
  ct: { state: "new", direction: "original", mark: 0 },
  mark: 0,
  ...p,
});

const trace = (tables: Table[], p: Packet, path = PATHS.forward) => {
  const r = new Tracer(tables).trace(p, path);
  assert.ok(r.ok, r.ok ? "" : r.error);
  return r.value;
};
const comments = (t: { hits: { comment?: string }[] }): string[] => t.hits.flatMap((h) => h.comment ?? []);

describe("Tracer", () => {
  const t: Table = {
    name: "egw_t",
    objects: [
      set("egw_pairs", ["ifname", "ipv4_addr"], [["ew1", "10.0.0.1"]]),
      set("egw_nets", ["ipv4_addr"], ["198.18.0.0/16", "203.0.113.7"], { interval: true }),
      verdictMap("egw_marks", ["mark"], [{ key: 0x10000, verdict: jump("egw_restore") }]),
      chain("egw_restore", [rule([], [setMark("meta", 0x0fff0000, 0x10000)], ACCEPT, "restored")]),
      chain("egw_tier", [
        rule(
          [is("ip daddr", inSet("egw_nets")), is("th dport", anonymous([80, { from: 1000, to: 2000 }]))],
          [],
          goto("egw_allow"),
        ),
        rule([is("meta l4proto", 17)], [counter()], RETURN, "pass"),
        rule([], [counter(), log("denied", 5)], DROP, "deny"),
      ]),
      chain("egw_allow", [rule([], [counter()], ACCEPT, "allow")]),
      chain(
        "egw_pre",
        [
          rule(
            [is("iifname", "vx0"), is(field("ct mark", 0x0fff0000), 0x10000)],
            [],
            vmap(field("ct mark", 0x0fff0000), "egw_marks"),
          ),
          rule(
            [is("iifname", "ew*"), isNot(concat("iifname", "ip saddr"), inSet("egw_pairs"))],
            [counter()],
            DROP,
            "spoofed",
          ),
        ],
        hook("prerouting", -100),
      ),
      chain(
        "egw_fwd",
        [
          rule([is("ct state", states("established", "related"))], [], ACCEPT),
          rule([is("iifname", "ew*")], [], jump("egw_tier")),
          rule([], [counter()], ACCEPT, "after tier"),
        ],
        hook("forward"),
      ),
    ],
  };

  it("jumps, returns to the caller and goes to chains that end in the caller's place", () => {
    assert.deepEqual(comments(trace([t], packet())), ["allow"]);
    assert.deepEqual(comments(trace([t], packet({ dport: 1500 }))), ["allow"]);
    assert.deepEqual(comments(trace([t], packet({ l4proto: 17, dport: 53 }))), ["pass", "after tier"]);
    const denied = trace([t], packet({ daddr: "198.19.0.1" }));
    assert.equal(denied.verdict, "drop");
    assert.deepEqual(denied.hits.at(-1)?.log, { prefix: "denied", group: 5 });
    assert.equal(
      trace([t], packet({ daddr: "203.0.113.7" })).verdict,
      "accept",
      "a single address in an interval set",
    );
  });

  it("looks up concatenations and wildcard interface names", () => {
    assert.deepEqual(comments(trace([t], packet({ saddr: "10.0.0.2" }))), ["spoofed"]);
    assert.deepEqual(comments(trace([t], packet({ iif: "ew2" }))), ["spoofed"]);
    assert.deepEqual(comments(trace([t], packet({ iif: "eth0", saddr: "10.9.9.9" }))), ["after tier"]);
  });

  it("restores marks through a verdict map keyed by a masked ct mark, keeping other bits", () => {
    const r = trace(
      [t],
      packet({
        iif: "vx0",
        ct: { state: "established", direction: "reply", mark: 0x10005 },
        mark: 0xa0000001,
      }),
    );
    assert.equal(r.mark, 0xa0010001);
    assert.deepEqual(comments(r), ["restored"]);
    assert.deepEqual(r.hits[0]?.verdict, jump("egw_restore"));
    const miss = trace(
      [t],
      packet({ iif: "vx0", ct: { state: "established", direction: "reply", mark: 0x20000 } }),
    );
    assert.equal(miss.mark, 0);
  });

  it("runs base chains in hook order, then priority, across tables; drop anywhere is final", () => {
    const order = (name: string, h: BaseChain["hook"], offset: number): Table => ({
      name,
      objects: [chain(`egw_${name}`, [rule([], [counter()], undefined, name)], hook(h, offset))],
    });
    const r = trace(
      [order("egw_c", "forward", 0), order("egw_b", "prerouting", 10), order("egw_a", "forward", -5)],
      packet(),
    );
    assert.deepEqual(comments(r), ["egw_b", "egw_a", "egw_c"]);
    const policyDrop: Table = { name: "egw_p", objects: [chain("egw_in", [], hook("input", 0, "drop"))] };
    assert.equal(trace([policyDrop], packet(), PATHS.input).verdict, "drop");
    assert.equal(trace([policyDrop], packet()).verdict, "accept", "not on the forward path");
  });

  it("refuses what it cannot evaluate", () => {
    const err = (tables: Table[], p: Packet): string => {
      const r = new Tracer(tables).trace(p);
      assert.equal(r.ok, false);
      return r.ok ? "" : r.error;
    };
    const one = (...rules: ReturnType<typeof rule>[]): Table[] => [
      { name: "egw_x", objects: [chain("egw_c", rules, hook("forward"))] },
    ];
    assert.match(
      err(one(rule([is("th dport", 80)], [], ACCEPT)), packet({ l4proto: 1 })),
      /protocol 1, which has no ports/,
    );
    assert.match(err(one(rule([is("oifname", "eth0")], [], ACCEPT)), packet()), /no output interface/);
    assert.match(
      err(one(rule([is("ip daddr", inSet("egw_none"))], [], ACCEPT)), packet()),
      /set "egw_none" does not exist/,
    );
    assert.match(err(one(rule([], [], jump("egw_none"))), packet()), /unknown chain "egw_none"/);
    assert.match(
      err(
        one(
          rule(
            [{ left: { fields: ["ip frag" as "ip saddr"] }, op: "==", right: { kind: "value", value: 1 } }],
            [],
            ACCEPT,
          ),
        ),
        packet(),
      ),
      /field "ip frag" is not one the tracer knows/,
    );
  });
});

describe("the gateway replica's table, traced", () => {
  const r = renderGateway({
    replica: "egress/gw-1",
    podIP: "10.244.9.1",
    egressIP: "10.10.0.1",
    uplink: "eth0",
    workloadCidrs: ["10.244.0.0/16"],
    nodes: [{ name: "n1", underlayIP: "172.30.0.10", podCidrs: ["10.244.1.0/24"] }],
    healthPort: 8080,
  });
  assert.ok(r.ok);
  const tables = [r.value.table];
  const gw = (p: Partial<Packet>, path = PATHS.input) => trace(tables, packet({ iif: "eth0", ...p }), path);

  it("accepts tunnels from nodes and health checks, and drops everything else addressed to it", () => {
    assert.equal(
      gw({ saddr: "172.30.0.10", daddr: "10.244.9.1", l4proto: 17, dport: 4790 }).verdict,
      "accept",
    );
    assert.equal(gw({ saddr: "172.30.0.99", daddr: "10.244.9.1", l4proto: 17, dport: 4790 }).verdict, "drop");
    assert.equal(gw({ saddr: "198.18.0.1", daddr: "10.244.9.1", l4proto: 6, dport: 8080 }).verdict, "accept");
    assert.equal(gw({ saddr: "198.18.0.1", daddr: "10.244.9.1", l4proto: 6, dport: 22 }).verdict, "drop");
    assert.equal(gw({ iif: "lo", l4proto: 6, dport: 22 }).verdict, "accept");
  });

  it("forwards only decapsulated workload traffic out of the uplink, SNATed to the egress IP", () => {
    const out = gw({ iif: "egw.vxlan", oif: "eth0", saddr: "10.244.1.10" }, PATHS.forward);
    assert.deepEqual([out.verdict, out.saddr], ["accept", "10.10.0.1"]);
    assert.equal(gw({ iif: "egw.vxlan", oif: "eth0", saddr: "192.168.0.1" }, PATHS.forward).verdict, "drop");
    assert.equal(gw({ iif: "eth0", oif: "egw.vxlan", saddr: "198.18.0.1" }, PATHS.forward).verdict, "drop");
    const reply = gw(
      {
        iif: "eth0",
        oif: "egw.vxlan",
        saddr: "198.18.0.1",
        ct: { state: "established", direction: "reply", mark: 0 },
      },
      PATHS.forward,
    );
    assert.deepEqual(
      [reply.verdict, reply.saddr],
      ["accept", "198.18.0.1"],
      "NAT sees only a connection's first packet",
    );
  });
});
