//! Process measurements for the load scenarios: CPU seconds and RSS from /proc, and
//! quantiles from the Prometheus histogram or from an exact sample.

use std::collections::BTreeMap;

/// User + system CPU seconds of this process so far, with nanosecond resolution
/// (`CLOCK_PROCESS_CPUTIME_ID`; `/proc` counts 10 ms ticks, too coarse for a paced phase
/// of a few hundred milliseconds of CPU).
pub fn precise_cpu_seconds() -> f64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    t.tv_sec as f64 + t.tv_nsec as f64 / 1e9
}

/// User + system CPU seconds of process `pid` so far (0 once it is gone).
pub fn pid_cpu_seconds(pid: u32) -> f64 {
    stat_cpu(&format!("/proc/{pid}/stat"))
}

fn stat_cpu(path: &str) -> f64 {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = text.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // f[0] is field 3 (state), so field n is f[n - 3]. Linux reports in USER_HZ = 100.
    (ticks(11) + ticks(12)) / 100.0
}

/// Resident set size of this process in MiB (VmRSS).
pub fn rss_mib() -> f64 {
    status_mib("VmRSS:")
}

/// Peak resident set size of this process so far in MiB (VmHWM).
pub fn hwm_mib() -> f64 {
    status_mib("VmHWM:")
}

/// Anonymous (heap, stacks) and file-backed (the binary's pages) parts of the RSS, in MiB.
pub fn rss_split_mib() -> (f64, f64) {
    (status_mib("RssAnon:"), status_mib("RssFile:"))
}

/// Threads of this process.
pub fn threads() -> f64 {
    status_mib("Threads:") * 1024.0
}

fn status_mib(field: &str) -> f64 {
    let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Cumulative bucket counts (`le` → count) of a Prometheus histogram, summed over labels.
pub fn histogram(metric: &str) -> BTreeMap<String, f64> {
    let text = wfm_reactor::telemetry::prometheus::handle().render();
    let prefix = format!("{metric}_bucket{{");
    let mut out = BTreeMap::new();
    for line in text.lines().filter(|l| l.starts_with(&prefix)) {
        let Some((labels, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let Some(le) = labels.split("le=\"").nth(1).and_then(|s| s.split('"').next()) else {
            continue;
        };
        *out.entry(le.to_string()).or_insert(0.0) += value.parse::<f64>().unwrap_or(0.0);
    }
    out
}

/// The `q` quantile (0..1) of the observations between two histogram snapshots, linearly
/// interpolated inside its bucket (so it is an estimate bounded by the bucket edges).
pub fn quantile(before: &BTreeMap<String, f64>, after: &BTreeMap<String, f64>, q: f64) -> Option<f64> {
    let mut buckets: Vec<(f64, f64)> = after
        .iter()
        .map(|(le, n)| {
            let bound = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().unwrap_or(f64::INFINITY)
            };
            (bound, n - before.get(le).copied().unwrap_or(0.0))
        })
        .collect();
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total = buckets.last()?.1;
    if total <= 0.0 {
        return None;
    }
    let rank = q * total;
    let (mut lo, mut below) = (0.0, 0.0);
    for (bound, cum) in buckets {
        if cum >= rank {
            if bound.is_infinite() {
                return Some(lo);
            }
            let share = if cum > below {
                (rank - below) / (cum - below)
            } else {
                1.0
            };
            return Some(lo + (bound - lo) * share);
        }
        lo = bound;
        below = cum;
    }
    None
}

/// Exact `q` quantile of a sample (sorted in place).
pub fn sample_quantile(v: &mut [f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() - 1) as f64 * q).round() as usize]
}
