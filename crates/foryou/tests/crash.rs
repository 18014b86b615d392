//! Crash safety: what the server acknowledged survives `kill -9`, even with writes in flight.

mod common;

use common::{call, data_dir, http, start, try_upload, upload};
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;

/// What one kill -9 round acknowledged, all checked after the restart.
struct Round {
    events: usize,
    uploads: usize,
}

/// One round: a writer of events and an uploader run until the process is killed with SIGKILL;
/// after a restart every acknowledged event, like and upload (its bytes intact) is there.
fn kill_round(dir: &Path, round: usize, clip: &[u8]) -> Round {
    let server = start(dir);
    let a = server.addr;
    let handle = format!("durable{round}");
    let (s, _) = call(
        a,
        "POST",
        "/v1/accounts",
        None,
        Some(
            json!({"handle": handle, "password": "durable password", "birthdate": "1990-01-01", "country": "US"}),
        ),
    );
    assert_eq!(s, 201);
    let (_, v) = call(
        a,
        "POST",
        "/v1/sessions",
        None,
        Some(json!({"handle": handle, "password": "durable password"})),
    );
    let token = v["token"].as_str().expect("token").to_string();
    let (s, v) = upload(a, &token, clip);
    assert_eq!(s, 201, "{v}");
    let vid = v["id"].as_str().expect("id").to_string();

    // A writer keeps sending events and an uploader keeps uploading; the process is killed while
    // they do.
    let writer = {
        let (token, vid) = (token.clone(), vid.clone());
        std::thread::spawn(move || {
            let mut acked: Vec<String> = Vec::new();
            for i in 0..100_000 {
                let id = format!("r{round}-w{i}");
                let body = json!({"events": [{"id": id, "kind": "view", "video_id": vid, "watch_ms": 1500}]});
                match http(
                    a,
                    "POST",
                    "/v1/events",
                    Some(&token),
                    "application/json",
                    body.to_string().as_bytes(),
                ) {
                    Ok((200, _)) => acked.push(id),
                    _ => break,
                }
            }
            acked
        })
    };
    let uploader = {
        let (token, clip) = (token.clone(), clip.to_vec());
        std::thread::spawn(move || {
            let mut acked: Vec<String> = Vec::new();
            for _ in 0..10_000 {
                match try_upload(a, &token, &clip) {
                    Ok((201, v)) => acked.push(v["id"].as_str().unwrap_or("").to_string()),
                    _ => break,
                }
            }
            acked
        })
    };
    std::thread::sleep(Duration::from_millis(400));
    let (s, _) = call(
        a,
        "POST",
        "/v1/events",
        Some(&token),
        Some(json!({"events": [{"id": "like-1", "kind": "like", "video_id": vid}]})),
    );
    assert_eq!(s, 200);
    std::thread::sleep(Duration::from_millis(200));
    server.kill9();
    let acked = writer.join().expect("writer");
    let uploaded = uploader.join().expect("uploader");
    assert!(
        acked.len() > 5,
        "the writer got {} acknowledgements before the kill",
        acked.len()
    );

    let server = start(dir);
    let a = server.addr;
    let (s, v) = call(a, "GET", &format!("/v1/videos/{vid}"), Some(&token), None);
    assert_eq!(s, 200, "the acknowledged upload survived");
    assert_eq!(v["liked"], true, "the acknowledged like survived");
    assert!(
        v["counts"]["views"].as_u64().unwrap_or(0) >= acked.len() as u64,
        "{} views < {} acknowledged",
        v["counts"]["views"],
        acked.len()
    );
    for id in uploaded.iter().chain(std::iter::once(&vid)) {
        let (s, media) = http(
            a,
            "GET",
            &format!("/v1/videos/{id}/media"),
            None,
            "text/plain",
            b"",
        )
        .expect("media");
        assert_eq!(
            (s, media.len()),
            (200, clip.len()),
            "acknowledged upload {id}"
        );
        assert_eq!(media, clip, "the media bytes of {id} are intact");
    }
    // Every acknowledged event id is known: resending them changes nothing.
    for chunk in acked.chunks(100) {
        let events: Vec<Value> = chunk
            .iter()
            .map(|id| json!({"id": id, "kind": "view", "video_id": vid, "watch_ms": 1500}))
            .collect();
        let (s, v) = call(
            a,
            "POST",
            "/v1/events",
            Some(&token),
            Some(json!({"events": events})),
        );
        assert_eq!(s, 200);
        assert_eq!(v["accepted"], 0, "an acknowledged event was lost: {v}");
    }
    drop(server);
    Round {
        events: acked.len() + 1,
        uploads: uploaded.len() + 1,
    }
}

/// `FORYOU_KILL9_ROUNDS` rounds (1 by default; BENCHMARKS.md runs more) over one data directory,
/// so later rounds start from the state earlier kills left.
#[test]
fn acknowledged_uploads_and_events_survive_kill_9() {
    let rounds: usize = std::env::var("FORYOU_KILL9_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let dir = data_dir("ack");
    let clip = foryou_media::synth::clip_mp4(&foryou_media::synth::ClipSpec {
        seconds: 3.0,
        ..Default::default()
    });
    let (mut events, mut uploads) = (0, 0);
    for round in 0..rounds {
        let r = kill_round(&dir, round, &clip);
        events += r.events;
        uploads += r.uploads;
    }
    println!(
        "kill -9: {rounds} rounds, {events} acknowledged events and {uploads} acknowledged uploads, none lost"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
