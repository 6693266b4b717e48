// `egw describe node`'s BGP lines from Node status.bgp: sessions with their age, a refused config,
// and a node without BGP.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Resource } from "../api/meta.js";
import { describeNodeBgp } from "./node-bgp-view.js";

const node = (bgp?: unknown): Resource =>
  ({
    apiVersion: "v1",
    kind: "Node",
    metadata: { name: "node-1" },
    status: bgp === undefined ? {} : { bgp },
  }) as Resource;
const now = new Date("2026-11-28T13:20:00Z");

describe("describeNodeBgp", () => {
  it("shows each session with how long it has been in its state", () => {
    const lines = describeNodeBgp(
      node({
        configApplied: true,
        announced: ["10.10.0.2/32"],
        peers: [
          {
            name: "lab-router",
            peerIP: "172.30.0.1",
            state: "Established",
            since: "2026-11-28T13:17:45Z",
            bfd: "Up",
            prefixesAnnounced: 1,
          },
          {
            name: "tor-b",
            peerIP: "172.30.0.5",
            state: "Active",
            since: "2026-11-28T13:19:50Z",
            bfd: "Down",
            info: "Error: BFD session down",
          },
        ],
      }),
      now,
    );
    assert.deepEqual(lines, [
      "BGP: config applied",
      "  Announces: 10.10.0.2/32",
      "  PEER        PEER-IP     STATE        FOR  BFD   PREFIXES  INFO",
      "  lab-router  172.30.0.1  Established  2m   Up    1         -",
      "  tor-b       172.30.0.5  Active       10s  Down  -         Error: BFD session down",
    ]);
  });

  it("says when the last config was not applied, and when the node runs no BGP", () => {
    const refused = describeNodeBgp(
      node({ configApplied: false, error: "check: bird.conf:3:1 syntax error", announced: [] }),
      now,
    );
    assert.deepEqual(refused, [
      "BGP: the last config was not applied, BIRD keeps the previous one: check: bird.conf:3:1 syntax error",
      "  Announces: nothing",
      "  Peers: none",
    ]);
    assert.match(describeNodeBgp(node(), now)[0]!, /^BGP: off/);
  });
});
