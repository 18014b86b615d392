//! The record-store suite every backend passes, on a real PostgreSQL server started on
//! loopback for the test; and what only a server has: a database of another region refused,
//! the schema kept across a reopen, many threads at once through the pool.

use foryou_postgres::test_server::TestServer;
use foryou_postgres::{PgOptions, PgStore};
use foryou_store::{suite, RegionStore, StoreError};
use foryou_types::{EventKind, Region, UserId};

fn server() -> TestServer {
    TestServer::start().unwrap_or_else(|e| panic!("cannot start PostgreSQL for the test: {e}"))
}

#[test]
fn postgres_passes_the_backend_suite() {
    let pg = server();
    let open = |region: &Region| -> Box<dyn RegionStore> {
        let url = pg.database().expect("database");
        Box::new(PgStore::open(region.clone(), &url, &PgOptions::default()).expect("open"))
    };
    suite::run(&open);
}

#[test]
fn postgres_passes_the_key_suite() {
    let pg = server();
    let url = pg.database().expect("database");
    let open = || -> Box<dyn foryou_store::KeyStore> {
        let eu = Region::new("eu").expect("region");
        Box::new(foryou_postgres::PgKeys::open(eu, &url, &PgOptions::default()).expect("open"))
    };
    suite::run_keys(&open);
}

#[test]
fn a_database_keeps_its_region_and_its_records() {
    let pg = server();
    let url = pg.database().expect("database");
    let eu = Region::new("eu").expect("region");
    {
        let s = PgStore::open(eu.clone(), &url, &PgOptions::default()).expect("open");
        s.insert_account(&suite::account(&eu, 5, "kept"))
            .expect("account");
        s.apply(&[suite::event(&eu, 1, UserId(5), EventKind::Like, 9)])
            .expect("apply");
    }
    // Reopened: migrations are not run twice, and everything is there.
    let s = PgStore::open(eu.clone(), &url, &PgOptions::default()).expect("reopen");
    assert_eq!(s.accounts().expect("accounts").len(), 1);
    assert_eq!(s.applied_seq().expect("applied"), 1);
    // Another region's node may not open it.
    let us = Region::new("us").expect("region");
    match PgStore::open(us, &url, &PgOptions::default()) {
        Err(StoreError::Backend { message, .. }) => {
            assert!(message.contains("holds region 'eu'"), "{message}")
        }
        Err(e) => panic!("unexpected error: {e}"),
        Ok(_) => panic!("a us store opened the eu database"),
    }
}

#[test]
fn one_node_holds_a_regions_lease_until_it_stops_renewing() {
    use foryou_postgres::Lease;
    use std::time::Duration;
    let pg = server();
    let url = pg.database().expect("database");
    let eu = Region::new("eu").expect("region");
    let ttl = Duration::from_millis(800);
    let a = Lease::new(eu.clone(), &url, "node-a", ttl, &PgOptions::default())
        .expect("lease")
        .with_address("http://10.0.0.1:8080");
    let b = Lease::new(eu, &url, "node-b", ttl, &PgOptions::default()).expect("lease");
    assert_eq!(a.try_acquire().expect("acquire"), Ok(()));
    assert_eq!(
        a.try_acquire().expect("again"),
        Ok(()),
        "the holder takes it again"
    );
    let held = b
        .try_acquire()
        .expect("acquire")
        .expect_err("b took a held lease");
    assert_eq!(held.owner, "node-a");
    assert_eq!(held.address, "http://10.0.0.1:8080", "where to forward to");
    assert!(
        held.expires_in_ms > 0 && held.expires_in_ms <= 800,
        "{held:?}"
    );
    assert!(a.renew().expect("renew"));
    assert!(
        !b.renew().expect("renew"),
        "b renewed a lease it does not hold"
    );
    // a stops renewing: once the lease runs out, b takes it, and a can no longer renew.
    std::thread::sleep(Duration::from_millis(900));
    assert_eq!(b.try_acquire().expect("acquire"), Ok(()));
    assert!(!a.renew().expect("renew"));
    // A graceful release hands it over at once.
    b.release().expect("release");
    assert_eq!(a.try_acquire().expect("acquire"), Ok(()));
}

#[test]
fn a_restarted_server_is_reconnected_to() {
    let pg = server();
    let url = pg.database().expect("database");
    let eu = Region::new("eu").expect("region");
    let s = PgStore::open(eu.clone(), &url, &PgOptions::default()).expect("open");
    s.insert_account(&suite::account(&eu, 1, "before"))
        .expect("account");
    pg.restart().expect("restart");
    // The pooled connection is dead; the next call makes a new one.
    s.insert_account(&suite::account(&eu, 2, "after"))
        .expect("account after a restart");
    assert_eq!(s.accounts().expect("accounts").len(), 2);
}

#[test]
fn many_threads_share_a_small_pool() {
    let pg = server();
    let url = pg.database().expect("database");
    let eu = Region::new("eu").expect("region");
    let opts = PgOptions {
        max_connections: 3,
        ..PgOptions::default()
    };
    let s = std::sync::Arc::new(PgStore::open(eu.clone(), &url, &opts).expect("open"));
    let threads: Vec<_> = (0..12u64)
        .map(|t| {
            let s = std::sync::Arc::clone(&s);
            let eu = eu.clone();
            std::thread::spawn(move || {
                for n in 0..10u64 {
                    let id = 1_000 + t * 100 + n;
                    s.insert_account(&suite::account(&eu, id, &format!("h{id}")))
                        .expect("account");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("thread");
    }
    assert_eq!(s.accounts().expect("accounts").len(), 120);
}

#[test]
fn an_unreachable_server_is_an_error_not_a_hang() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let eu = Region::new("eu").expect("region");
    let t = std::time::Instant::now();
    let r = PgStore::open(
        eu,
        &format!("postgres://foryou@127.0.0.1:{port}/x"),
        &PgOptions::default(),
    );
    assert!(matches!(r, Err(StoreError::Backend { .. })));
    assert!(t.elapsed() < std::time::Duration::from_secs(15));
}
