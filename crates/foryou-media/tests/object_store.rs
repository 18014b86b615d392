//! The object-store suite every backend passes, on the local directory store.

use foryou_media::LocalObjectStore;

#[test]
fn the_local_store_passes_the_backend_suite() {
    let dir = std::env::temp_dir().join(format!("foryou-objsuite-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let store = LocalObjectStore::open(dir.join("store")).expect("open");
    foryou_media::suite::run(&store, &dir.join("scratch"));
    let _ = std::fs::remove_dir_all(&dir);
}
