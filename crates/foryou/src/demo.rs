//! The demo world: a catalog grown around the real KuaiRand rows, playable synthetic clips,
//! and simulated viewers with hidden tastes whose interactions make the app feel alive.

use anyhow::{bail, Context, Result};
use foryou_media::synth::{clip_mp4, clip_mp4_with_music, encode, poster_png, ClipSpec};
use foryou_server::{now_ms, Platform};
use foryou_store::{Account, Sound, Video};
use foryou_types::{parse_date, EventInput, EventKind, Region, Role, SoundId, UserId, VideoId};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, RngCore, SeedableRng};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// How big a world to build.
pub struct DemoOptions {
    pub catalog: Option<PathBuf>,
    pub users: usize,
    pub extra_videos: usize,
    pub rows: usize,
}

/// A password of 16 random letters and digits.
pub fn random_password() -> String {
    const A: &[u8] = b"abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXY346789";
    let mut rng = rand::rngs::OsRng;
    (0..16)
        .map(|_| A[(rng.next_u32() as usize) % A.len()] as char)
        .collect()
}

/// Topic words for KuaiRand's anonymous tag ids (the mapping is arbitrary but fixed).
const TOPICS: &[&str] = &[
    "comedy",
    "food",
    "dance",
    "pets",
    "travel",
    "fitness",
    "music",
    "diy",
    "beauty",
    "gaming",
    "fashion",
    "cars",
    "art",
    "science",
    "football",
    "cooking",
    "nature",
    "family",
    "tech",
    "books",
    "anime",
    "skate",
    "garden",
    "movies",
    "history",
    "magic",
    "baking",
    "yoga",
    "fishing",
    "camping",
    "cats",
    "dogs",
    "lifehacks",
    "asmr",
    "makeup",
    "street",
    "guitar",
    "piano",
    "vlog",
    "daily",
    "memes",
    "parkour",
    "surf",
    "ski",
    "chess",
    "coffee",
    "tea",
    "bikes",
    "photo",
    "drawing",
    "knitting",
    "lego",
    "cosplay",
    "space",
    "ocean",
    "birds",
    "horses",
    "rap",
    "kpop",
    "jazz",
    "tennis",
    "basket",
    "running",
    "hiking",
    "sneakers",
    "nails",
    "hair",
    "skincare",
    "interior",
    "cleaning",
];
const ADJ: &[&str] = &[
    "sunny", "quiet", "brave", "lucky", "misty", "rapid", "cosy", "wild", "neon", "mellow", "bold",
    "tiny", "urban", "lunar", "golden", "salty",
];
const NOUN: &[&str] = &[
    "otter", "falcon", "maple", "comet", "tiger", "pixel", "river", "lynx", "cactus", "koala",
    "raven", "panda", "willow", "fox", "orca", "sparrow",
];
const COUNTRIES: &[(&str, u32)] = &[
    ("DE", 10),
    ("FR", 8),
    ("IE", 3),
    ("ES", 6),
    ("IT", 6),
    ("NO", 2),
    ("US", 25),
    ("BR", 10),
    ("JP", 8),
    ("IN", 12),
    ("CN", 10),
];
const COMMENTS: &[&str] = &[
    "this is so good",
    "again!",
    "how did you do that?",
    "made my day",
    "the sound fits perfectly",
    "need part 2",
    "love it",
    "ok this is art",
];

struct Row {
    author: u64,
    music: u64,
    tags: Vec<usize>,
    duration_ms: u64,
}

/// The KuaiRand-Pure rows the demo grows its world around, compiled in (`data/kuairand/`).
const BUNDLED_CATALOG: &str = include_str!("../data/kuairand/videos.csv");

/// The catalog text: the file given with `--catalog`, or the bundled rows.
fn catalog_text(given: &Option<PathBuf>) -> Result<(String, String)> {
    match given {
        Some(p) => Ok((
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?,
            p.display().to_string(),
        )),
        None => Ok((
            BUNDLED_CATALOG.to_string(),
            "the bundled KuaiRand-Pure rows".into(),
        )),
    }
}

