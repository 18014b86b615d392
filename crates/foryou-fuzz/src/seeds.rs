//! The generated part of the seed corpora: valid files of each shape and the attacks seen on
//! `main`. Files found by fuzzing are added beside them by hand.

use anyhow::Result;
use foryou_media::synth::{clip_mp4, ClipSpec};
use std::path::Path;

fn ebml(id: u64, body: &[u8]) -> Vec<u8> {
    let mut out: Vec<u8> = id
        .to_be_bytes()
        .iter()
        .copied()
        .skip_while(|&b| b == 0)
        .collect();
    out.push(0x01);
    out.extend_from_slice(&(body.len() as u64).to_be_bytes()[1..]);
    out.extend_from_slice(body);
    out
}

/// A WebM with the elements a browser recording has (header, info, tracks, a cluster).
fn webm() -> Vec<u8> {
    let head = ebml(0x1A45_DFA3, &ebml(0x4282, b"webm"));
    let info = [
        ebml(0x2A_D7B1, &[0x0F, 0x42, 0x40]),
        ebml(0x4489, &5000.0f64.to_be_bytes()),
    ]
    .concat();
    let video = [ebml(0xB0, &[0x02, 0xD0]), ebml(0xBA, &[0x05, 0x00])].concat();
    let entry = [ebml(0x83, &[1]), ebml(0x86, b"V_VP9"), ebml(0xE0, &video)].concat();
    let audio = [ebml(0x83, &[2]), ebml(0x86, b"A_OPUS")].concat();
    let tracks = ebml(
        0x1654_AE6B,
        &[ebml(0xAE, &entry), ebml(0xAE, &audio)].concat(),
    );
    let block = |rel: i16| {
        ebml(
            0xA3,
            &[&[0x81][..], &rel.to_be_bytes(), &[0x80, 1, 2, 3]].concat(),
        )
    };
    let cluster = ebml(
        0x1F43_B675,
        &[ebml(0xE7, &[0x13, 0x88]), block(0), block(2500)].concat(),
    );
    [
        head,
        ebml(
            0x1853_8067,
            &[ebml(0x1549_A966, &info), tracks, cluster].concat(),
        ),
    ]
    .concat()
}

fn nested_webm() -> Vec<u8> {
    let mut d = vec![0x1A, 0x45, 0xDF, 0xA3, 0x87, 0x42, 0x82, 0x84];
    d.extend_from_slice(b"webm");
    for _ in 0..200 {
        d.extend_from_slice(&[0x18, 0x53, 0x80, 0x67, 0xFF]);
    }
    d
}

fn huge_box_mp4() -> Vec<u8> {
    let mut d = vec![0, 0, 0, 16];
    d.extend_from_slice(b"ftypisom\0\0\0\0");
    d.extend_from_slice(&[0, 0, 0, 1]);
    d.extend_from_slice(b"mdat");
    d.extend_from_slice(&u64::MAX.to_be_bytes());
    d.resize(148, 0);
    d
}

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
    put("probe", "recording.webm", &webm())?;
    put("probe", "nested-unknown-size.webm", &nested_webm())?;
    put("probe", "box-size-all-ones.mp4", &huge_box_mp4())?;
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
