//! `foryou eval`: the offline top-K protocol of EVAL.md (train on TRAIN, rank every train item
//! for each test user, score recall, NDCG and coverage), on the engine's co-engagement model.

use anyhow::{bail, Context, Result};
use foryou_engine::{CoocConfig, CoocModel};
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::Path;

/// One interaction row.
pub struct Row {
    pub user: String,
    pub item: String,
}

/// Reads `user<TAB>item<TAB>ts<TAB>weight` with a header.
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
        let mut f = line.split('\t');
        match (f.next(), f.next()) {
            (Some(u), Some(i)) if !u.is_empty() && !i.is_empty() => rows.push(Row {
                user: u.to_string(),
                item: i.to_string(),
            }),
            _ => bail!(
                "{}: line {} is not user<TAB>item<TAB>ts<TAB>weight",
                path.display(),
                n + 2
            ),
        }
    }
    Ok(rows)
}

/// The figures printed as JSON.
pub struct Report {
    pub recall: f64,
    pub ndcg: f64,
    pub coverage: f64,
    pub users: usize,
    pub train_seconds: f64,
}

/// Trains on `train`, ranks for the users of `test`, writes `recs_out` when given.
pub fn run(
    train: &[Row],
    test: &[Row],
    k: usize,
    config: &CoocConfig,
    recs_out: Option<&Path>,
) -> Result<Report> {
    let started = std::time::Instant::now();
    let mut item_ix: HashMap<&str, u32> = HashMap::new();
    let mut items: Vec<&str> = Vec::new();
    let mut user_ix: HashMap<&str, usize> = HashMap::new();
    let mut histories: Vec<Vec<u32>> = Vec::new();
    let mut user_names: Vec<&str> = Vec::new();
    for r in train {
        let i = *item_ix.entry(r.item.as_str()).or_insert_with(|| {
            items.push(r.item.as_str());
            (items.len() - 1) as u32
        });
        let u = *user_ix.entry(r.user.as_str()).or_insert_with(|| {
            histories.push(Vec::new());
            user_names.push(r.user.as_str());
            histories.len() - 1
        });
        histories[u].push(i);
    }
    for h in &mut histories {
        h.sort_unstable();
        h.dedup();
    }
    let model = CoocModel::train(&histories, items.len(), config);
    let train_seconds = started.elapsed().as_secs_f64();
    let mut popularity: Vec<(u32, usize)> = vec![(0, 0); items.len()];
    for (i, p) in popularity.iter_mut().enumerate() {
        p.0 = i as u32;
    }
    for h in &histories {
        for &i in h {
            popularity[i as usize].1 += 1;
        }
    }
    popularity.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));

    let mut truth: HashMap<usize, HashSet<u32>> = HashMap::new();
    for r in test {
        if let (Some(&u), Some(&i)) = (user_ix.get(r.user.as_str()), item_ix.get(r.item.as_str())) {
            if !histories[u].contains(&i) {
                truth.entry(u).or_default().insert(i);
            }
        }
    }
    let mut users: Vec<usize> = truth.keys().copied().collect();
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
    let (mut recall, mut ndcg) = (0.0, 0.0);
    let mut shown: HashSet<u32> = HashSet::new();
    for &u in &users {
        let hist = &histories[u];
        let mut recs: Vec<u32> = model.recommend(hist, k).into_iter().map(|r| r.0).collect();
        for &(i, _) in &popularity {
            if recs.len() >= k {
                break;
            }
            if hist.binary_search(&i).is_err() && !recs.contains(&i) {
                recs.push(i);
            }
        }
        let t = &truth[&u];
        let mut dcg = 0.0;
        let mut hits = 0usize;
        for (rank, i) in recs.iter().enumerate() {
            if t.contains(i) {
                hits += 1;
                dcg += 1.0 / ((rank + 2) as f64).log2();
            }
            shown.insert(*i);
            if let Some(f) = out.as_mut() {
                writeln!(f, "{}\t{}\t{}", user_names[u], items[*i as usize], rank + 1)?;
            }
        }
        let idcg: f64 = (0..t.len().min(k))
            .map(|r| 1.0 / ((r + 2) as f64).log2())
            .sum();
        recall += hits as f64 / t.len() as f64;
        ndcg += dcg / idcg;
    }
    let n = users.len().max(1) as f64;
    Ok(Report {
        recall: recall / n,
        ndcg: ndcg / n,
        coverage: shown.len() as f64 / items.len().max(1) as f64,
        users: users.len(),
        train_seconds,
    })
}
