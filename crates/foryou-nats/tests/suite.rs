//! The event-log suite every backend passes, on a real nats-server with JetStream (started on
//! loopback for the test); and what only a server has: the log survives the server's kill -9,
//! one region's stream is not another's.

use foryou_nats::test_server::TestNats;
use foryou_nats::NatsLog;
use foryou_store::EventLog;
use foryou_types::Region;

fn server() -> TestNats {
    TestNats::start().unwrap_or_else(|e| panic!("cannot start nats-server for the test: {e}"))
}

#[test]
fn jetstream_passes_the_log_suite_and_survives_kill_9() {
    let mut nats = server();
    let eu = Region::new("eu").expect("region");
    let log = NatsLog::open(eu.clone(), &nats.url()).expect("open");
    foryou_store::suite::run_log(&log);
    // Another region's log is its own stream.
    let us = NatsLog::open(Region::new("us").expect("region"), &nats.url()).expect("open us");
    assert_eq!(us.last_seq().expect("last"), 0);
    // The server killed and started again: everything acknowledged is there, and the log goes on
    // (the connection is made again).
    nats.restart().expect("restart");
    let mut again = None;
    for _ in 0..50 {
        match log.last_seq() {
            Ok(n) => {
                again = Some(n);
                break;
            }
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(100)),
        }
    }
    assert_eq!(again, Some(2505));
    let got = log
        .append(&[foryou_store::Sealed {
            seq: 0,
            tag: [200; 32],
            body: b"after".to_vec(),
        }])
        .expect("append after restart");
    assert_eq!(got[0].seq, 2506);
    let reopened = NatsLog::open(eu, &nats.url()).expect("reopen");
    assert_eq!(reopened.read(2506, 1).expect("read")[0].body, b"after");
}

#[test]
fn an_unreachable_server_is_an_error_not_a_hang() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let t = std::time::Instant::now();
    assert!(NatsLog::open(
        Region::new("eu").expect("region"),
        &format!("nats://127.0.0.1:{port}")
    )
    .is_err());
    assert!(t.elapsed() < std::time::Duration::from_secs(15));
}

/// On a cluster of three with `replicas=3`, the log goes on when the server it was connected to
/// dies: it connects to the next, and every acknowledged record is still there.
#[test]
fn a_replicated_log_survives_losing_a_server() {
    use foryou_nats::test_server::TestCluster;
    let mut cluster =
        TestCluster::start().unwrap_or_else(|e| panic!("cannot start a nats cluster: {e}"));
    let eu = Region::new("eu").expect("region");
    // JetStream needs a moment to elect its leaders.
    let mut log = None;
    for _ in 0..100 {
        match NatsLog::open(eu.clone(), &cluster.url("replicas=3")) {
            Ok(l) => {
                log = Some(l);
                break;
            }
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(200)),
        }
    }
    let log = log.expect("a replicated stream within 20 s");
    let t = std::time::Instant::now();
    let rec = |n: u32| foryou_store::Sealed {
        seq: 0,
        tag: {
            let mut t = [1u8; 32];
            t[..4].copy_from_slice(&n.to_le_bytes());
            t
        },
        body: format!("record {n}").into_bytes(),
    };
    let first: Vec<_> = (0..50).map(rec).collect();
    assert_eq!(log.append(&first).expect("append").len(), 50);
    cluster.kill(0);
    let mut more = None;
    for _ in 0..100 {
        match log.append(&(50..60).map(rec).collect::<Vec<_>>()) {
            Ok(l) => {
                more = Some(l);
                break;
            }
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(200)),
        }
    }
    let more = more.expect("appends go on with two of three servers");
    eprintln!(
        "appends went on {} ms after the kill",
        t.elapsed().as_millis()
    );
    assert_eq!(more.last().map(|l| l.seq), Some(60));
    let all = log.read(1, 100).expect("read");
    assert_eq!(all.len(), 60);
    assert_eq!(all[59].body, b"record 59");
}

#[test]
fn the_public_feed_keeps_order_and_forgets_a_person_everywhere() {
    use foryou_nats::NatsFeed;
    use foryou_store::{PublicFeed, Publish};
    let nats = server();
    let feed = NatsFeed::open(&nats.url()).expect("open");
    let (eu, us) = (
        Region::new("eu").expect("region"),
        Region::new("us").expect("region"),
    );
    feed.publish(&eu, 7, b"seven's old profile", Publish::Append)
        .expect("publish");
    feed.publish(&eu, 7, b"a report about seven", Publish::Keep)
        .expect("publish");
    feed.publish(&eu, 8, b"eight's profile", Publish::Append)
        .expect("publish");
    // A restatement replaces what came before about that subject (not what is kept).
    feed.publish(&eu, 7, b"seven's profile", Publish::Restate)
        .expect("publish");
    feed.publish(&us, 7, b"seven liked something in us", Publish::Append)
        .expect("publish");
    feed.publish(&us, 0, b"a release", Publish::Append)
        .expect("publish");
    let all = feed.read(1, 100).expect("read");
    let bodies: Vec<(&str, &[u8])> = all
        .iter()
        .map(|(_, r, b)| (r.as_str(), b.as_slice()))
        .collect();
    assert_eq!(
        bodies,
        vec![
            ("eu", &b"a report about seven"[..]),
            ("eu", &b"eight's profile"[..]),
            ("eu", &b"seven's profile"[..]),
            ("us", &b"seven liked something in us"[..]),
            ("us", &b"a release"[..]),
        ]
    );
    assert!(all.windows(2).all(|w| w[0].0 < w[1].0), "positions grow");
    // Reading on from a position.
    assert_eq!(feed.read(all[3].0, 100).expect("read").len(), 2);
    // Erasing seven removes every message about them, whichever region published it.
    feed.forget(7).expect("forget");
    let left: Vec<Vec<u8>> = feed
        .read(1, 100)
        .expect("read")
        .into_iter()
        .map(|(_, _, b)| b)
        .collect();
    assert_eq!(
        left,
        vec![b"eight's profile".to_vec(), b"a release".to_vec()]
    );
    // A second handle on the same stream (another node) sees the same.
    let other = NatsFeed::open(&nats.url()).expect("open again");
    assert_eq!(other.read(1, 100).expect("read").len(), 2);
}
