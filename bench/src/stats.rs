//! The measurement window shared by the workers, and percentiles over sorted latencies.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// When requests count, and when to stop: after a duration, or after a number of
/// measured requests. Requests started before `measure_from` are warm-up.
pub struct Window {
    measure_from: Instant,
    deadline: Option<Instant>,
    remaining: Option<AtomicU64>,
}

impl Window {
    pub fn new(warmup: Duration, duration: Duration, requests: Option<u64>) -> Window {
        let measure_from = Instant::now() + warmup;
        Window {
            measure_from,
            deadline: requests.is_none().then(|| measure_from + duration),
            remaining: requests.map(AtomicU64::new),
        }
    }

    pub fn measure_from(&self) -> Instant {
        self.measure_from
    }

    /// A ticket for one more request: `Some(true)` measured, `Some(false)` warm-up,
    /// `None` when the run is over.
    pub fn take(&self) -> Option<bool> {
        let now = Instant::now();
        if now < self.measure_from {
            return Some(false);
        }
        if let Some(remaining) = &self.remaining {
            return remaining
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .ok()
                .map(|_| true);
        }
        match self.deadline {
            Some(deadline) if now >= deadline => None,
            _ => Some(true),
        }
    }
}

/// Nearest-rank percentile (`p` in 0..=1) of ascending `sorted`; zero when empty.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (p.clamp(0.0, 1.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

/// What one worker measured: the latency of each request inside the window, and the
/// errors (all requests, warm-up included).
#[derive(Default)]
pub struct Samples {
    latencies: Vec<Duration>,
    last_end: Option<Instant>,
    errors: u64,
    first_error: Option<String>,
}

impl Samples {
    /// Measured requests recorded (successful or not).
    pub fn count(&self) -> usize {
        self.latencies.len()
    }

    /// Records one request sent at `t0` that just ended with `outcome`.
    pub fn record<T>(&mut self, measured: bool, t0: Instant, outcome: Result<T, String>) {
        let end = Instant::now();
        if let Err(e) = outcome {
            self.errors += 1;
            self.first_error.get_or_insert(e);
        }
        if measured {
            self.latencies.push(end - t0);
            self.last_end = Some(end);
        }
    }

    /// All workers' samples as one summary (from `measure_from` to the last measured
    /// answer) and their error count; the first error is printed.
    pub fn summarise<'a>(
        all: impl Iterator<Item = &'a mut Samples>,
        measure_from: Instant,
    ) -> (Summary, u64) {
        let mut tally = Tally::default();
        tally.add(all, measure_from);
        tally.finish()
    }
}

/// Several measured phases of one kind of request as one summary: their latencies
/// together, their durations added.
#[derive(Default)]
pub struct Tally {
    latencies: Vec<Duration>,
    elapsed: Duration,
    errors: u64,
    first_error: Option<String>,
}

impl Tally {
    /// Adds one phase: its workers' samples, measured from `measure_from`.
    pub fn add<'a>(&mut self, all: impl Iterator<Item = &'a mut Samples>, measure_from: Instant) {
        let mut last_end = None;
        for samples in all {
            self.latencies.append(&mut samples.latencies);
            last_end = last_end.max(samples.last_end);
            self.errors += samples.errors;
            if self.first_error.is_none() {
                self.first_error = samples.first_error.take();
            }
        }
        self.elapsed += last_end.map_or(Duration::ZERO, |t: Instant| t - measure_from);
    }

    /// Adds time the phase's work went on after its last answer (its webhooks still
    /// coming in): counted in its duration.
    pub fn add_wait(&mut self, wait: Duration) {
        self.elapsed += wait;
    }

    /// The summary and the error count; the first error is printed.
    pub fn finish(self) -> (Summary, u64) {
        if let Some(e) = &self.first_error {
            eprintln!("first error: {e}");
        }
        (Summary::new(self.latencies, self.elapsed), self.errors)
    }
}

/// Throughput and latency of one measured phase.
pub struct Summary {
    pub requests: u64,
    pub elapsed: Duration,
    pub p50: Duration,
    pub p90: Duration,
    pub p99: Duration,
    pub max: Duration,
}

