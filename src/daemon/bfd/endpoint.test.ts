// Two endpoints over real UDP sockets on loopback (127.0.0.1 and 127.0.0.2, one free port), and a
// hand-driven socket playing a peer to check what goes on the wire and what is refused.
import assert from "node:assert/strict";
import { createSocket, type Socket } from "node:dgram";
import { after, describe, it } from "node:test";
import { systemClock } from "../clock.js";
import { FakeClock } from "../testing/fake-clock.js";
import { memoryLogger } from "../../util/log.js";
import { waitFor } from "../../util/wait.js";
import { BfdEndpoint, DISCRIMINATOR_HOLD_MS, SOURCE_PORT_MAX, SOURCE_PORT_MIN } from "./endpoint.js";
import { BfdDiag, decodeControl, encodeControl, type BfdControl } from "./packet.js";
import type { BfdPeerState } from "./session.js";

const FAST = { intervalMs: 20, multiplier: 3 };
/** Only stops a broken run from hanging; not what the tests assert. */
const GUARD_MS = 20_000;

const toClose: { close(): unknown }[] = [];
after(async () => {
  for (const c of toClose) await c.close();
});

interface Opened {
  ep: BfdEndpoint;
  changes: { peer: string; s: BfdPeerState }[];
  removed: string[];
}

async function open(
  address: string,
  port: number,
  o: { accept?: boolean; idleRemoveMs?: number; clock?: FakeClock; random?: () => number } = {},
): Promise<Opened> {
  const changes: Opened["changes"] = [];
  const removed: string[] = [];
  const r = await BfdEndpoint.open({
    address,
    port,
    clock: o.clock ?? systemClock(),
    log: memoryLogger(),
    ...(o.random === undefined ? {} : { random: o.random }),
    ...(o.accept ? { acceptPeer: () => FAST } : {}),
    ...(o.idleRemoveMs === undefined ? {} : { idleRemoveMs: o.idleRemoveMs }),
    onChange: (peer, s) => changes.push({ peer, s }),
    onRemoved: (peer) => removed.push(peer),
  });
  assert.ok(r.ok, r.ok ? "" : r.error);
  toClose.push(r.value);
  return { ep: r.value, changes, removed };
}

const until = async (what: string, check: () => boolean): Promise<void> => {
  assert.ok(await waitFor(check, GUARD_MS, 5), `gave up waiting for ${what}`);
};

const stateOf = (o: Opened, peer: string): BfdPeerState | undefined => o.ep.peers().get(peer);

/** A plain UDP socket standing in for a peer. */
async function fakePeer(
  address: string,
  port: number,
): Promise<{ s: Socket; got: { p: BfdControl; port: number }[] }> {
  const s = createSocket("udp4");
  const got: { p: BfdControl; port: number }[] = [];
  s.on("message", (m, r) => {
    const d = decodeControl(m);
    if (d.ok) got.push({ p: d.value, port: r.port });
  });
  await new Promise<void>((res) => s.bind(port, address, () => res()));
  toClose.push(s);
  return { s, got };
}

