//! The schema, applied on open: numbered migrations, each run once in its own transaction, the
//! last one applied kept in `meta`. A database holds one region's records; the region is written
//! on first open and checked on every later one, so a store never opens another region's data.

/// The migrations, in order. Ids are `bigint` (the u64 bit pattern); records are JSON in `bytea`
/// beside the columns their queries need.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: the records and the tables derived from the event log.
    "CREATE TABLE accounts (id bigint PRIMARY KEY, handle_lower text NOT NULL UNIQUE, data bytea NOT NULL);
     CREATE TABLE tokens (hash bytea PRIMARY KEY, user_id bigint NOT NULL, data bytea NOT NULL);
     CREATE INDEX tokens_user ON tokens (user_id);
     CREATE TABLE settings (user_id bigint PRIMARY KEY, data bytea NOT NULL);
     CREATE TABLE family (minor bigint PRIMARY KEY, guardian bigint NOT NULL, data bytea NOT NULL);
     CREATE TABLE videos (id bigint PRIMARY KEY, creator bigint NOT NULL, data bytea NOT NULL);
     CREATE INDEX videos_creator ON videos (creator);
     CREATE TABLE sounds (id bigint PRIMARY KEY, creator bigint NOT NULL, origin bigint NOT NULL, data bytea NOT NULL);
     CREATE TABLE follows (a bigint NOT NULL, b bigint NOT NULL, v bigint NOT NULL, PRIMARY KEY (a, b));
     CREATE INDEX follows_b ON follows (b);
     CREATE TABLE likes (a bigint NOT NULL, b bigint NOT NULL, v bigint NOT NULL, PRIMARY KEY (a, b));
     CREATE INDEX likes_b ON likes (b);
     CREATE TABLE saves (a bigint NOT NULL, b bigint NOT NULL, v bigint NOT NULL, PRIMARY KEY (a, b));
     CREATE INDEX saves_b ON saves (b);
     CREATE TABLE comment_likes (a bigint NOT NULL, b bigint NOT NULL, v bigint NOT NULL, PRIMARY KEY (a, b));
     CREATE INDEX comment_likes_b ON comment_likes (b);
     CREATE INDEX comment_likes_v ON comment_likes (v);
     CREATE TABLE approvals (a bigint NOT NULL, b bigint NOT NULL, v smallint NOT NULL, PRIMARY KEY (a, b));
     CREATE TABLE comments (id bigint PRIMARY KEY, author bigint NOT NULL, video bigint NOT NULL, data bytea NOT NULL);
     CREATE INDEX comments_author ON comments (author);
     CREATE INDEX comments_video ON comments (video);
     CREATE TABLE counts (video bigint PRIMARY KEY, views bigint NOT NULL, shares bigint NOT NULL);
     CREATE TABLE access (seq bigint PRIMARY KEY, data bytea NOT NULL);
     CREATE TABLE reports (id bigint PRIMARY KEY, creator bigint NOT NULL, video bigint, data bytea NOT NULL);
     CREATE TABLE positions (name text PRIMARY KEY, seq bigint NOT NULL);
     INSERT INTO positions VALUES ('applied', 0);",
    // 2: the keys the region's log records are sealed under (see `keys.rs`).
    "CREATE TABLE subject_keys (subject bigint PRIMARY KEY, id bytea NOT NULL UNIQUE, secret bytea NOT NULL);",
    // 3: who serves the region now (see `lease.rs`).
    "CREATE TABLE leases (name text PRIMARY KEY, owner text NOT NULL, expires_at timestamptz NOT NULL);",
    // 4: where the lease's holder takes requests, so standing-by nodes can forward to it.
    "ALTER TABLE leases ADD COLUMN address text NOT NULL DEFAULT '';",
    // 5: named documents the region keeps about itself (`RegionStore::state`).
    "CREATE TABLE state (name text PRIMARY KEY, data bytea NOT NULL);",
    // 6: the transparency log's entries, when this database is its home (`RegionStore::journal`).
    "CREATE TABLE journal (idx bigint PRIMARY KEY, data bytea NOT NULL);",
];

/// Creates `meta` if need be, checks or records the region, and runs the migrations not yet
/// applied (each in a serializable transaction, so two nodes opening at once apply each once).
pub(crate) fn sql_for_meta() -> &'static str {
    "CREATE TABLE IF NOT EXISTS meta (key text PRIMARY KEY, value text NOT NULL)"
}
