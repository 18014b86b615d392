//! The offline protocols of EVAL.md, run through the same engine that serves the feed:
//! `eval` (train on TRAIN, rank every train item for each test user, score recall, NDCG and
//! coverage) and `replay` (prequential test-then-learn over a time-ordered event stream).

use anyhow::{bail, Context, Result};
use foryou_engine::{Engine, EngineConfig, FeedRequest, Interner};
use foryou_types::{UserId, VideoId};
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::Path;

/// One interaction row.
pub struct Row {
    pub user: String,
    pub item: String,
    pub ts: u64,
    pub weight: f32,
}

/// Reads `user<TAB>item<TAB>ts<TAB>weight` with a header (ts and weight may be missing).
pub fn read_tsv(path: &Path) -> Result<Vec<Row>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut lines = text.lines();
    let header = lines.next().unwrap_or("");
    let cols: Vec<&str> = header.split('\t').collect();
    if cols.first() != Some(&"user") || cols.get(1) != Some(&"item") {
        bail!(
            "{}: the header must start with user<TAB>item (see EVAL.md)",
            path.display()
        );
    }
    let mut rows = Vec::new();
    for (n, line) in lines.enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = || {
            anyhow::anyhow!(
                "{}: line {} is not user<TAB>item<TAB>ts<TAB>weight",
                path.display(),
                n + 2
            )
        };
        let mut f = line.split('\t');
        let (u, i) = match (f.next(), f.next()) {
            (Some(u), Some(i)) if !u.is_empty() && !i.is_empty() => (u, i),
            _ => return Err(bad()),
        };
        let ts = match f.next() {
            Some(t) if !t.is_empty() => t.trim().parse::<f64>().map_err(|_| bad())?.max(0.0) as u64,
            _ => 0,
        };
        let weight = match f.next() {
            Some(w) if !w.is_empty() => w.trim().parse::<f32>().map_err(|_| bad())?,
            _ => 1.0,
        };
        if !weight.is_finite() || weight <= 0.0 {
            return Err(bad());
        }
        rows.push(Row {
            user: u.to_string(),
            item: i.to_string(),
            ts,
            weight,
        });
    }
    Ok(rows)
}

/// Strength of an interaction of `weight` (a play count for music): 1 for a plain positive,
/// growing slowly with repeats.
fn strength(weight: f32) -> f32 {
    (1.0 + weight.max(1.0).ln()).min(3.0)
}

/// String ids of a file mapped to the engine's exact numeric ids.
#[derive(Default)]
struct Ids {
    users: Interner<String>,
    items: Interner<String>,
}

impl Ids {
    fn user(&mut self, s: &str) -> UserId {
        UserId(self.users.intern(&s.to_string()) as u64)
    }
    fn item(&mut self, s: &str) -> VideoId {
        VideoId(self.items.intern(&s.to_string()) as u64)
    }
}

/// Whether a log's order is its time: some row has a timestamp (0 is unknown). A log without
/// any says nothing about which of a person's engagements came last.
pub fn is_timed(rows: &[Row]) -> bool {
    rows.iter().any(|r| r.ts != 0)
}

/// The offline configuration for a training log, `timed` or not ([`is_timed`];
/// `EngineConfig::offline_unordered` where it has no timestamps), with the changes of the JSON
/// file at `path`.
pub fn offline_config_for(timed: bool, path: Option<&Path>) -> Result<EngineConfig> {
    let base = if timed {
        EngineConfig::offline()
    } else {
        EngineConfig::offline_unordered()
    };
    config_with_changes(base, path)
}

/// Rows in time order, file order on ties.
fn in_time_order(rows: &[Row]) -> Vec<&Row> {
    let mut v: Vec<&Row> = rows.iter().collect();
    v.sort_by_key(|r| r.ts);
    v
}

/// The figures printed as JSON by `eval`.
pub struct Report {
    pub recall: f64,
    pub ndcg: f64,
    pub coverage: f64,
    pub users: usize,
    pub train_seconds: f64,
    /// What the trials chose at each stage of knowledge, as the ranked lists were made.
    pub blend: Vec<StageChoice>,
    /// The people of each stage of knowledge and how the engine and the crowd did for them.
    pub by_known: Vec<KnownStage>,
}