fn read_rows(text: &str, source: &str, limit: usize) -> Result<Vec<Row>> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split(',').collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .with_context(|| format!("column {name} missing in {source}"))
    };
    let (ca, cm, cd) = (col("author_id")?, col("music_id")?, col("video_duration")?);
    col("tag")?;
    let mut rows = Vec::new();
    for line in lines {
        // The tag column may be quoted and hold commas ("39,68"): split it off first.
        let (head, tag) = match line.find('"') {
            Some(q) => (&line[..q], line[q..].trim_matches('"')),
            None => {
                let i = line.rfind(',').unwrap_or(line.len());
                (
                    &line[..=i.min(line.len() - 1)],
                    &line[(i + 1).min(line.len())..],
                )
            }
        };
        let f: Vec<&str> = head.split(',').collect();
        let num = |i: usize| f.get(i).and_then(|s| s.trim().parse::<f64>().ok());
        let (Some(author), Some(music)) = (num(ca), num(cm)) else {
            continue;
        };
        let tags: Vec<usize> = tag
            .split(',')
            .filter_map(|t| t.trim().parse::<usize>().ok())
            .collect();
        rows.push(Row {
            author: author as u64,
            music: music as u64,
            tags,
            duration_ms: num(cd).unwrap_or(0.0) as u64,
        });
        if limit > 0 && rows.len() >= limit {
            break;
        }
    }
    if rows.is_empty() {
        bail!("no usable rows in {source}");
    }
    Ok(rows)
}

fn pick_country(rng: &mut StdRng) -> &'static str {
    let total: u32 = COUNTRIES.iter().map(|c| c.1).sum();
    let mut x = rng.gen_range(0..total);
    for (c, w) in COUNTRIES {
        if x < *w {
            return c;
        }
        x -= w;
    }
    "US"
}

/// A skewed pick of an index below `n`: rank 0 most likely, a long tail after it
/// (`skew` 0 is uniform; larger is steeper).
fn zipf(rng: &mut StdRng, n: usize, skew: f64) -> usize {
    let u: f64 = rng.gen_range(0.0..1.0);
    ((u.powf(1.0 + 4.0 * skew) * n as f64) as usize).min(n.saturating_sub(1))
}