impl Summary {
    /// `latencies` of the measured requests; `elapsed` from the window's start to the
    /// last measured answer.
    pub fn new(mut latencies: Vec<Duration>, elapsed: Duration) -> Summary {
        latencies.sort_unstable();
        Summary {
            requests: latencies.len() as u64,
            elapsed,
            p50: percentile(&latencies, 0.50),
            p90: percentile(&latencies, 0.90),
            p99: percentile(&latencies, 0.99),
            max: latencies.last().copied().unwrap_or_default(),
        }
    }

    pub fn rps(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.requests as f64 / secs
        } else {
            0.0
        }
    }

    /// `N requests in S s = R/s; latency ms p50 … p90 … p99 … max …`
    pub fn human(&self) -> String {
        format!(
            "{} requests in {:.2} s = {:.0}/s; latency ms p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}",
            self.requests,
            self.elapsed.as_secs_f64(),
            self.rps(),
            ms(self.p50),
            ms(self.p90),
            ms(self.p99),
            ms(self.max)
        )
    }

    /// The common fields of the JSON line.
    pub fn json(&self, bench: &str, concurrency: usize, errors: u64) -> serde_json::Value {
        serde_json::json!({
            "bench": bench,
            "rps": (self.rps() * 10.0).round() / 10.0,
            "p50_ms": ms(self.p50),
            "p90_ms": ms(self.p90),
            "p99_ms": ms(self.p99),
            "max_ms": ms(self.max),
            "requests": self.requests,
            "seconds": (self.elapsed.as_secs_f64() * 1000.0).round() / 1000.0,
            "concurrency": concurrency,
            "errors": errors,
        })
    }
}

/// A small xorshift64* generator: enough to pick duplicates and event kinds.
pub struct Rng(u64);

impl Rng {
    pub fn seeded(salt: u64) -> Rng {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9E37_79B9_7F4A_7C15);
        let mut rng = Rng((nanos ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15)) | 1);
        rng.next_u64();
        rng
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in 0..n (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms_list(values: &[u64]) -> Vec<Duration> {
        values.iter().map(|&v| Duration::from_millis(v)).collect()
    }

    #[test]
    fn nearest_rank_percentiles() {
        let sorted = ms_list(&(1..=100).collect::<Vec<_>>());
        assert_eq!(percentile(&sorted, 0.50), Duration::from_millis(50));
        assert_eq!(percentile(&sorted, 0.99), Duration::from_millis(99));
        assert_eq!(percentile(&sorted, 1.0), Duration::from_millis(100));
        assert_eq!(percentile(&sorted, 0.0), Duration::from_millis(1));
        let one = ms_list(&[7]);
        assert_eq!(percentile(&one, 0.5), Duration::from_millis(7));
        assert_eq!(percentile(&[], 0.5), Duration::ZERO);
        let four = ms_list(&[1, 2, 3, 4]);
        assert_eq!(percentile(&four, 0.5), Duration::from_millis(2));
        assert_eq!(percentile(&four, 0.51), Duration::from_millis(3));
    }

    #[test]
    fn a_request_count_window_hands_out_exactly_that_many_tickets() {
        let w = Window::new(Duration::ZERO, Duration::from_secs(60), Some(3));
        assert_eq!(
            (0..5).map(|_| w.take()).collect::<Vec<_>>(),
            [Some(true), Some(true), Some(true), None, None]
        );
        let warm = Window::new(Duration::from_secs(60), Duration::ZERO, None);
        assert_eq!(warm.take(), Some(false));
    }

    #[test]
    fn a_tally_adds_phases_up() {
        let t0 = Instant::now();
        let mut a = Samples::default();
        a.record(true, t0, Ok::<(), String>(()));
        a.record(false, t0, Err::<(), String>("warm-up error".into()));
        let mut b = Samples::default();
        b.record(true, t0, Ok::<(), String>(()));
        b.record(true, t0, Ok::<(), String>(()));
        let mut tally = Tally::default();
        tally.add([&mut a].into_iter(), t0);
        tally.add([&mut b].into_iter(), t0);
        let (summary, errors) = tally.finish();
        assert_eq!((summary.requests, errors), (3, 1));
        assert!(summary.elapsed >= summary.max);
    }

    #[test]
    fn rng_unit_is_in_range() {
        let mut rng = Rng::seeded(1);
        for _ in 0..1000 {
            let u = rng.unit();
            assert!((0.0..1.0).contains(&u));
            assert!(rng.below(3) < 3);
        }
    }
}