/// NDCG@K for the people with a given amount of training history, the engine's and the
/// crowd's (the items most people engaged with in training, the popularity peer of EVAL.md).
#[derive(serde::Serialize)]
pub struct KnownStage {
    /// People with at most this many training items (and more than the stage before, the same
    /// bounds as the blend's stages); `null` for the last stage.
    pub known_at_most: Option<usize>,
    pub users: usize,
    pub ndcg: f64,
    pub crowd_ndcg: f64,
}

/// Hits and NDCG@K of a ranked list against the truth (binary gains, EVAL.md).
fn score_list(
    recs: impl Iterator<Item = VideoId>,
    truth: &HashSet<VideoId>,
    k: usize,
) -> (usize, f64) {
    let mut dcg = 0.0;
    let mut hits = 0usize;
    for (rank, v) in recs.take(k).enumerate() {
        if truth.contains(&v) {
            hits += 1;
            dcg += 1.0 / ((rank + 2) as f64).log2();
        }
    }
    let idcg: f64 = (0..truth.len().min(k))
        .map(|r| 1.0 / ((r + 2) as f64).log2())
        .sum();
    (hits, if idcg > 0.0 { dcg / idcg } else { 0.0 })
}

/// The batch model's and the crowd's shares the trials chose for one stage of knowledge
/// (`blend.rs`), and the (decayed) number of trials behind the choice.
#[derive(serde::Serialize)]
pub struct StageChoice {
    /// People with at most this many recent engagements (and more than the stage before);
    /// `null` for the last stage.
    pub known_at_most: Option<usize>,
    pub batch_share: f32,
    pub crowd_share: f32,
    pub trials: f64,
    /// Whether the stage had enough trials for its choice to count (otherwise the ranker's
    /// score is used alone, shown as both shares 0).
    pub decided: bool,
}

/// The shares the engine's trials chose, stage by stage.
fn blend_choices(engine: &Engine) -> Vec<StageChoice> {
    use foryou_engine::blend;
    let b = &engine.state().heads.blend;
    (0..blend::STAGES)
        .map(|s| {
            let shares = b.shares(s);
            StageChoice {
                known_at_most: blend::stage_bound(s),
                batch_share: shares.batch,
                crowd_share: shares.crowd,
                trials: (b.trials[s] * 10.0).round() / 10.0,
                decided: b.decided(s),
            }
        })
        .collect()
}

/// The offline configuration with the parameters in the JSON object at `path` changed (objects
/// merge field by field; anything else replaces).
pub fn offline_config(path: Option<&Path>) -> Result<EngineConfig> {
    config_with_changes(EngineConfig::offline(), path)
}

/// `base` with the changes of the JSON file at `path` (parameters it does not name keep their
/// values; a name the engine does not have is an error).
pub fn config_with_changes(base: EngineConfig, path: Option<&Path>) -> Result<EngineConfig> {
    let Some(path) = path else { return Ok(base) };
    let text =
        std::fs::read(path).with_context(|| format!("reading --config {}", path.display()))?;
    let change: serde_json::Value = serde_json::from_slice(&text)
        .with_context(|| format!("--config {}: not JSON", path.display()))?;
    let mut merged = serde_json::to_value(&base)?;
    merge(&mut merged, change, 0)?;
    serde_json::from_value(merged).with_context(|| format!("--config {}", path.display()))
}

/// Merges `change` into `into`; nesting is bounded.
fn merge(into: &mut serde_json::Value, change: serde_json::Value, depth: usize) -> Result<()> {
    anyhow::ensure!(depth < 8, "--config: nested too deeply");
    match (into, change) {
        (serde_json::Value::Object(a), serde_json::Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(&k) {
                    Some(slot) => merge(slot, v, depth + 1)?,
                    None => anyhow::bail!("--config: no engine parameter '{k}'"),
                }
            }
        }
        (slot, v) => *slot = v,
    }
    Ok(())
}