/// Seeds the world when the platform is empty; returns the demo login.
pub fn ensure(p: &Platform, data: &Path, opts: DemoOptions) -> Result<(String, String)> {
    let login_file = data.join("demo-login.txt");
    if !p.is_empty().map_err(|e| anyhow::anyhow!("{}", e.message))? {
        let saved = std::fs::read_to_string(&login_file).unwrap_or_default();
        let mut it = saved.split_whitespace();
        return match (it.next(), it.next()) {
            (Some(h), Some(pw)) => Ok((h.to_string(), pw.to_string())),
            _ => Ok(("(your account)".into(), "(as you set it)".into())),
        };
    }
    let started = std::time::Instant::now();
    let (text, source) = catalog_text(&opts.catalog)?;
    let rows = read_rows(&text, &source, opts.rows)?;
    eprintln!(
        "demo: building a world from {} real catalog rows ...",
        rows.len()
    );
    let mut rng = StdRng::seed_from_u64(42);
    let now = now_ms();
    let day = 86_400_000u64;
    let regions = p.config().regions.clone();
    let birth = parse_date("1995-06-01").map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut accounts: Vec<Account> = Vec::new();
    let mut creator_of: HashMap<u64, (UserId, Region, String)> = HashMap::new();
    let new_account = |rng: &mut StdRng,
                       handle: String,
                       accounts: &mut Vec<Account>|
     -> Result<(UserId, Region)> {
        let country = pick_country(rng);
        let region = regions
            .home_of(country)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let id = UserId(rng.gen_range(1..(1u64 << 53)));
        accounts.push(Account {
            id,
            handle,
            password_hash: "!".into(),
            locked: false,
            birthdate: birth,
            country: country.into(),
            region: region.clone(),
            role: Role::User,
            created_ms: now - 30 * day,
        });
        Ok((id, region))
    };
    for r in &rows {
        if let std::collections::hash_map::Entry::Vacant(slot) = creator_of.entry(r.author) {
            let h = format!(
                "{}_{}_{}",
                ADJ[(r.author % 16) as usize],
                NOUN[((r.author / 16) % 16) as usize],
                r.author
            );
            let (id, region) = new_account(&mut rng, h.clone(), &mut accounts)?;
            slot.insert((id, region, h));
        }
    }
    // Real rows first, then grown rows: active creators post many videos and popular sounds spread.
    let authors: Vec<u64> = {
        let mut a: Vec<u64> = creator_of.keys().copied().collect();
        a.sort_unstable();
        a.shuffle(&mut rng);
        a
    };
    let musics: Vec<u64> = {
        let mut m: Vec<u64> = rows.iter().map(|r| r.music).collect();
        m.sort_unstable();
        m.dedup();
        m.shuffle(&mut rng);
        m
    };
    let tags_of_author: HashMap<u64, Vec<usize>> =
        rows.iter().map(|r| (r.author, r.tags.clone())).collect();
    let mut plan: Vec<Row> = rows;
    let active = authors.len().min(400);
    for _ in 0..opts.extra_videos {
        let author = authors[zipf(&mut rng, active, 0.8)];
        let music = if rng.gen_bool(0.6) {
            musics[zipf(&mut rng, musics.len().min(300), 0.8)]
        } else {
            musics[rng.gen_range(0..musics.len())]
        };
        let tags = tags_of_author.get(&author).cloned().unwrap_or_default();
        plan.push(Row {
            author,
            music,
            tags,
            duration_ms: rng.gen_range(8_000..75_000),
        });
    }
    let max_ms = p.config().max_video_ms;
    let mut sounds: HashMap<u64, Sound> = HashMap::new();
    let mut videos: Vec<Video> = Vec::with_capacity(plan.len());
    for r in &plan {
        let (creator, region, handle) = creator_of[&r.author].clone();
        let id = VideoId(rng.gen_range(1..(1u64 << 53)));
        let sound = sounds
            .entry(r.music)
            .or_insert_with(|| Sound {
                id: SoundId(r.music % (1 << 53)),
                title: format!("original sound - {handle}"),
                creator,
                region: region.clone(),
                origin: id,
                created_ms: now - 20 * day,
            })
            .id;
        let tags: Vec<String> = r
            .tags
            .iter()
            .map(|t| TOPICS[t % TOPICS.len()].to_string())
            .collect();
        let caption = format!(
            "{} {}",
            [
                "watch till the end",
                "new one",
                "part 2",
                "had to try this",
                "pov:",
                "just vibes",
                "can't stop",
                "day in the life"
            ][rng.gen_range(0..8)],
            tags.iter()
                .map(|t| format!("#{t}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        let duration_ms = match r.duration_ms {
            0 => 15_000,
            d => d.clamp(3_000, max_ms),
        };
        videos.push(Video {
            id,
            creator,
            region: region.clone(),
            caption: caption.trim().to_string(),
            hashtags: foryou_types::hashtags(&caption),
            sound,
            duration_ms,
            width: foryou_media::synth::WIDTH as u32,
            height: foryou_media::synth::HEIGHT as u32,
            mime: "video/mp4".into(),
            video_codec: "h264".into(),
            audio_codec: None,
            media_key: format!("videos/{id}.mp4"),
            poster_key: format!("posters/{id}.png"),
            poster_mime: "image/png".into(),
            mature: false,
            effects: Vec::new(),
            removed: false,
            size_bytes: 0,
            created_ms: now - rng.gen_range(0..14 * day),
        });
    }
    eprintln!(
        "demo: {} videos by {} creators with {} sounds; encoding clips ...",
        videos.len(),
        creator_of.len(),
        sounds.len()
    );
    // Each sound's music, encoded once; every clip with that sound repeats its loop.
    let sound_ids: Vec<u64> = sounds.keys().copied().collect();
    let music: std::collections::HashMap<u64, foryou_media::flac::FlacStream> =
        std::thread::scope(|s| {
            let workers: Vec<_> = sound_ids
                .chunks(sound_ids.len().div_ceil(2).max(1))
                .map(|part| {
                    s.spawn(move || {
                        part.iter()
                            .map(|&id| (id, foryou_media::music::encoded_loop(id)))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|w| w.join().unwrap_or_default())
                .collect()
        });
    let music = &music;
    let encoded: Vec<(Video, Vec<u8>, Vec<u8>)> = {
        let chunks: Vec<Vec<Video>> = videos
            .chunks(videos.len().div_ceil(2))
            .map(|c| c.to_vec())
            .collect();
        std::thread::scope(|s| {
            let handles: Vec<_> = chunks
                .into_iter()
                .map(|chunk| {
                    s.spawn(move || {
                        chunk
                            .into_iter()
                            .map(|mut v| {
                                let tag_hue = v
                                    .hashtags
                                    .first()
                                    .map(|t| {
                                        t.bytes().fold(0u64, |a, b| a * 31 + u64::from(b)) % 360
                                    })
                                    .unwrap_or(200);
                                let spec = ClipSpec {
                                    seconds: v.duration_ms as f64 / 1000.0,
                                    seed: v.id.0,
                                    hue: tag_hue as f64,
                                    band_hue: (v.sound.0 % 360) as f64,
                                    fps: 12,
                                    music: Some(v.sound.0),
                                    headline: v
                                        .hashtags
                                        .first()
                                        .map(|t| format!("#{t}"))
                                        .unwrap_or_default(),
                                    caption: v.caption.clone(),
                                };
                                let mp4 = match music.get(&v.sound.0) {
                                    Some(m) => clip_mp4_with_music(&spec, &encode(&spec), m),
                                    None => clip_mp4(&spec),
                                };
                                v.size_bytes = mp4.len() as u64;
                                let poster = poster_png(&spec);
                                (v, mp4, poster)
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_default())
                .collect()
        })
    };
    let sounds: Vec<Sound> = sounds.into_values().collect();
    // Viewers with hidden tastes.
    let mut viewers = Vec::new();
    for i in 0..opts.users {
        let h = format!("{}{}_{}", NOUN[i % 16], ADJ[(i / 16) % 16], i);
        let (id, _) = new_account(&mut rng, h, &mut accounts)?;
        viewers.push(id);
    }
    let password = random_password();
    p.import(accounts, sounds, encoded)
        .map_err(|e| anyhow::anyhow!("importing the demo catalog: {}", e.message))?;
    p.create_account("demo", &password, "2000-01-01", "DE", Role::User)
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    eprintln!(
        "demo: catalog stored in {:.1}s; simulating {} viewers ...",
        started.elapsed().as_secs_f64(),
        viewers.len()
    );
    simulate(p, &viewers, &videos, &mut rng)?;
    std::fs::write(&login_file, format!("demo {password}\n")).context("writing the demo login")?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&login_file, std::fs::Permissions::from_mode(0o600));
    }
    eprintln!("demo: ready in {:.1}s", started.elapsed().as_secs_f64());
    Ok(("demo".into(), password))
}

/// Each viewer loves two topics, a few creators and a few sounds, and watches accordingly.
fn simulate(p: &Platform, viewers: &[UserId], videos: &[Video], rng: &mut StdRng) -> Result<()> {
    let mut by_tag: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, v) in videos.iter().enumerate() {
        for t in &v.hashtags {
            by_tag.entry(t.as_str()).or_default().push(i);
        }
    }
    let mut tags: Vec<(&str, usize)> = by_tag.iter().map(|(t, v)| (*t, v.len())).collect();
    tags.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let tags: Vec<&str> = tags.into_iter().take(20).map(|t| t.0).collect();
    if tags.is_empty() {
        return Ok(());
    }
    for (n, &user) in viewers.iter().enumerate() {
        let loves: Vec<&str> = (0..2).map(|_| tags[zipf(rng, tags.len(), 0.6)]).collect();
        let mut events = Vec::new();
        for k in 0..40 {
            let pool = &by_tag[loves[k % 2]];
            let fit = rng.gen_bool(0.7);
            let i = if fit {
                pool[rng.gen_range(0..pool.len())]
            } else {
                rng.gen_range(0..videos.len())
            };
            let v = &videos[i];
            let fan = fit || v.hashtags.iter().any(|t| loves.contains(&t.as_str()));
            let ratio: f64 = if fan {
                rng.gen_range(0.85..2.6)
            } else {
                rng.gen_range(0.02..0.5)
            };
            let watch = (v.duration_ms as f64 * ratio) as i64;
            let id = |kind: &str| format!("sim-{n}-{k}-{kind}");
            events.push(EventInput {
                id: id("v"),
                kind: if ratio < 0.1 {
                    EventKind::Skip
                } else {
                    EventKind::View
                },
                video_id: Some(v.id),
                watch_ms: Some(watch),
                target: None,
                text: None,
            });
            let plain = |kind: EventKind, tag: &str| EventInput {
                id: id(tag),
                kind,
                video_id: Some(v.id),
                watch_ms: None,
                target: None,
                text: None,
            };
            // What a fan does besides watching, and how often.
            for (kind, tag, p) in [
                (EventKind::Like, "l", 0.4),
                (EventKind::Save, "b", 0.08),
                (EventKind::Follow, "f", 0.06),
                (EventKind::Comment, "c", 0.05),
                (EventKind::Share, "s", 0.04),
            ] {
                if fan && rng.gen_bool(p) {
                    let mut e = plain(kind, tag);
                    if kind == EventKind::Comment {
                        e.text = Some(COMMENTS[rng.gen_range(0..COMMENTS.len())].to_string());
                    }
                    events.push(e);
                }
            }
        }
        for chunk in events.chunks(100) {
            p.record_events_as(user, chunk)
                .map_err(|e| anyhow::anyhow!("simulating viewer events: {}", e.message))?;
        }
    }
    Ok(())
}
