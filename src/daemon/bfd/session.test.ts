import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeClock } from "../testing/fake-clock.js";
import { seededRandom } from "../../util/random.js";
import { BfdDiag, type BfdControl } from "./packet.js";
import { BfdSession, type BfdPeerState, type BfdRole } from "./session.js";
import type { BfdTimers } from "./timers.js";

/** Link delay of the simulated wire, in ms. */
const WIRE_MS = 1;

interface Side {
  session: BfdSession;
  /** Every packet it sent, with the clock time. */
  sent: { at: number; p: BfdControl }[];
  changes: BfdPeerState[];
  /** Packets from this side reach the other only while up, and not those `drop` picks. */
  link: { up: boolean; drop?: (p: BfdControl) => boolean };
}

/** Two sessions joined by a wire with a 1 ms delay; each direction can be cut. */
class Pair {
  readonly clock = new FakeClock();
  readonly a: Side;
  b: Side;

  constructor(
    o: {
      a?: Partial<BfdTimers>;
      b?: Partial<BfdTimers>;
      aRole?: BfdRole;
      bRole?: BfdRole;
    } = {},
  ) {
    this.a = this.side(
      1111,
      { intervalMs: 100, multiplier: 3, ...o.a },
      o.aRole ?? "active",
      () => this.b,
      1,
    );
    this.b = this.side(
      2222,
      { intervalMs: 100, multiplier: 3, ...o.b },
      o.bRole ?? "passive",
      () => this.a,
      2,
    );
  }

  side(discr: number, timers: BfdTimers, role: BfdRole, other: () => Side, seed: number): Side {
    const side: Side = { sent: [], changes: [], link: { up: true } } as unknown as Side;
    side.session = new BfdSession({
      localDiscriminator: discr,
      timers,
      role,
      clock: this.clock,
      random: seededRandom(seed),
      send: (p) => {
        side.sent.push({ at: this.clock.now(), p });
        if (!side.link.up || side.link.drop?.(p)) return;
        this.clock.setTimeout(() => {
          // What the endpoint's demultiplexing does: a packet for another discriminator is not ours.
          const to = other().session;
          if (p.yourDiscriminator === 0 || p.yourDiscriminator === to.localDiscriminator) to.receive(p);
        }, WIRE_MS);
      },
      onChange: (s) => side.changes.push(s),
    });
    return side;
  }

  /** Replaces B with a fresh session (a restarted peer), with a new discriminator. */
  restartB(discr: number, role: BfdRole = "passive"): void {
    this.b.session.stop();
    this.b = this.side(discr, { intervalMs: 100, multiplier: 3 }, role, () => this.a, discr);
  }

  async untilUp(): Promise<void> {
    for (let i = 0; i < 100; i++) {
      if (this.a.session.snapshot().state === "Up" && this.b.session.snapshot().state === "Up") return;
      await this.clock.advance(10);
    }
    assert.fail(`not Up: a=${this.a.session.snapshot().state} b=${this.b.session.snapshot().state}`);
  }
}

/** The sequence of local states reported (a report for a remote change repeats the state). */
const states = (s: Side): string[] =>
  s.changes.map((c) => c.state).filter((st, i, all) => i === 0 || all[i - 1] !== st);

const gaps = (sent: { at: number; p: BfdControl }[], from: number, to: number): number[] => {
  const ats = sent.filter((x) => x.at >= from && x.at <= to && !x.p.final).map((x) => x.at);
  return ats.slice(1).map((t, i) => t - ats[i]!);
};

