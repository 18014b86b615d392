//! The generated part of the seed corpora: valid files of each shape and the attacks seen on
//! `main`. Files found by fuzzing are added beside them by hand.

use anyhow::Result;
use foryou_media::samples;
use foryou_media::synth::{clip_mp4, ClipSpec};
use std::path::Path;

/// Writes every generated seed under `root/<target>/`.
pub fn write(root: &Path) -> Result<()> {
    let put = |target: &str, name: &str, bytes: &[u8]| -> Result<()> {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(name), bytes)?;
        Ok(())
    };
    let clip = clip_mp4(&ClipSpec {
        seconds: 0.5,
        seed: 1,
        ..ClipSpec::default()
    });
    put("probe", "synth-clip.mp4", &clip)?;
    put(
        "probe",
        "recording.webm",
        &samples::webm(Some(5000.0), "V_VP9"),
    )?;
    put(
        "probe",
        "nested-unknown-size.webm",
        &samples::nested_webm(200),
    )?;
    put(
        "probe",
        "box-size-all-ones.mp4",
        &samples::mp4_box_size_all_ones(),
    )?;
    put(
        "probe",
        "billions-of-samples.mp4",
        &samples::mp4_claiming(u32::MAX, 4),
    )?;
    put("probe", "tiny.webm", &samples::tiny_webm())?;
    put("event_batch", "mixed.json", br#"{"events":[{"id":"e1","kind":"view","video_id":"123","watch_ms":9000},{"id":"e2","kind":"like","video_id":"123"},{"id":"e3","kind":"comment","video_id":"123","text":"nice"},{"id":"e4","kind":"follow","target":"456"},{"id":"e5","kind":"not_interested","video_id":"123","target":"sound"},{"id":"e6","kind":"skip","video_id":"9","watch_ms":300}]}"#)?;
    put("event_batch", "empty.json", br#"{"events":[]}"#)?;
    put(
        "feed_query",
        "all.txt",
        b"mode=foryou&personalized=false&limit=10&cursor=20",
    )?;
    put("feed_query", "following.txt", b"mode=following&limit=50")?;
    put("feed_query", "huge-cursor.txt", b"cursor=1000000000000")?;
    put("page_query", "page.txt", b"limit=20&cursor=40")?;
    let mut range = 1_000_000u64.to_le_bytes().to_vec();
    range.extend_from_slice(b"bytes=0-99");
    put("byte_range", "first-100.bin", &range)?;
    let mut suffix = 5_000u64.to_le_bytes().to_vec();
    suffix.extend_from_slice(b"bytes=-500");
    put("byte_range", "suffix.bin", &suffix)?;
    put(
        "credentials",
        "cookies.txt",
        b"fy_csrf=00ff; fy_session=fy_eu_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef; theme=dark",
    )?;
    put(
        "credentials",
        "bearer.txt",
        b"fy_row_ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    )?;
    put("sign_up_fields", "date.txt", b"2004-05-17")?;
    put("sign_up_fields", "handle.txt", b"lena.k_99")?;
    put(
        "sign_up_fields",
        "regions.txt",
        b"eu=DE,FR;us=US;row=;default=row",
    )?;
    put("sign_up_fields", "bad-date.txt", b"2000-+1-+1")?;
    Ok(())
}
