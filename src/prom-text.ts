/**
 * The Prometheus text exposition format (0.0.4), just what the relay's metrics use: counters,
 * gauges (optionally recomputed at each scrape) and histograms, with labels, in a registry that
 * renders them in registration order.
 */

export type Labels = Record<string, string>;

export interface Metric {
  readonly name: string;
  /** `# HELP`, `# TYPE` and one line per series, without a trailing newline. */
  render(): string;
}

/** The metrics of one process, rendered in registration order. */
export class Registry {
  readonly contentType = "text/plain; version=0.0.4; charset=utf-8";
  readonly #metrics = new Map<string, Metric>();

  add<M extends Metric>(metric: M): M {
    if (this.#metrics.has(metric.name))
      throw new Error(`A metric with the name ${metric.name} has already been registered.`);
    this.#metrics.set(metric.name, metric);
    return metric;
  }

  async metrics(): Promise<string> {
    return `${[...this.#metrics.values()].map((m) => m.render()).join("\n\n")}\n`;
  }
}

/** A monotonically increasing count per label set. */
export class Counter implements Metric {
  readonly #values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  inc(labels: Labels = {}, by = 1): void {
    const key = labelText(labels);
    this.#values.set(key, (this.#values.get(key) ?? 0) + by);
  }

  render(): string {
    return header(
      this,
      "counter",
      [...this.#values].map(([key, v]) => line(this.name, key, v)),
    );
  }
}

/** A value per label set; with `collect`, recomputed from scratch at each scrape. */
export class Gauge implements Metric {
  readonly #values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
    initial?: number,
    private readonly collectFn?: (g: Gauge) => void,
  ) {
    if (initial !== undefined) this.#values.set("", initial);
  }

  set(labels: Labels, value: number): void {
    this.#values.set(labelText(labels), value);
  }

  inc(by = 1): void {
    this.#values.set("", (this.#values.get("") ?? 0) + by);
  }

  dec(by = 1): void {
    this.inc(-by);
  }

  render(): string {
    if (this.collectFn) {
      this.#values.clear();
      this.collectFn(this);
    }
    return header(
      this,
      "gauge",
      [...this.#values].map(([key, v]) => line(this.name, key, v)),
    );
  }
}

/** Observations counted into cumulative buckets, with their sum and count, per label set. */
export class Histogram implements Metric {
  readonly #series = new Map<string, { counts: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: number[],
    /** Show the unlabelled series (all zero) before the first observation. */
    unlabelled = false,
  ) {
    if (unlabelled) this.#seriesOf("");
  }

  observe(labelsOrValue: Labels | number, value?: number): void {
    const [key, v] =
      typeof labelsOrValue === "number" ? ["", labelsOrValue] : [labelText(labelsOrValue), value ?? 0];
    const s = this.#seriesOf(key);
    const i = this.buckets.findIndex((b) => v <= b);
    if (i >= 0) s.counts[i]! += 1;
    s.sum += v;
    s.count += 1;
  }

  render(): string {
    const lines: string[] = [];
    for (const [key, s] of this.#series) {
      const withLe = (le: string) => (key ? `le="${le}",${key}` : `le="${le}"`);
      let acc = 0;
      this.buckets.forEach((b, i) => {
        acc += s.counts[i]!;
        lines.push(line(`${this.name}_bucket`, withLe(String(b)), acc));
      });
      lines.push(line(`${this.name}_bucket`, withLe("+Inf"), s.count));
      lines.push(line(`${this.name}_sum`, key, s.sum));
      lines.push(line(`${this.name}_count`, key, s.count));
    }
    return header(this, "histogram", lines);
  }

  // internal

  #seriesOf(key: string) {
    let s = this.#series.get(key);
    if (!s) {
      s = { counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.#series.set(key, s);
    }
    return s;
  }
}

// internal

function header(m: { name: string; help: string }, type: string, lines: string[]): string {
  return [`# HELP ${m.name} ${escapeText(m.help)}`, `# TYPE ${m.name} ${type}`, ...lines].join("\n");
}

function line(name: string, labels: string, value: number): string {
  return `${name}${labels ? `{${labels}}` : ""} ${valueText(value)}`;
}

/** `a="x",b="y"` in the order given; label values escaped as the format requires. */
function labelText(labels: Labels): string {
  let out = "";
  for (const k in labels) {
    out += `${out ? "," : ""}${k}="${escapeText(labels[k]!).replace(/"/g, '\\"')}"`;
  }
  return out;
}

function escapeText(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function valueText(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v < 0 ? "-Inf" : "+Inf";
  return String(v);
}