/// Trains on `train`, ranks for the users of `test`, writes `recs_out` when given.
pub fn run(
    train: &[Row],
    test: &[Row],
    k: usize,
    config: EngineConfig,
    recs_out: Option<&Path>,
) -> Result<Report> {
    let started = std::time::Instant::now();
    let mut ids = Ids::default();
    let mut engine = Engine::new(config);
    let mut history: HashMap<UserId, HashSet<VideoId>> = HashMap::new();
    let mut now = 0;
    let ordered = in_time_order(train);
    for r in ordered {
        // The batch model is refit as serving refits it in the background (once a tenth more
        // is learned), so the ranker trains with it as it will serve with it.
        if engine.batch_stale() {
            engine.rebuild_batch();
        }
        let (u, i) = (ids.user(&r.user), ids.item(&r.item));
        now = now.max(r.ts * 1000);
        engine.observe_interaction(u, i, r.ts * 1000, strength(r.weight));
        history.entry(u).or_default().insert(i);
    }
    engine.rebuild_index();
    engine.rebuild_batch();
    let train_seconds = started.elapsed().as_secs_f64();
    let n_items = ids.items.len();

    let mut truth: HashMap<UserId, HashSet<VideoId>> = HashMap::new();
    for r in test {
        if let (Some(u), Some(i)) = (
            ids.users.get(&r.user).map(|x| UserId(x as u64)),
            ids.items.get(&r.item).map(|x| VideoId(x as u64)),
        ) {
            if history.get(&u).is_some_and(|h| !h.contains(&i)) {
                truth.entry(u).or_default().insert(i);
            }
        }
    }
    let mut users: Vec<UserId> = truth.keys().copied().collect();
    users.sort_unstable();
    let mut out = match recs_out {
        Some(p) => {
            let mut f = std::io::BufWriter::new(
                std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
            );
            writeln!(f, "user\titem\trank")?;
            Some(f)
        }
        None => None,
    };
    // The crowd: every training item by how many people engaged with it (first seen first on
    // a tie).
    let mut people = vec![0u32; n_items];
    for h in history.values() {
        for v in h {
            people[v.0 as usize] += 1;
        }
    }
    let mut crowd: Vec<VideoId> = (0..n_items as u64).map(VideoId).collect();
    crowd.sort_by_key(|v| std::cmp::Reverse(people[v.0 as usize]));
    let mut by_known: Vec<(usize, f64, f64)> = vec![(0, 0.0, 0.0); foryou_engine::blend::STAGES];
    let (mut recall, mut ndcg) = (0.0, 0.0);
    let mut shown: HashSet<VideoId> = HashSet::new();
    for &u in &users {
        let recs = engine.recommend(&FeedRequest::new(u, k, now));
        let t = &truth[&u];
        for (rank, r) in recs.iter().enumerate() {
            shown.insert(r.video);
            if let Some(f) = out.as_mut() {
                let user = ids.users.key(u.0 as u32);
                let item = ids.items.key(r.video.0 as u32);
                writeln!(f, "{user}\t{item}\t{}", rank + 1)?;
            }
        }
        let (hits, n) = score_list(recs.iter().map(|r| r.video), t, k);
        recall += hits as f64 / t.len() as f64;
        ndcg += n;
        let own = &history[&u];
        let (_, c) = score_list(crowd.iter().copied().filter(|v| !own.contains(v)), t, k);
        let stage = &mut by_known[foryou_engine::blend::bucket(own.len())];
        stage.0 += 1;
        stage.1 += n;
        stage.2 += c;
    }
    if let Some(f) = out.as_mut() {
        f.flush()?;
    }
    let n = users.len().max(1) as f64;
    Ok(Report {
        recall: recall / n,
        ndcg: ndcg / n,
        coverage: shown.len() as f64 / n_items.max(1) as f64,
        users: users.len(),
        train_seconds,
        blend: blend_choices(&engine),
        by_known: by_known
            .into_iter()
            .enumerate()
            .filter(|s| s.1 .0 > 0)
            .map(|(s, (users, n, c))| KnownStage {
                known_at_most: foryou_engine::blend::stage_bound(s),
                users,
                ndcg: n / users as f64,
                crowd_ndcg: c / users as f64,
            })
            .collect(),
    })
}

/// The figures printed as JSON by `replay`.
pub struct ReplayReport {
    pub hr: f64,
    pub mrr: f64,
    pub hr_by_tenth: Vec<f64>,
    pub scored: usize,
    pub events: usize,
    pub seconds: f64,
    pub events_per_second: f64,
    /// The scored events by how many items their person had before, the engine's HR@K and the
    /// crowd's.
    pub by_known: Vec<KnownReplay>,
    /// What the trials had chosen at each stage of knowledge by the end of the stream.
    pub blend: Vec<StageChoice>,
}

