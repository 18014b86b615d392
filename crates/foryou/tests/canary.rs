//! Canary: users in every region carry unique markers in their handle, password, birthdate,
//! captions, comments and event ids, and act across regions (follow, like, comment, view,
//! share). After a graceful stop, no file of any other region's directory (store, event log,
//! engine snapshot, privacy budget, media, temporary files) and no line of the server's log
//! holds a marker.

mod common;

use common::{call, data_dir, start_with};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

struct Person {
    region: &'static str,
    token: String,
    id: String,
    markers: Vec<Vec<u8>>,
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn no_marker_of_one_region_is_written_anywhere_else() {
    let dir = data_dir("canary");
    let log = dir.with_extension("log");
    std::fs::create_dir_all(&dir).expect("dir");
    let server = start_with(&dir, &["--log-format", "json"], Some(&log));
    let a = server.addr;
    let clip = foryou_media::synth::clip_mp4(&foryou_media::synth::ClipSpec {
        seconds: 2.0,
        ..Default::default()
    });
    // One person per region; every marker is a string no other part of the system would write.
    let mut people = Vec::new();
    for (region, country, tag, birth) in [
        ("eu", "DE", "qzeu", "1971-07-13"),
        ("us", "US", "qzus", "1982-11-27"),
        ("row", "JP", "qzrow", "1964-02-09"),
    ] {
        let handle = format!("{tag}handle");
        let password = format!("{tag}-secret-passphrase");
        let (s, v) = call(
            a,
            "POST",
            "/v1/accounts",
            None,
            Some(
                json!({"handle": handle, "password": password, "birthdate": birth, "country": country}),
            ),
        );
        assert_eq!(s, 201, "{v}");
        let id = v["id"].as_str().expect("id").to_string();
        let (_, v) = call(
            a,
            "POST",
            "/v1/sessions",
            None,
            Some(json!({"handle": handle, "password": password})),
        );
        let token = v["token"].as_str().expect("token").to_string();
        let (y, m, d) = (&birth[..4], &birth[5..7], &birth[8..]);
        let markers = vec![
            handle.into_bytes(),
            password.into_bytes(),
            birth.as_bytes().to_vec(),
            // The birthdate as a store would encode it.
            format!(
                "\"year\":{y},\"month\":{},\"day\":{}",
                m.trim_start_matches('0'),
                d.trim_start_matches('0')
            )
            .into_bytes(),
            format!("{tag}caption").into_bytes(),
            format!("{tag}comment").into_bytes(),
            format!("{tag}event").into_bytes(),
        ];
        people.push(Person {
            region,
            token,
            id,
            markers,
        });
    }
    // Each uploads a video with a marked caption (words, not hashtags).
    let mut videos = Vec::new();
    for p in &people {
        let tag = String::from_utf8_lossy(&p.markers[4]).to_string();
        let (s, v) = upload_with_caption(a, &p.token, &clip, &format!("a clip {tag} for you"));
        assert_eq!(s, 201, "{v}");
        videos.push(v["id"].as_str().expect("id").to_string());
    }
    // Everyone acts on everyone else's video and follows everyone else.
    for (i, p) in people.iter().enumerate() {
        let tag = String::from_utf8_lossy(&p.markers[6]).to_string();
        let comment = String::from_utf8_lossy(&p.markers[5]).to_string();
        for (j, other) in people.iter().enumerate() {
            if i == j {
                continue;
            }
            let vid = &videos[j];
            let events = json!({"events": [
                {"id": format!("{tag}-view-{j}"), "kind": "view", "video_id": vid, "watch_ms": 2000},
                {"id": format!("{tag}-like-{j}"), "kind": "like", "video_id": vid},
                {"id": format!("{tag}-share-{j}"), "kind": "share", "video_id": vid},
                {"id": format!("{tag}-comment-{j}"), "kind": "comment", "video_id": vid, "text": format!("nice {comment}")},
                {"id": format!("{tag}-follow-{j}"), "kind": "follow", "target": other.id},
            ]});
            let (s, v) = call(a, "POST", "/v1/events", Some(&p.token), Some(events));
            assert_eq!(s, 200, "{v}");
        }
        // Feeds are read too (the engines learn, snapshots follow at the stop).
        let (s, _) = call(a, "GET", "/v1/feed?limit=5", Some(&p.token), None);
        assert_eq!(s, 200);
    }
    server.stop();

    // The markers of each person's region appear only under that region's directory.
    let log_text = std::fs::read(&log).expect("log");
    for p in &people {
        for m in &p.markers {
            assert!(
                !contains(&log_text, m),
                "the server log holds {}",
                String::from_utf8_lossy(m)
            );
        }
        for other in people.iter().filter(|o| o.region != p.region) {
            for f in files_under(&dir.join("regions").join(other.region)) {
                let bytes = std::fs::read(&f).expect("read");
                for m in &p.markers {
                    assert!(
                        !contains(&bytes, m),
                        "{} holds {}'s marker {}",
                        f.display(),
                        p.region,
                        String::from_utf8_lossy(m)
                    );
                }
            }
        }
        // And they are where they belong: the home region holds them (the check can fail).
        let home: Vec<u8> = files_under(&dir.join("regions").join(p.region))
            .iter()
            .flat_map(|f| std::fs::read(f).unwrap_or_default())
            .collect();
        assert!(
            contains(&home, &p.markers[0]),
            "{}'s handle is not in its own store",
            p.region
        );
        assert!(
            contains(&home, &p.markers[5]),
            "{}'s comments are not in its own store",
            p.region
        );
    }
    // Nothing lives outside the regions' directories but the public transparency log and the
    // age gate's keyed hashes, which hold no marker of anyone.
    for f in files_under(&dir) {
        let rel = f.strip_prefix(&dir).expect("under dir");
        assert!(
            rel.starts_with("regions")
                || rel.starts_with("transparency")
                || rel.starts_with("agegate"),
            "a file outside every region: {}",
            rel.display()
        );
        if !rel.starts_with("regions") {
            let bytes = std::fs::read(&f).unwrap_or_default();
            for p in &people {
                for m in &p.markers {
                    assert!(
                        !contains(&bytes, m),
                        "{} holds a marker of {}",
                        rel.display(),
                        p.region
                    );
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_file(&log);
}

fn upload_with_caption(
    a: std::net::SocketAddr,
    token: &str,
    file: &[u8],
    caption: &str,
) -> (u16, Value) {
    let b = "CaNaRyBoUnDaRy";
    let mut body = format!("--{b}\r\nContent-Disposition: form-data; name=\"caption\"\r\n\r\n{caption}\r\n--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"c.mp4\"\r\nContent-Type: video/mp4\r\n\r\n").into_bytes();
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{b}--\r\n").as_bytes());
    let (s, r) = common::http(
        a,
        "POST",
        "/v1/videos",
        Some(token),
        &format!("multipart/form-data; boundary={b}"),
        &body,
    )
    .expect("upload");
    (s, serde_json::from_slice(&r).unwrap_or(Value::Null))
}
