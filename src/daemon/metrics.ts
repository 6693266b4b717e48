// A few Prometheus counters, gauges and histograms, rendered in the text exposition format by
// hand (enough for the daemons' handful of series; no client library needed).
export type Labels = Readonly<Record<string, string>>;

interface Family {
  type: "counter" | "gauge";
  help: string;
  series: Map<string, { labels: Labels; value: number }>;
}

interface HistogramFamily {
  help: string;
  /** Upper bounds, ascending (+Inf is implied). */
  buckets: readonly number[];
  series: Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>;
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
  private readonly histograms = new Map<string, HistogramFamily>();

  counter(name: string, help: string): this {
    this.families.set(name, { type: "counter", help, series: new Map() });
    return this;
  }

  gauge(name: string, help: string): this {
    this.families.set(name, { type: "gauge", help, series: new Map() });
    return this;
  }

  /** A histogram with these bucket upper bounds (+Inf is added). */
  histogram(name: string, help: string, buckets: readonly number[]): this {
    this.histograms.set(name, { help, buckets: [...buckets].sort((a, b) => a - b), series: new Map() });
    return this;
  }

  observe(name: string, value: number, labels: Labels = {}): void {
    const h = this.histograms.get(name);
    if (h === undefined) throw new Error(`histogram ${name} is not registered`);
    const key = labelKey(labels);
    let s = h.series.get(key);
    if (s === undefined)
      h.series.set(key, (s = { labels, counts: h.buckets.map(() => 0), sum: 0, count: 0 }));
    h.buckets.forEach((le, i) => {
      if (value <= le) s.counts[i] = (s.counts[i] ?? 0) + 1;
    });
    s.sum += value;
    s.count++;
  }

  /** Observations of a histogram series so far (tests, diagnostics). */
  observations(name: string, labels: Labels = {}): number {
    return this.histograms.get(name)?.series.get(labelKey(labels))?.count ?? 0;
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

  /** Drops one series (a thing that no longer exists, so no stale value stays exported). */
  remove(name: string, labels: Labels = {}): void {
    this.family(name).series.delete(labelKey(labels));
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
    for (const [name, h] of this.histograms) {
      out.push(`# HELP ${name} ${h.help}`, `# TYPE ${name} histogram`);
      for (const [key, s] of h.series) {
        const withLe = (le: string): string => `{${key === "" ? "" : `${key},`}le="${le}"}`;
        h.buckets.forEach((le, i) =>
          out.push(`${name}_bucket${withLe(formatValue(le))} ${s.counts[i] ?? 0}`),
        );
        out.push(`${name}_bucket${withLe("+Inf")} ${s.count}`);
        const plain = key === "" ? "" : `{${key}}`;
        out.push(`${name}_sum${plain} ${formatValue(s.sum)}`, `${name}_count${plain} ${s.count}`);
      }
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