/// HR@K over the scored events of people with a given number of earlier items, from the engine
/// and from the crowd (all-time popularity so far, EVAL.md's `pop` replay peer).
#[derive(serde::Serialize)]
pub struct KnownReplay {
    /// People with at most this many earlier items (and more than the stage before, the
    /// blend's bounds); `null` for the last stage.
    pub known_at_most: Option<usize>,
    pub events: usize,
    pub hr: f64,
    pub crowd_hr: f64,
}

/// All-time popularity over a stream, ranked exactly: most events first, the first seen first
/// on a tie (item numbers are given in the order items are first seen).
#[derive(Default)]
struct Crowd {
    order: std::collections::BTreeSet<(std::cmp::Reverse<u32>, u64)>,
    count: HashMap<u64, u32>,
}

impl Crowd {
    fn learn(&mut self, v: VideoId) {
        let c = self.count.entry(v.0).or_default();
        self.order.remove(&(std::cmp::Reverse(*c), v.0));
        *c = c.saturating_add(1);
        self.order.insert((std::cmp::Reverse(*c), v.0));
    }

    /// The `k` most popular items outside `own`.
    fn top<'a>(
        &'a self,
        k: usize,
        own: &'a HashSet<VideoId>,
    ) -> impl Iterator<Item = VideoId> + 'a {
        self.order
            .iter()
            .map(|x| VideoId(x.1))
            .filter(move |v| !own.contains(v))
            .take(k)
    }
}

/// Prequential replay: before each event of a known user, ask for the top `k`; then learn it.
pub fn replay(events: &[Row], k: usize, config: EngineConfig) -> Result<ReplayReport> {
    let started = std::time::Instant::now();
    let mut ids = Ids::default();
    let mut engine = Engine::new(config);
    let ordered = in_time_order(events);
    let n = ordered.len();
    let mut known: HashMap<UserId, HashSet<VideoId>> = HashMap::new();
    let mut crowd = Crowd::default();
    let mut by_known = vec![(0usize, 0usize, 0usize); foryou_engine::blend::STAGES];
    let (mut hits, mut rr, mut scored) = (0usize, 0.0f64, 0usize);
    let mut tenth_hits = [0usize; 10];
    let mut tenth_scored = [0usize; 10];
    for (pos, r) in ordered.into_iter().enumerate() {
        let (u, i) = (ids.user(&r.user), ids.item(&r.item));
        let ts = r.ts * 1000;
        if let Some(own) = known.get(&u) {
            if engine.index_stale() {
                engine.rebuild_index();
            }
            if engine.batch_stale() {
                engine.rebuild_batch();
            }
            let recs = engine.recommend(&FeedRequest::new(u, k, ts));
            let tenth = (pos * 10 / n.max(1)).min(9);
            scored += 1;
            tenth_scored[tenth] += 1;
            let stage = &mut by_known[foryou_engine::blend::bucket(own.len())];
            stage.0 += 1;
            if let Some(rank) = recs.iter().position(|x| x.video == i) {
                hits += 1;
                tenth_hits[tenth] += 1;
                rr += 1.0 / (rank + 1) as f64;
                stage.1 += 1;
            }
            if crowd.top(k, own).any(|v| v == i) {
                stage.2 += 1;
            }
        }
        engine.observe_interaction(u, i, ts, strength(r.weight));
        crowd.learn(i);
        known.entry(u).or_default().insert(i);
    }
    let seconds = started.elapsed().as_secs_f64();
    let s = scored.max(1) as f64;
    Ok(ReplayReport {
        hr: hits as f64 / s,
        mrr: rr / s,
        hr_by_tenth: tenth_hits
            .iter()
            .zip(&tenth_scored)
            .map(|(h, s)| *h as f64 / (*s).max(1) as f64)
            .collect(),
        scored,
        events: n,
        seconds,
        events_per_second: n as f64 / seconds.max(1e-9),
        blend: blend_choices(&engine),
        by_known: by_known
            .into_iter()
            .enumerate()
            .filter(|s| s.1 .0 > 0)
            .map(|(s, (events, hits, crowd))| KnownReplay {
                known_at_most: foryou_engine::blend::stage_bound(s),
                events,
                hr: hits as f64 / events as f64,
                crowd_hr: crowd as f64 / events as f64,
            })
            .collect(),
    })
}
