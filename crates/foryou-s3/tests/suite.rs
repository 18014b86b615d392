//! The object-store suite every backend passes, on a real S3 service (SeaweedFS, started on
//! loopback for the test), with signed requests; and what only a remote store has: a wrong
//! secret refused, a prefix keeping regions apart in one bucket.

use foryou_media::ObjectStore;
use foryou_s3::test_server::{TestS3, ACCESS_KEY, SECRET_KEY};
use foryou_s3::Credentials;
use foryou_s3::{Location, S3Store};

fn server() -> TestS3 {
    TestS3::start().unwrap_or_else(|e| panic!("cannot start the S3 service for the test: {e}"))
}

fn open(url: &str, secret: &str) -> Result<S3Store, foryou_media::StoreError> {
    let loc = Location::parse(url).expect("location");
    S3Store::with_credentials(&loc, Credentials::new(ACCESS_KEY, secret))
}

#[test]
fn s3_passes_the_backend_suite_and_keeps_prefixes_apart() {
    let s3 = server();
    let scratch = std::env::temp_dir().join(format!("foryou-s3-scratch-{}", std::process::id()));
    let eu = open(
        &format!("{}&prefix=eu/", s3.url("foryou-media")),
        SECRET_KEY,
    )
    .expect("open");
    foryou_media::suite::run(&eu, &scratch);
    // Two regions in one bucket see only their own keys.
    let us = open(
        &format!("{}&prefix=us/", s3.url("foryou-media")),
        SECRET_KEY,
    )
    .expect("open");
    eu.put("videos/1.mp4", b"eu").expect("put");
    us.put("videos/1.mp4", b"us").expect("put");
    assert_eq!(eu.read_range("videos/1.mp4", 0, 10).expect("read"), b"eu");
    assert_eq!(us.keys().expect("keys"), ["videos/1.mp4"]);
    eu.delete("videos/1.mp4").expect("delete");
    assert_eq!(us.size("videos/1.mp4").expect("size"), Some(2));
    let _ = std::fs::remove_dir_all(&scratch);
}

#[test]
fn a_wrong_secret_is_refused_and_not_repeated() {
    let s3 = server();
    let err = open(&s3.url("foryou-secret"), "not-the-secret-at-all")
        .expect_err("opened with a wrong secret")
        .to_string();
    assert!(
        err.contains("403")
            || err.contains("SignatureDoesNotMatch")
            || err.contains("AccessDenied"),
        "{err}"
    );
    assert!(!err.contains("not-the-secret-at-all"), "{err}");
}
