// A few Prometheus counters and gauges, rendered in the text exposition format by hand (enough
// for the daemons' handful of series; no client library needed).
export type Labels = Readonly<Record<string, string>>;

interface Family {
  type: "counter" | "gauge";
  help: string;
  series: Map<string, { labels: Labels; value: number }>;
}

const labelKey = (labels: Labels): string =>
  Object.keys(labels)
    .sort()
    .map((k) => `${k}="${escapeLabel(labels[k] ?? "")}"`)
    .join(",");

const escapeLabel = (v: string): string =>
  v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');

export class Metrics {
  private readonly families = new Map<string, Family>();

  counter(name: string, help: string): this {
    this.families.set(name, { type: "counter", help, series: new Map() });
    return this;
  }

  gauge(name: string, help: string): this {
    this.families.set(name, { type: "gauge", help, series: new Map() });
    return this;
  }

  inc(name: string, labels: Labels = {}, by = 1): void {
    const f = this.family(name);
    const key = labelKey(labels);
    const s = f.series.get(key);
    if (s === undefined) f.series.set(key, { labels, value: by });
    else s.value += by;
  }

  set(name: string, value: number, labels: Labels = {}): void {
    this.family(name).series.set(labelKey(labels), { labels, value });
  }

  get(name: string, labels: Labels = {}): number | undefined {
    return this.families.get(name)?.series.get(labelKey(labels))?.value;
  }

  render(): string {
    const out: string[] = [];
    for (const [name, f] of this.families) {
      out.push(`# HELP ${name} ${f.help}`, `# TYPE ${name} ${f.type}`);
      for (const [key, s] of f.series)
        out.push(`${name}${key === "" ? "" : `{${key}}`} ${formatValue(s.value)}`);
    }
    return out.join("\n") + "\n";
  }

  private family(name: string): Family {
    const f = this.families.get(name);
    if (f === undefined) throw new Error(`metric ${name} is not registered`);
    return f;
  }
}

const formatValue = (v: number): string =>
  Number.isFinite(v) ? String(v) : v > 0 ? "+Inf" : v < 0 ? "-Inf" : "NaN";