describe("BFD session", () => {
  it("comes Up by the three-way handshake: Down, Init, Up", async () => {
    const w = new Pair();
    await w.untilUp();
    assert.deepEqual(states(w.a), ["Up"], "the active side sees Init and goes straight to Up");
    assert.deepEqual(states(w.b), ["Init", "Up"]);
    const first = w.a.sent[0]!.p;
    assert.equal(first.state, "Down");
    assert.equal(first.yourDiscriminator, 0, "the peer's discriminator is not known yet");
    const up = w.a.session.snapshot();
    assert.equal(up.remoteState, "Up");
    assert.equal(up.remoteDiscriminator, 2222);
    assert.equal(up.localDiag, BfdDiag.None);
    assert.equal(w.b.session.snapshot().remoteDiscriminator, 1111);
  });

  it("a passive session stays silent until the peer speaks", async () => {
    const w = new Pair();
    w.a.link.up = false;
    await w.clock.advance(5000);
    assert.equal(w.b.sent.length, 0);
    assert.ok(w.a.sent.length >= 5, "the active side keeps trying");
    w.a.link.up = true;
    await w.untilUp();
  });

  it("sends slowly (about 1 s) while not Up and at the agreed interval once Up", async () => {
    const w = new Pair();
    w.b.link.up = false;
    const start = w.clock.now();
    await w.clock.advance(10_000);
    const slow = gaps(w.a.sent, start, start + 10_000);
    assert.ok(slow.length >= 9);
    for (const g of slow) assert.ok(g >= 750 && g <= 1000, `gap ${g} ms while Down`);
    assert.ok(
      w.a.sent.every((x) => x.p.desiredMinTxUs === 1_000_000),
      "advertises 1 s while not Up",
    );
    w.b.link.up = true;
    await w.untilUp();
    await w.clock.advance(200); // the Poll Sequence that lowers the interval completes
    const t0 = w.clock.now();
    await w.clock.advance(5000);
    const fast = gaps(w.a.sent, t0, t0 + 5000);
    assert.ok(fast.length >= 49);
    for (const g of fast) assert.ok(g >= 75 && g <= 100, `gap ${g} ms while Up`);
    assert.equal(w.a.sent.at(-1)!.p.desiredMinTxUs, 100_000);
  });

  it("jitters to 75–90 % when the detect multiplier is 1", async () => {
    const w = new Pair({ a: { multiplier: 1 }, b: { multiplier: 1 } });
    await w.untilUp();
    await w.clock.advance(200);
    const t0 = w.clock.now();
    await w.clock.advance(5000);
    for (const g of gaps(w.a.sent, t0, t0 + 5000)) assert.ok(g >= 75 && g <= 90, `gap ${g} ms`);
    assert.equal(w.a.session.snapshot().state, "Up");
  });

  it("declares a silent peer Down after its detect mult × the agreed interval (TimeExpired)", async () => {
    const w = new Pair({ a: { multiplier: 5 }, bRole: "active" });
    await w.untilUp();
    await w.clock.advance(1000);
    assert.equal(w.b.session.snapshot().detectionTimeMs, 500, "A's multiplier 5 × 100 ms");
    assert.equal(w.a.session.snapshot().detectionTimeMs, 300, "B's multiplier 3 × 100 ms");
    w.a.link.up = false;
    const lastRx = w.b.session.snapshot().lastRxAt!;
    await w.clock.advance(lastRx + 499 - w.clock.now());
    assert.equal(w.b.session.snapshot().state, "Up");
    await w.clock.advance(1);
    const b = w.b.session.snapshot();
    assert.equal(b.state, "Down");
    assert.equal(b.localDiag, BfdDiag.TimeExpired);
    assert.equal(b.remoteState, undefined, "what the peer said is forgotten");
    assert.equal(b.since, lastRx + 500);
    // B (active) tells A, which goes Down because its neighbour did. A passive B would fall
    // silent instead (it no longer knows A's discriminator) and A would time out by itself.
    await w.clock.advance(10);
    const a = w.a.session.snapshot();
    assert.equal(a.state, "Down");
    assert.equal(a.localDiag, BfdDiag.NeighborDown);
    assert.equal(a.remoteDiag, BfdDiag.TimeExpired);
    // The path heals: a new handshake.
    w.a.link.up = true;
    await w.untilUp();
  });

  it("an AdminDown peer is seen with its diag; the session comes back when it ends", async () => {
    const w = new Pair();
    await w.untilUp();
    w.b.session.setAdminDown(BfdDiag.AdminDown);
    await w.clock.advance(5);
    let a = w.a.session.snapshot();
    assert.equal(a.state, "Down");
    assert.equal(a.localDiag, BfdDiag.NeighborDown);
    assert.equal(a.remoteState, "AdminDown");
    assert.equal(a.remoteDiag, BfdDiag.AdminDown);
    // Still seen long after: the AdminDown side keeps telling (slowly), so the peer does not time out.
    await w.clock.advance(30_000);
    a = w.a.session.snapshot();
    assert.equal(a.remoteState, "AdminDown");
    assert.equal(a.state, "Down", "never Up while the peer is AdminDown");
    assert.equal(w.b.session.snapshot().state, "AdminDown");
    // A different reason is a change the peer sees too.
    w.b.session.setAdminDown(BfdDiag.ConcatenatedPathDown);
    await w.clock.advance(5);
    assert.equal(w.a.session.snapshot().remoteDiag, BfdDiag.ConcatenatedPathDown);
    w.b.session.setAdminDown(undefined);
    await w.untilUp();
  });

  it("AdminDown on the active side: packets from the peer do not bring it up", async () => {
    const w = new Pair();
    await w.untilUp();
    w.a.session.setAdminDown(BfdDiag.AdminDown);
    await w.clock.advance(10_000);
    assert.equal(w.a.session.snapshot().state, "AdminDown");
    assert.equal(w.a.session.snapshot().localDiag, BfdDiag.AdminDown);
    assert.equal(w.b.session.snapshot().state, "Down");
    assert.equal(w.b.session.snapshot().remoteState, "AdminDown");
  });

  it("lowers the interval after Up with a Poll Sequence the peer answers with Final", async () => {
    const w = new Pair();
    await w.untilUp();
    const upAt = w.a.changes.at(-1)!.since;
    const afterUp = w.a.sent.filter((x) => x.at >= upAt);
    assert.equal(afterUp[0]!.p.poll, true, "the first packet in Up polls the new interval");
    assert.equal(afterUp[0]!.p.desiredMinTxUs, 100_000);
    assert.ok(
      w.b.sent.some((x) => x.p.final && x.at > upAt),
      "the peer answers with Final",
    );
    await w.clock.advance(1000);
    assert.ok(
      w.a.sent.slice(-5).every((x) => !x.p.poll),
      "the Poll ends once answered",
    );
  });

  it("a larger interval takes effect only once the peer has answered the Poll", async () => {
    const w = new Pair();
    await w.untilUp();
    await w.clock.advance(1000);
    // Hold B's answers back, so A's Poll runs for a while.
    w.b.link.up = false;
    const t0 = w.clock.now();
    w.a.session.setTimers({ intervalMs: 300, multiplier: 3 });
    await w.clock.advance(250);
    const polls = w.a.sent.filter((x) => x.at >= t0);
    assert.ok(polls.length >= 3 && polls.every((x) => x.p.poll && x.p.desiredMinTxUs === 300_000));
    for (const g of gaps(w.a.sent, t0, w.clock.now()))
      assert.ok(g <= 100, `still sends every ≤100 ms (${g})`);
    assert.equal(
      w.a.session.snapshot().detectionTimeMs,
      900,
      "detecting the peer more slowly is safe at once",
    );
    w.b.link.up = true;
    await w.clock.advance(200);
    assert.ok(w.b.sent.some((x) => x.p.final && x.at >= t0));
    assert.equal(w.b.session.snapshot().detectionTimeMs, 900, "B detects A by A's new interval");
    const t1 = w.clock.now();
    await w.clock.advance(3000);
    const slow = gaps(w.a.sent, t1, t1 + 3000);
    for (const g of slow) assert.ok(g >= 225 && g <= 300, `gap ${g} ms after the Final`);
    assert.ok(w.a.sent.slice(-3).every((x) => !x.p.poll));
    assert.equal(w.a.session.snapshot().state, "Up");
    assert.equal(w.b.session.snapshot().state, "Up");
  });

  it("a smaller receive interval shortens detection only once the peer has answered the Poll", async () => {
    const w = new Pair({ a: { intervalMs: 300 }, b: { intervalMs: 300 } });
    await w.untilUp();
    await w.clock.advance(2000);
    assert.equal(w.a.session.snapshot().detectionTimeMs, 900);
    w.b.link.up = false;
    w.a.session.setTimers({ intervalMs: 100, multiplier: 3 });
    await w.clock.advance(50);
    assert.equal(w.a.session.snapshot().detectionTimeMs, 900, "the peer still sends every 300 ms");
    w.b.link.up = true;
    await w.clock.advance(400);
    // B now sends at max(B's 300 ms, A's 100 ms) = 300 ms: A's detection follows B's tx.
    assert.equal(w.a.session.snapshot().detectionTimeMs, 900);
    w.b.session.setTimers({ intervalMs: 100, multiplier: 3 });
    await w.clock.advance(400);
    assert.equal(w.a.session.snapshot().detectionTimeMs, 300);
    assert.equal(w.b.session.snapshot().detectionTimeMs, 300);
  });

  it("a change of timers during a running Poll is polled again after the Final", async () => {
    const w = new Pair();
    await w.untilUp();
    await w.clock.advance(1000);
    w.b.link.up = false;
    w.a.session.setTimers({ intervalMs: 200, multiplier: 3 });
    await w.clock.advance(50);
    w.a.session.setTimers({ intervalMs: 400, multiplier: 3 });
    await w.clock.advance(50);
    w.b.link.up = true;
    await w.clock.advance(2000);
    assert.equal(w.b.session.snapshot().detectionTimeMs, 1200);
    const t1 = w.clock.now();
    await w.clock.advance(4000);
    for (const g of gaps(w.a.sent, t1, t1 + 4000)) assert.ok(g >= 300 && g <= 400, `gap ${g} ms`);
    assert.ok(w.a.sent.slice(-3).every((x) => !x.p.poll));
  });

  it("holds the discriminators: its own for life, the peer's until the peer is silent for the detection time", async () => {
    const w = new Pair();
    await w.untilUp();
    w.b.link.up = false;
    await w.clock.advance(200);
    assert.equal(w.a.sent.at(-1)!.p.yourDiscriminator, 2222, "still addressed to the peer before detection");
    await w.clock.advance(1500);
    assert.equal(w.a.session.snapshot().state, "Down");
    assert.equal(w.a.session.snapshot().remoteDiscriminator, 0);
    assert.equal(w.a.sent.at(-1)!.p.yourDiscriminator, 0, "forgotten after the detection time");
    w.b.link.up = true;
    await w.untilUp();
    assert.ok(w.a.sent.every((x) => x.p.myDiscriminator === 1111));
  });

  it("a restarted peer (new discriminator) takes the session Down and Up again", async () => {
    const w = new Pair();
    await w.untilUp();
    await w.clock.advance(500);
    w.restartB(3333);
    // The new B ignores packets for the old discriminator and, passive, stays silent: A times out,
    // forgets 2222, and its Your Discriminator 0 packets start a new handshake.
    await w.clock.advance(400);
    assert.ok(w.a.changes.some((c) => c.state === "Down" && c.localDiag === BfdDiag.TimeExpired));
    await w.untilUp();
    assert.equal(w.a.session.snapshot().remoteDiscriminator, 3333);
  });

  it("a restarted active peer announces Down with Your Discriminator 0, which ends the old session at once", async () => {
    const w = new Pair({ bRole: "active" });
    await w.untilUp();
    await w.clock.advance(500);
    w.b.session.stop();
    w.b = w.side(4444, { intervalMs: 100, multiplier: 3 }, "active", () => w.a, 4);
    await w.clock.advance(2);
    assert.equal(w.a.session.snapshot().state, "Down", "no detection time to wait for");
    assert.equal(w.a.session.snapshot().localDiag, BfdDiag.NeighborDown);
    await w.untilUp();
    assert.equal(w.a.session.snapshot().remoteDiscriminator, 4444);
  });

  it("rides out a lost packet with detect mult 3", async () => {
    const w = new Pair();
    await w.untilUp();
    await w.clock.advance(1000);
    let dropped = 0;
    w.a.link.drop = () => dropped++ === 0;
    await w.clock.advance(5000);
    assert.equal(dropped > 1, true);
    assert.deepEqual(states(w.b), ["Init", "Up"], "never left Up");
  });

  it("random cuts, restarts, AdminDown and timer changes: Up exactly while the peer is heard, and Up again once all heals", async () => {
    for (let seed = 1; seed <= 25; seed++) {
      const rnd = seededRandom(seed);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
      const w = new Pair();
      let discr = 5000;
      const admin: { a: number | undefined; b: number | undefined } = { a: undefined, b: undefined };
      const timers = (): BfdTimers => ({ intervalMs: pick([50, 100, 300]), multiplier: pick([1, 3, 5]) });
      for (let step = 0; step < 30; step++) {
        const what = pick([
          "cutA",
          "cutB",
          "healA",
          "healB",
          "adminA",
          "adminB",
          "timersA",
          "timersB",
          "restartB",
        ]);
        if (what === "cutA") w.a.link.up = false;
        else if (what === "cutB") w.b.link.up = false;
        else if (what === "healA") w.a.link.up = true;
        else if (what === "healB") w.b.link.up = true;
        else if (what === "adminA") w.a.session.setAdminDown((admin.a = pick([undefined, 6, 7])));
        else if (what === "adminB") w.b.session.setAdminDown((admin.b = pick([undefined, 6, 7])));
        else if (what === "timersA") w.a.session.setTimers(timers());
        else if (what === "timersB") w.b.session.setTimers(timers());
        else {
          const link = w.b.link.up;
          w.restartB(++discr, pick(["active", "passive"] as const));
          w.b.link.up = link;
          admin.b = undefined;
        }
        await w.clock.advance(Math.floor(rnd() * 3000));
        for (const side of [w.a, w.b]) {
          const s = side.session.snapshot();
          if (s.state !== "Up") continue;
          const ctx = `seed ${seed} step ${step} (${what})`;
          assert.ok(s.detectionTimeMs !== undefined && s.lastRxAt !== undefined, ctx);
          assert.ok(w.clock.now() - s.lastRxAt <= s.detectionTimeMs, `${ctx}: Up but not heard for too long`);
          assert.equal(
            s.remoteState === "Up" || s.remoteState === "Init",
            true,
            `${ctx}: Up with a peer in ${s.remoteState}`,
          );
        }
      }
      w.a.link.up = w.b.link.up = true;
      w.a.session.setAdminDown(undefined);
      w.b.session.setAdminDown(undefined);
      await w.clock.advance(10_000);
      const a = w.a.session.snapshot();
      const b = w.b.session.snapshot();
      assert.equal(`${a.state}/${b.state}`, "Up/Up", `seed ${seed}`);
      assert.equal(a.remoteDiscriminator, b.localDiscriminator, `seed ${seed}`);
      assert.equal(b.remoteDiscriminator, a.localDiscriminator, `seed ${seed}`);
      w.a.session.stop();
      w.b.session.stop();
      await w.clock.advance(10);
      assert.equal(w.clock.pending, 0, `seed ${seed}: stopped sessions leave no timers`);
    }
  });

  it("stops sending periodically when the peer asks for Required Min RX 0", async () => {
    const clock = new FakeClock();
    const sent: BfdControl[] = [];
    const s = new BfdSession({
      localDiscriminator: 9,
      timers: { intervalMs: 100, multiplier: 3 },
      role: "active",
      clock,
      random: () => 0.5,
      send: (p) => sent.push(p),
      onChange: () => undefined,
    });
    await clock.advance(1);
    s.receive({ ...sent[0]!, myDiscriminator: 7, yourDiscriminator: 9, requiredMinRxUs: 0, state: "Down" });
    const n = sent.length;
    await clock.advance(2000);
    assert.equal(sent.length, n, "no periodic packets");
    s.stop();
    assert.equal(clock.pending, 0, "stop leaves no timer");
  });

  it("rejects unusable timers", () => {
    const o = {
      localDiscriminator: 1,
      role: "active" as const,
      clock: new FakeClock(),
      random: () => 0,
      send: () => undefined,
      onChange: () => undefined,
    };
    assert.throws(() => new BfdSession({ ...o, timers: { intervalMs: 0, multiplier: 3 } }), /intervalMs 0/);
    assert.throws(
      () => new BfdSession({ ...o, timers: { intervalMs: 100, multiplier: 256 } }),
      /multiplier 256/,
    );
  });
});
