// Fuzz: mutated resources never make validateResource throw, every rejection names a field path,
// and every acceptance is stable (re-validating the result gives the same object).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EXAMPLES } from "./examples.js";
import { validateResource } from "./validate.js";
import { seededRandom } from "../util/random.js";

type Json = unknown;
type Container = Record<string, Json> | Json[];

function fuzzer(rand: () => number) {
  const int = (n: number): number => Math.floor(rand() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const chars = "abcXYZ019-_./:*{}()'\"=!&| \u00e9\u0000\n";
  const randomString = (): string => Array.from({ length: int(12) }, () => chars[int(chars.length)]).join("");
  const randomCidr = (): string =>
    rand() < 0.5
      ? `${int(300)}.${int(256)}.${int(256)}.${int(256)}${rand() < 0.8 ? `/${int(35)}` : ""}`
      : `${int(0x10000).toString(16)}:${rand() < 0.5 ? ":" : "db8::"}${int(16).toString(16)}/${int(132)}`;
  const words = [
    "all()",
    "!all()",
    "a == 'b'",
    "has(x)",
    "a in {'x','y'}",
    "a ==",
    "((",
    "global()",
    "TCP",
    "UDP",
    "ICMP",
    "Allow",
    "Deny",
    "Workload",
    "EgressGateway",
    "None",
    "PreferNodeLocal",
    "PreferSameZone",
    "80:90",
    "90:80",
    "egw.dev/v1",
    "v1",
    "IPPool",
    "Pod",
    "default",
    "*.example.com",
    "",
    "10.0.0.0/8",
    "::/0",
    "http://x/",
    "64512:100",
    "1:2:3",
    "65536:1",
    "172.30.0.1",
    "paloalto",
    "Established",
  ];
  const numbers = [
    0,
    -1,
    1,
    4,
    6,
    26,
    32,
    128,
    255,
    65535,
    65536,
    2 ** 31,
    2 ** 32 - 1,
    2 ** 32,
    2 ** 53 + 1,
    1e308,
    -1e308,
    0.5,
    NaN,
    Infinity,
    -0,
  ];
  const leaf = (): Json => {
    switch (int(9)) {
      case 0:
        return null;
      case 1:
        return rand() < 0.5;
      case 2:
        return pick(numbers);
      case 3:
        return int(100000) - 50000;
      case 4:
        return randomString();
      case 5:
        return randomCidr();
      case 6:
        return pick(words);
      case 7:
        return [];
      default:
        return {};
    }
  };
  const randomValue = (depth = 0): Json => {
    if (depth > 2 || rand() < 0.6) return leaf();
    if (rand() < 0.5) return Array.from({ length: int(4) }, () => randomValue(depth + 1));
    return Object.fromEntries(
      Array.from({ length: int(4) }, () => [pick([...words, randomString()]), randomValue(depth + 1)]),
    );
  };

  /** Every container in `root` with the keys/indices it holds. */
  const slots = (root: Json): { parent: Container; key: string | number }[] => {
    const out: { parent: Container; key: string | number }[] = [];
    const visit = (v: Json): void => {
      const entries: [string | number, Json][] = Array.isArray(v)
        ? v.map((x, i) => [i, x])
        : v && typeof v === "object"
          ? Object.entries(v)
          : [];
      for (const [key, x] of entries) {
        out.push({ parent: v as Container, key });
        visit(x);
      }
    };
    visit(root);
    return out;
  };

  const mutate = (root: Record<string, Json>): void => {
    const all = slots(root);
    if (all.length === 0) return;
    const { parent, key } = pick(all);
    const p = parent as Record<string | number, Json>;
    switch (int(6)) {
      case 0:
        if (Array.isArray(parent) && typeof key === "number") parent.splice(key, 1);
        else delete p[key];
        break;
      case 1:
        p[key] = leaf();
        break;
      case 2:
        p[key] = randomValue();
        break;
      case 3:
        if (typeof p[key] === "string") p[key] = rand() < 0.5 ? randomCidr() : randomString();
        else p[key] = pick(words);
        break;
      case 4:
        if (!Array.isArray(parent)) p[pick([...words, randomString()])] = randomValue();
        else parent.push(randomValue());
        break;
      default:
        if (typeof p[key] === "number") p[key] = pick(numbers);
        else p[key] = int(70000);
    }
  };
  return { mutate, int };
}

const ITERATIONS = 12_000;

describe("fuzz validateResource", () => {
  it(`survives ${ITERATIONS} mutated resources`, (t) => {
    const rand = seededRandom(20240601);
    const { mutate, int } = fuzzer(rand);
    const kinds = Object.keys(EXAMPLES);
    let accepted = 0;
    let rejected = 0;
    for (let n = 0; n < ITERATIONS; n++) {
      const kind = kinds[n % kinds.length]!;
      const obj = structuredClone(EXAMPLES[kind]) as unknown as Record<string, unknown>;
      const mutations = 1 + int(4);
      for (let m = 0; m < mutations; m++) mutate(obj);
      const snapshot = structuredClone(obj);
      let r: ReturnType<typeof validateResource>;
      try {
        r = validateResource(obj);
      } catch (e) {
        assert.fail(`iteration ${n} threw ${String(e)} for ${JSON.stringify(obj)}`);
      }
      assert.deepEqual(obj, snapshot, `iteration ${n}: input was modified`);
      if (r.ok) {
        accepted++;
        const again = validateResource(r.value);
        assert.ok(again.ok, `iteration ${n}: accepted object fails re-validation: ${JSON.stringify(again)}`);
        assert.deepEqual(again.value, r.value, `iteration ${n}: defaults are not stable`);
      } else {
        rejected++;
        assert.ok(r.error.length > 0, `iteration ${n}: rejection without issues`);
        for (const issue of r.error) {
          assert.ok(issue.path.length > 0, `iteration ${n}: issue without a path: ${JSON.stringify(issue)}`);
          assert.ok(
            issue.message.length > 0,
            `iteration ${n}: issue without a message: ${JSON.stringify(issue)}`,
          );
          assert.equal(typeof issue.kind, "string");
        }
      }
    }
    t.diagnostic(`fuzz: ${accepted} accepted, ${rejected} rejected`);
    // The mutations must exercise both outcomes, or the fuzzer tests nothing.
    assert.ok(accepted > ITERATIONS / 50, `only ${accepted} accepted`);
    assert.ok(rejected > ITERATIONS / 2, `only ${rejected} rejected`);
  });
});
