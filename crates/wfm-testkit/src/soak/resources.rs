//! Resource samples of the daemon process, one per simulated hour, and the check that
//! they stay flat after the first day (no growth trend) and inside absolute bounds.

use std::path::Path;

/// One sample: what the process and its store hold at the end of a simulated hour.
#[derive(Debug, Clone, Default)]
pub struct Sample {
    /// Simulated hour since the start.
    pub hour: u32,
    /// Resident set size, KiB (`/proc/PID/status` `VmRSS`).
    pub rss_kib: u64,
    /// Open file descriptors (`/proc/PID/fd`).
    pub fds: u64,
    /// `wfm_reactor_tokio_tasks`.
    pub tasks: u64,
    /// Channels the simulator holds for the client.
    pub channels: u64,
    /// Sockets attached to those channels.
    pub sockets: u64,
    /// Store file plus its WAL, bytes.
    pub store_bytes: u64,
    /// `wfm_reactor_outbox_depth` (rows not yet pruned).
    pub outbox_depth: u64,
}

/// `VmRSS` of `pid` in KiB (0 when the process is gone).
pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Open descriptors of `pid` (0 when the process is gone).
pub fn fds(pid: u32) -> u64 {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count() as u64)
}

/// Bytes of every file in `dir` whose name starts with `state.db` (database, WAL, SHM).
pub fn store_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().starts_with("state.db"))
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

/// Absolute ceilings: a leak of tasks, descriptors or sockets shows long before these.
const MAX_TASKS: u64 = 400;
const MAX_FDS: u64 = 256;
/// Growth tolerated from the first day's peak to the last day's peak.
const RSS_GROWTH: f64 = 1.5;
const STORE_GROWTH: f64 = 2.0;

/// The bound violations of a run's samples, `hours_per_day` samples a day.
pub fn check(samples: &[Sample], hours_per_day: usize) -> Vec<String> {
    let mut bad = Vec::new();
    for s in samples {
        if s.tasks > MAX_TASKS || s.fds > MAX_FDS || s.sockets > s.channels {
            bad.push(format!("hour {}: over an absolute bound: {s:?}", s.hour));
        }
    }
    // Day 1 is the warm-up; with a single day its first half is.
    let warm = if samples.len() > hours_per_day {
        hours_per_day
    } else {
        samples.len() / 2
    };
    let (first, rest) = samples.split_at(warm.min(samples.len()));
    let tail = &rest[rest.len().saturating_sub(hours_per_day)..];
    let peak = |xs: &[Sample], f: fn(&Sample) -> u64| xs.iter().map(f).max().unwrap_or(0);
    let grew = |name: &str, f: fn(&Sample) -> u64, factor: f64, slack: u64| {
        let (base, last) = (peak(first, f), peak(tail, f));
        (last as f64 > base as f64 * factor + slack as f64)
            .then(|| format!("{name} grew: first-day peak {base}, last-day peak {last}"))
    };
    bad.extend(grew("rss_kib", |s| s.rss_kib, RSS_GROWTH, 8 * 1024));
    bad.extend(grew("store_bytes", |s| s.store_bytes, STORE_GROWTH, 1 << 20));
    bad.extend(grew("outbox_depth", |s| s.outbox_depth, 2.0, 200));
    bad.extend(grew("fds", |s| s.fds, 1.0, 16));
    bad.extend(grew("tasks", |s| s.tasks, 1.0, 32));
    bad
}

/// The samples as a Markdown table, every `every`-th hour.
pub fn table(samples: &[Sample], every: usize) -> String {
    let mut out = String::from(
        "| hour | RSS KiB | fds | tasks | channels | sockets | store bytes | outbox depth |\n\
         |---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for s in samples.iter().step_by(every.max(1)) {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
            s.hour, s.rss_kib, s.fds, s.tasks, s.channels, s.sockets, s.store_bytes, s.outbox_depth
        ));
    }
    out
}