describe("BFD endpoint over loopback UDP", () => {
  it("an active and a passive endpoint come Up, see AdminDown, and detect a closed peer", async () => {
    const a = await open("127.0.0.1", 0);
    const b = await open("127.0.0.2", a.ep.port, { accept: true, idleRemoveMs: 500 });
    a.ep.ensure("127.0.0.2", FAST);
    await until(
      "both Up",
      () => stateOf(a, "127.0.0.2")?.state === "Up" && stateOf(b, "127.0.0.1")?.state === "Up",
    );
    assert.equal(b.changes[0]?.peer, "127.0.0.1", "the passive side reports the session it accepted");
    assert.ok(a.changes.some((c) => c.s.state === "Up"));

    b.ep.setAdminDown(BfdDiag.AdminDown);
    await until("A sees AdminDown", () => stateOf(a, "127.0.0.2")?.remoteState === "AdminDown");
    const seen = stateOf(a, "127.0.0.2")!;
    assert.equal(seen.remoteDiag, BfdDiag.AdminDown);
    assert.equal(seen.state, "Down");
    assert.equal(seen.localDiag, BfdDiag.NeighborDown);
    b.ep.setAdminDown(undefined);
    await until(
      "Up again",
      () => stateOf(a, "127.0.0.2")?.state === "Up" && stateOf(b, "127.0.0.1")?.state === "Up",
    );

    await a.ep.close();
    await until("B detects A gone", () => stateOf(b, "127.0.0.1")?.state !== "Up");
    assert.equal(stateOf(b, "127.0.0.1")?.localDiag, BfdDiag.TimeExpired);
    await until("B drops the idle passive session", () => b.removed.includes("127.0.0.1"));
    assert.equal(b.ep.peers().size, 0);
  });

  it("a removed session tells the peer AdminDown; re-ensured, it comes Up with a new discriminator", async () => {
    const a = await open("127.0.0.1", 0);
    const b = await open("127.0.0.2", a.ep.port, { accept: true });
    a.ep.ensure("127.0.0.2", FAST);
    await until("Up", () => stateOf(b, "127.0.0.1")?.state === "Up");
    const first = stateOf(a, "127.0.0.2")!.localDiscriminator;
    a.ep.remove("127.0.0.2");
    assert.equal(a.ep.peers().size, 0);
    await until("B sees AdminDown", () => stateOf(b, "127.0.0.1")?.remoteState === "AdminDown");
    assert.equal(stateOf(b, "127.0.0.1")?.remoteDiag, BfdDiag.AdminDown);
    a.ep.ensure("127.0.0.2", FAST);
    await until(
      "Up again",
      () => stateOf(a, "127.0.0.2")?.state === "Up" && stateOf(b, "127.0.0.1")?.state === "Up",
    );
    assert.notEqual(stateOf(a, "127.0.0.2")!.localDiscriminator, first);
  });

  it("a passive endpoint already AdminDown shows a new peer AdminDown with its diag at once", async () => {
    const a = await open("127.0.0.1", 0);
    const b = await open("127.0.0.2", a.ep.port, { accept: true });
    b.ep.setAdminDown(BfdDiag.ConcatenatedPathDown);
    a.ep.ensure("127.0.0.2", FAST);
    await until("A sees AdminDown", () => stateOf(a, "127.0.0.2")?.remoteState === "AdminDown");
    assert.equal(stateOf(a, "127.0.0.2")?.remoteDiag, BfdDiag.ConcatenatedPathDown);
    assert.equal(stateOf(b, "127.0.0.1")?.state, "AdminDown");
    b.ep.setAdminDown(undefined);
    await until(
      "Up",
      () => stateOf(a, "127.0.0.2")?.state === "Up" && stateOf(b, "127.0.0.1")?.state === "Up",
    );
  });

  it("retimes an Up session with a Poll Sequence", async () => {
    const a = await open("127.0.0.1", 0);
    const b = await open("127.0.0.2", a.ep.port, { accept: true });
    a.ep.ensure("127.0.0.2", FAST);
    await until("Up", () => stateOf(b, "127.0.0.1")?.state === "Up");
    a.ep.ensure("127.0.0.2", { intervalMs: 50, multiplier: 4 });
    await until("B detects A by A's new timers", () => stateOf(b, "127.0.0.1")?.detectionTimeMs === 200);
    assert.equal(stateOf(b, "127.0.0.1")?.state, "Up");
  });

  it("sends from a port in 49152–65535 to the peer's port and refuses what fails the checks", async () => {
    const a = await open("127.0.0.1", 0);
    assert.ok(a.ep.sourcePort >= SOURCE_PORT_MIN && a.ep.sourcePort <= SOURCE_PORT_MAX);
    const peer = await fakePeer("127.0.0.3", a.ep.port);
    a.ep.ensure("127.0.0.3", FAST);
    await until("a packet", () => peer.got.length > 0);
    const first = peer.got[0]!;
    assert.equal(first.port, a.ep.sourcePort);
    assert.equal(first.p.state, "Down");
    assert.equal(first.p.yourDiscriminator, 0);
    assert.equal(first.p.desiredMinTxUs, 1_000_000, "slow while not Up");
    assert.equal(first.p.requiredMinRxUs, 20_000);
    const mine = first.p.myDiscriminator;
    const reply = (p: Partial<BfdControl>, from: Socket = peer.s): Promise<void> =>
      new Promise((res) =>
        from.send(
          encodeControl({ ...first.p, myDiscriminator: 77, yourDiscriminator: mine, state: "Init", ...p }),
          a.ep.port,
          "127.0.0.1",
          () => res(),
        ),
      );
    const discardedBefore = a.ep.stats().discarded;
    await reply({ yourDiscriminator: mine + 1 });
    await until("discarded: unknown discriminator", () => a.ep.stats().discarded === discardedBefore + 1);
    assert.match(a.ep.stats().lastDiscard ?? "", /no session has discriminator/);
    const other = await fakePeer("127.0.0.4", 0);
    await reply({}, other.s);
    await until("discarded: wrong address", () => a.ep.stats().discarded === discardedBefore + 2);
    assert.match(a.ep.stats().lastDiscard ?? "", /belongs to 127.0.0.3/);
    await reply({ state: "Up", yourDiscriminator: 0 });
    await until("discarded: failed check", () => a.ep.stats().discarded === discardedBefore + 3);
    assert.match(a.ep.stats().lastDiscard ?? "", /your discriminator 0 in state Up/);
    assert.equal(stateOf(a, "127.0.0.3")?.state, "Down", "nothing refused moved the session");
    await reply({});
    await until("Up on a valid Init", () => stateOf(a, "127.0.0.3")?.state === "Up");
  });

  it("ignores unknown peers without acceptPeer", async () => {
    const a = await open("127.0.0.1", 0);
    const peer = await fakePeer("127.0.0.5", 0);
    const p = encodeControl({
      diag: 0,
      state: "Down",
      poll: false,
      final: false,
      cpi: false,
      auth: false,
      demand: false,
      multipoint: false,
      detectMult: 3,
      myDiscriminator: 5,
      yourDiscriminator: 0,
      desiredMinTxUs: 1_000_000,
      requiredMinRxUs: 100_000,
      requiredMinEchoRxUs: 0,
    });
    await new Promise<void>((res) => peer.s.send(p, a.ep.port, "127.0.0.1", () => res()));
    await until("discarded", () => a.ep.stats().discarded === 1);
    assert.equal(a.ep.peers().size, 0);
  });

  it("does not hand out a freed discriminator again while it is held", async () => {
    const clock = new FakeClock();
    const queue: number[] = [];
    const random = (): number => queue.shift() ?? 0.1;
    const a = await open("127.0.0.1", 0, { clock, random });
    queue.push(0.5);
    a.ep.ensure("127.0.0.9", FAST);
    const d1 = stateOf(a, "127.0.0.9")!.localDiscriminator;
    a.ep.remove("127.0.0.9");
    queue.push(0.5, 0.75);
    a.ep.ensure("127.0.0.9", FAST);
    const d2 = stateOf(a, "127.0.0.9")!.localDiscriminator;
    assert.notEqual(d2, d1, "the freed one is held");
    a.ep.remove("127.0.0.9");
    await clock.advance(DISCRIMINATOR_HOLD_MS);
    queue.length = 0;
    queue.push(0.5);
    a.ep.ensure("127.0.0.9", FAST);
    assert.equal(stateOf(a, "127.0.0.9")!.localDiscriminator, d1, "free again after the hold");
  });

  it("reports a bad address as an error value", async () => {
    const r = await BfdEndpoint.open({
      address: "nope",
      clock: systemClock(),
      log: memoryLogger(),
      onChange: () => undefined,
    });
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.error, /not an IP address/);
    const a = await open("127.0.0.1", 0);
    const again = await BfdEndpoint.open({
      address: "127.0.0.1",
      port: a.ep.port,
      clock: systemClock(),
      log: memoryLogger(),
      onChange: () => undefined,
    });
    assert.equal(again.ok, false);
    if (!again.ok) assert.match(again.error, new RegExp(`127.0.0.1:${a.ep.port}: .*EADDRINUSE`));
  });
});
