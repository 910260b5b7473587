import { describe, expect, test } from "bun:test";
import { Metrics } from "../../src/metrics.ts";

describe("metrics in the Prometheus text format", () => {
  test("counters, histograms and gauges, with gauges read at scrape time", async () => {
    const m = new Metrics();
    m.countRequest("SendMessage", "ok");
    m.countRequest("SendMessage", "ok");
    m.countRequest("made/up", "error");
    m.commits.observe(3);
    m.turnsRunning.inc();
    m.turnDuration.observe({ profile: "echo", state: "completed" }, 0.02);
    let depth = 1;
    m.collect({
      tasksByState: () => [{ state: "TASK_STATE_COMPLETED", n: 4 }],
      queueDepth: () => depth,
      subscribers: () => 0,
      walBytes: () => 41_943_040,
    });
    const text = await m.registry.metrics();
    expect(m.registry.contentType).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(text).toContain(
      '# HELP a2a_relay_requests_total A2A requests by method and outcome\n# TYPE a2a_relay_requests_total counter\na2a_relay_requests_total{method="SendMessage",outcome="ok"} 2\na2a_relay_requests_total{method="other",outcome="error"} 1\n\n',
    );
    expect(text).toContain(
      'a2a_relay_store_commit_ops_bucket{le="2"} 0\na2a_relay_store_commit_ops_bucket{le="4"} 1\n',
    );
    expect(text).toContain(
      'a2a_relay_store_commit_ops_bucket{le="+Inf"} 1\na2a_relay_store_commit_ops_sum 3\na2a_relay_store_commit_ops_count 1\n',
    );
    expect(text).toContain(
      'a2a_relay_turn_duration_seconds_bucket{le="0.05",profile="echo",state="completed"} 1\n',
    );
    expect(text).toContain("a2a_relay_turns_running 1\n");
    expect(text).toContain('a2a_relay_tasks{state="TASK_STATE_COMPLETED"} 4\n');
    expect(text).toContain("a2a_relay_queue_depth 1\n");
    depth = 0;
    expect(await m.registry.metrics()).toContain("a2a_relay_queue_depth 0\n");
    expect(text).toContain("a2a_relay_subscribers 0\n");
    expect(text.endsWith("a2a_relay_wal_bytes 41943040\n")).toBe(true);
  });

  test("label values are escaped", async () => {
    const m = new Metrics();
    m.turnDuration.observe({ profile: 'a"b\\c\nd', state: "failed" }, 1);
    expect(await m.registry.metrics()).toContain('profile="a\\"b\\\\c\\nd",state="failed"} 1');
  });
});
