// The node's BIRD config: what a session and an announcement look like, deterministic output,
// problems reported with their field, and (when bird is installed) that BIRD 2 itself parses
// every rendered variant (`bird -p`).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { runProcess } from "../util/process.js";
import { parseCommunity, type Community } from "../api/routing.js";
import {
  peerOfProtocol,
  peerProtocolName,
  renderNodeBirdConfig,
  type BirdNodeConfig,
} from "./bird-config.js";

const community = (text: string): Community => {
  const c = parseCommunity(text);
  assert.ok(c.ok);
  return c.value;
};

const base: BirdNodeConfig = {
  nodeIP: "172.30.0.11",
  asNumber: 64512,
  listenPort: 179,
  peers: [
    {
      name: "lab-router",
      ip: "172.30.0.1",
      asNumber: 64513,
      holdTimeSeconds: 9,
      bfd: { intervalMs: 100, multiplier: 3 },
    },
    { name: "tor.b", ip: "172.30.0.2", asNumber: 4200000001, holdTimeSeconds: 0, password: "s3cret word" },
  ],
  announce: [
    { prefix: "10.10.0.9/32", communities: [] },
    {
      prefix: "10.10.0.10/32",
      communities: ["64512:100", "64512:1:2", "64512:100"].map(community),
    },
  ],
};

const rendered = (c: BirdNodeConfig): string => {
  const r = renderNodeBirdConfig(c);
  assert.ok(r.ok, r.ok ? "" : r.error.join("; "));
  return r.value;
};

describe("renderNodeBirdConfig", () => {
  it("announces each prefix as a blackhole route with its communities, sorted by address", () => {
    const text = rendered(base);
    const routes = text.split("\n").filter((l) => l.trim().startsWith("route "));
    assert.deepEqual(routes, [
      "  route 10.10.0.9/32 blackhole;",
      "  route 10.10.0.10/32 blackhole { bgp_community.add((64512,100)); bgp_large_community.add((64512,1,2)); };",
    ]);
    assert.doesNotMatch(text, /protocol kernel/);
  });

  it("renders one multihop session per peer, exporting only the announced routes", () => {
    const text = rendered(base);
    assert.match(text, /protocol bgp 'peer\.lab-router' \{[^}]*local 172\.30\.0\.11 port 179 as 64512;/);
    assert.match(text, /neighbor 172\.30\.0\.1 as 64513;\n {2}multihop;\n {2}hold time 9; keepalive time 3;/);
    assert.match(text, /bfd \{ min rx interval 100 ms; min tx interval 100 ms; multiplier 3; \};/);
    assert.match(text, /'peer\.tor\.b'[\s\S]*hold time 0;\n[\s\S]*bfd off;\n {2}password "s3cret word";/);
    assert.equal(text.match(/import none; export where proto = "egw_egress"; next hop self;/g)?.length, 2);
    assert.match(text, /protocol bfd egw_bfd \{ accept ipv4 multihop; \}/);
  });

  it("has no BFD protocol when no peer uses BFD, and an empty static protocol with nothing to announce", () => {
    const text = rendered({ ...base, peers: [{ ...base.peers[1]!, name: "x" }], announce: [] });
    assert.doesNotMatch(text, /protocol bfd/);
    assert.match(text, /protocol static egw_egress \{\n {2}ipv4;\n\}/);
  });

  it("is deterministic: input order does not matter", () => {
    const shuffled = { ...base, peers: [...base.peers].reverse(), announce: [...base.announce].reverse() };
    assert.equal(rendered(shuffled), rendered(base));
  });

  it("names every problem with its field", () => {
    const r = renderNodeBirdConfig({
      ...base,
      nodeIP: "fd00::1",
      listenPort: 0,
      peers: [{ name: "p", ip: "1.2.3", asNumber: 0, holdTimeSeconds: 2, password: 'a"b' }],
      announce: [{ prefix: "10.0.0.300/32", communities: [] }],
    });
    assert.ok(!r.ok);
    assert.deepEqual(r.error, [
      'nodeIP: "fd00::1" is not an IPv4 address',
      "listenPort: 0 is not a TCP port (1-65535)",
      'peers[p].ip: "1.2.3" is not an IPv4 address',
      "peers[p].asNumber: 0 is not an AS number (1-4294967295)",
      "peers[p].holdTimeSeconds: 2 is not 0 or 3-65535",
      'peers[p].password: must not contain `"`, a line break or NUL',
      "announce[10.0.0.300/32]: not an IPv4 prefix",
    ]);
  });

  it("maps peers to protocol names and back", () => {
    assert.equal(peerOfProtocol(peerProtocolName("lab-router")), "lab-router");
    assert.equal(peerOfProtocol("egw_egress"), undefined);
  });
});

describe("BIRD 2 parses what is rendered", async () => {
  const installed = (await runProcess(["bird", "--version"])).kind === "Exited";
  const dir = mkdtempSync(join(tmpdir(), "egw-bird-config-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const variants: [string, BirdNodeConfig][] = [
    ["full", base],
    ["nothing announced, no peers", { ...base, peers: [], announce: [] }],
    ["4-byte AS, other port", { ...base, asNumber: 4200000000, listenPort: 1179 }],
  ];
  for (const [name, c] of variants)
    it(name, { skip: installed ? false : "bird is not installed" }, async () => {
      const file = join(dir, `${name.replace(/\W+/g, "-")}.conf`);
      writeFileSync(file, rendered(c));
      const r = await runProcess(["bird", "-p", "-c", file]);
      assert.equal(r.kind === "Exited" && r.code, 0, r.stderr);
    });
});
