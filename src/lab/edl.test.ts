import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatEdlProblems, parseEdl, rangeToCidrs, sortCidrs } from "./edl.js";

describe("PAN-OS EDL text", () => {
  it("reads addresses, CIDRs and ranges with comments, sorted and without duplicates", () => {
    const body = [
      "# egw feed gateway/payments/pay: 3 entries",
      "10.10.1.2/32",
      "10.10.1.1 first replica",
      "",
      "  192.0.2.0/24\t# a partner",
      "10.10.1.2",
      "10.10.2.1-10.10.2.6",
    ].join("\r\n");
    const p = parseEdl(body);
    assert.deepEqual(p.problems, []);
    assert.deepEqual(p.entries, [
      "10.10.1.1/32",
      "10.10.1.2/32",
      "10.10.2.1/32",
      "10.10.2.2/31",
      "10.10.2.4/31",
      "10.10.2.6/32",
      "192.0.2.0/24",
    ]);
  });

  it("reports bad lines with their number and keeps the good ones", () => {
    const p = parseEdl(
      [
        "10.0.0.1",
        "not-an-ip",
        "10.0.0.5/24",
        "fd00::1",
        "10.0.0.9-10.0.0.3",
        "10.0.0.2",
        "10.0.0.1-nope",
      ].join("\n"),
    );
    assert.deepEqual(p.entries, ["10.0.0.1/32", "10.0.0.2/32"]);
    assert.deepEqual(
      p.problems.map((x) => [x.line, x.text]),
      [
        [2, "not-an-ip"],
        [3, "10.0.0.5/24"],
        [4, "fd00::1"],
        [5, "10.0.0.9-10.0.0.3"],
        [7, "10.0.0.1-nope"],
      ],
    );
    assert.match(p.problems[1]?.reason ?? "", /host bits set: use "10\.0\.0\.0\/24"/);
    assert.match(p.problems[2]?.reason ?? "", /IPv4 only/);
    assert.match(p.problems[3]?.reason ?? "", /ends before it starts/);
    assert.deepEqual(formatEdlProblems(p.problems, 2), [
      `line 2 "not-an-ip": not an IP address, CIDR or range (e.g. 10.0.0.1, 10.0.0.0/24, 10.0.0.1-10.0.0.9)`,
      `line 3 "10.0.0.5/24": has host bits set: use "10.0.0.0/24"`,
      "… and 3 more",
    ]);
  });

  it("an empty or comment-only body is an empty list, not an error", () => {
    assert.deepEqual(parseEdl(""), { entries: [], problems: [] });
    assert.deepEqual(parseEdl("# empty: no gateway replica matches\n"), { entries: [], problems: [] });
  });

  it("skips entries over the capacity and says so", () => {
    const p = parseEdl("10.0.0.1\n10.0.0.2\n10.0.0.1\n10.0.0.3\n", 2);
    assert.deepEqual(p.entries, ["10.0.0.1/32", "10.0.0.2/32"]);
    assert.equal(p.problems.length, 1);
    assert.match(p.problems[0]?.reason ?? "", /capacity of 2 entries/);
  });

  it("splits ranges into the fewest CIDRs", () => {
    assert.deepEqual(rangeToCidrs(0n, 0xffffffffn), ["0.0.0.0/0"]);
    assert.deepEqual(rangeToCidrs(10n, 10n), ["0.0.0.10/32"]);
    const first = (10n << 24n) + 255n; // 10.0.0.255
    assert.deepEqual(rangeToCidrs(first, first + 258n), ["10.0.0.255/32", "10.0.1.0/24", "10.0.2.0/31"]);
  });

  it("sorts CIDRs numerically, not as text", () => {
    assert.deepEqual(sortCidrs(["10.0.0.10/32", "9.0.0.0/8", "10.0.0.2/32", "10.0.0.0/24"]), [
      "9.0.0.0/8",
      "10.0.0.0/24",
      "10.0.0.2/32",
      "10.0.0.10/32",
    ]);
  });
});
