//! The program starts itself again with glibc's heaps on huge pages (`alloc.rs`), and keeps an
//! operator's own choice.

use std::process::Command;

/// `foryou bench` at tiny sizes with `GLIBC_TUNABLES` set to `tunables` (unset with `None`):
/// whether its report says the heaps were on huge pages.
fn bench_heap(tunables: Option<&str>) -> bool {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_foryou"));
    cmd.args([
        "bench",
        "--videos",
        "2000",
        "--users",
        "100",
        "--events",
        "3000",
        "--requests",
        "10",
        "--ann-vectors",
        "200",
    ]);
    match tunables {
        Some(t) => cmd.env("GLIBC_TUNABLES", t),
        None => cmd.env_remove("GLIBC_TUNABLES"),
    };
    let out = cmd.output().expect("run foryou bench");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    report["heap_huge_pages"]
        .as_bool()
        .expect("heap_huge_pages in the report")
}

#[test]
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn the_heaps_go_on_huge_pages_unless_the_operator_says_otherwise() {
    assert!(
        bench_heap(None),
        "started without the tunable: the program adds it"
    );
    assert!(
        bench_heap(Some("glibc.malloc.arena_max=4")),
        "the operator's other tunables are kept and this one added"
    );
    assert!(
        !bench_heap(Some("glibc.malloc.hugetlb=0")),
        "turned off by the operator"
    );
}
