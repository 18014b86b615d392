//! Counters and latency histograms, rendered in the Prometheus text format.

use foryou_types::EventKind;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    n: u64,
}

/// Process-wide metrics.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
    uploads: Mutex<BTreeMap<String, u64>>,
    events: Mutex<BTreeMap<&'static str, u64>>,
}

impl Metrics {
    /// Counts one HTTP request.
    pub fn request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        if let Ok(mut m) = self.requests.lock() {
            *m.entry((route.to_string(), method.to_string(), status))
                .or_default() += 1;
        }
        if let Ok(mut m) = self.latency.lock() {
            let h = m.entry(route.to_string()).or_default();
            for (i, b) in BUCKETS.iter().enumerate() {
                if seconds <= *b {
                    h.counts[i] += 1;
                }
            }
            h.sum += seconds;
            h.n += 1;
        }
    }

    /// Counts an upload outcome (`accepted` or the error code).
    pub fn upload(&self, outcome: &str) {
        if let Ok(mut m) = self.uploads.lock() {
            *m.entry(outcome.to_string()).or_default() += 1;
        }
    }

    /// Counts an accepted event.
    pub fn event(&self, kind: EventKind) {
        if let Ok(mut m) = self.events.lock() {
            *m.entry(kind.as_str()).or_default() += 1;
        }
    }

    /// The Prometheus exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# HELP foryou_http_requests_total HTTP requests by route, method and status.\n# TYPE foryou_http_requests_total counter");
        if let Ok(m) = self.requests.lock() {
            for ((route, method, status), n) in m.iter() {
                let _ = writeln!(out, "foryou_http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}} {n}");
            }
        }
        let _ = writeln!(out, "# HELP foryou_http_request_duration_seconds Request latency by route.\n# TYPE foryou_http_request_duration_seconds histogram");
        if let Ok(m) = self.latency.lock() {
            for (route, h) in m.iter() {
                for (i, b) in BUCKETS.iter().enumerate() {
                    let _ = writeln!(out, "foryou_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{b}\"}} {}", h.counts[i]);
                }
                let _ = writeln!(out, "foryou_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}", h.n);
                let _ = writeln!(
                    out,
                    "foryou_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                    h.sum
                );
                let _ = writeln!(
                    out,
                    "foryou_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                    h.n
                );
            }
        }
        let _ = writeln!(out, "# HELP foryou_uploads_total Upload attempts by outcome.\n# TYPE foryou_uploads_total counter");
        if let Ok(m) = self.uploads.lock() {
            for (k, n) in m.iter() {
                let _ = writeln!(out, "foryou_uploads_total{{outcome=\"{k}\"}} {n}");
            }
        }
        let _ = writeln!(out, "# HELP foryou_events_total Accepted interaction events by kind.\n# TYPE foryou_events_total counter");
        if let Ok(m) = self.events.lock() {
            for kind in EventKind::ALL {
                let _ = writeln!(
                    out,
                    "foryou_events_total{{kind=\"{}\"}} {}",
                    kind.as_str(),
                    m.get(kind.as_str()).copied().unwrap_or(0)
                );
            }
        }
        out
    }
}
