//! The conformance suites every backend passes (feature `suite`): for a [`RegionStore`], records kept
//! and refused as the trait says, the log's effects against a model under random batches
//! (resent records, gaps), and erasure ([`run`], given a function that opens a fresh, empty store
//! of the region it is given); for an [`crate::EventLog`] and a [`crate::KeyStore`], [`run_log`]
//! and [`run_keys`].

use crate::{
    AccessRecord, Account, Family, RegionStore, Report, ReportStatus, Settings, Sound, StoreError,
    TokenRecord, Video,
};
use foryou_types::{
    parse_date, CommentId, EventKind, EventRecord, Region, Role, SoundId, UserId, VideoId,
};

mod erasure;
mod logs;
mod model;

pub use erasure::erasure_takes_a_person_and_what_hangs_on_them as run_erasure;
pub use logs::{run_keys, run_log};

/// Opens a fresh, empty store for a region.
pub type Open<'a> = &'a dyn Fn(&Region) -> Box<dyn RegionStore>;

/// Runs the whole suite; panics with what failed.
pub fn run(open: Open<'_>) {
    records_are_kept_and_refused_as_the_trait_says(open);
    the_regions_own_documents_are_kept_and_replaced(open);
    model::the_logs_effects_match_a_model(open, 12);
    erasure::erasure_takes_a_person_and_what_hangs_on_them(open);
}

fn eu() -> Region {
    Region::new("eu").expect("region")
}

/// An account of `region`.
pub fn account(region: &Region, id: u64, handle: &str) -> Account {
    Account {
        id: UserId(id),
        handle: handle.into(),
        password_hash: "h".into(),
        birthdate: parse_date("2000-01-01").expect("date"),
        country: "DE".into(),
        region: region.clone(),
        role: Role::User,
        created_ms: 1,
        locked: false,
    }
}

/// A video of `region`.
pub fn video(region: &Region, id: u64, creator: UserId) -> Video {
    Video {
        id: VideoId(id),
        creator,
        region: region.clone(),
        caption: format!("caption-of-{id}"),
        hashtags: Vec::new(),
        sound: SoundId(1),
        duration_ms: 1000,
        width: 1,
        height: 1,
        mime: "video/mp4".into(),
        video_codec: "avc1".into(),
        audio_codec: None,
        media_key: format!("m{id}"),
        poster_key: format!("p{id}"),
        poster_mime: "image/png".into(),
        size_bytes: 1,
        mature: false,
        effects: Vec::new(),
        removed: false,
        created_ms: 1,
    }
}

/// A log record at `seq`.
pub fn event(region: &Region, seq: u64, user: UserId, kind: EventKind, video: u64) -> EventRecord {
    EventRecord {
        seq,
        video: Some(VideoId(video)),
        text: (kind == EventKind::Comment).then(|| format!("quux-wrote-{seq}")),
        comment: (kind == EventKind::Comment).then_some(CommentId(900 + seq)),
        ..EventRecord::new(format!("e{seq}"), user, region.clone(), kind, 1)
    }
}

fn the_regions_own_documents_are_kept_and_replaced(open: Open<'_>) {
    let s = open(&eu());
    assert_eq!(s.state("privacy-budget").expect("read"), None);
    s.set_state("privacy-budget", b"{\"spent\":1.0}")
        .expect("set");
    s.set_state("other", b"").expect("set");
    s.set_state("privacy-budget", b"{\"spent\":2.0}")
        .expect("replace");
    assert_eq!(
        s.state("privacy-budget").expect("read").as_deref(),
        Some(&b"{\"spent\":2.0}"[..])
    );
    assert_eq!(s.state("other").expect("read").as_deref(), Some(&b""[..]));
    // The journal: entries by index, the first write of an index kept, reads stop at a gap.
    assert!(s.journal(0, 10).expect("journal").is_empty());
    s.journal_put(0, b"zero").expect("put");
    s.journal_put(1, b"one").expect("put");
    s.journal_put(1, b"not one").expect("put again");
    s.journal_put(3, b"three").expect("put");
    assert_eq!(
        s.journal(0, 10).expect("journal"),
        vec![b"zero".to_vec(), b"one".to_vec()]
    );
    assert_eq!(s.journal(1, 1).expect("journal"), vec![b"one".to_vec()]);
    assert_eq!(s.journal(3, 10).expect("journal"), vec![b"three".to_vec()]);
    // A vacuum keeps them.
    s.vacuum().expect("vacuum");
    assert_eq!(s.journal(0, 10).expect("journal").len(), 2);
    assert_eq!(
        s.state("privacy-budget").expect("read").as_deref(),
        Some(&b"{\"spent\":2.0}"[..])
    );
}

fn records_are_kept_and_refused_as_the_trait_says(open: Open<'_>) {
    let eu = eu();
    let s = open(&eu);
    assert_eq!(s.region(), &eu);
    // Accounts: handles are unique whatever their case.
    s.insert_account(&account(&eu, 11, "Alpha"))
        .expect("account");
    assert!(matches!(
        s.insert_account(&account(&eu, 12, "ALPHA")),
        Err(StoreError::HandleTaken { .. })
    ));
    assert!(matches!(
        s.insert_account(&account(&Region::new("us").expect("region"), 13, "beta")),
        Err(StoreError::WrongRegion { .. })
    ));
    assert_eq!(
        s.account(UserId(11)).expect("read").map(|a| a.handle),
        Some("Alpha".into())
    );
    assert!(s.account(UserId(12)).expect("read").is_none());
    assert!(s.set_locked(UserId(11), true).expect("lock"));
    assert!(s.set_role(UserId(11), Role::Moderator).expect("role"));
    assert!(!s.set_role(UserId(99), Role::Moderator).expect("role"));
    let a = s.account(UserId(11)).expect("read").expect("there");
    assert!(a.locked && a.role == Role::Moderator);
    assert_eq!(s.accounts().expect("all").len(), 1);
    // Sessions.
    let tok = TokenRecord {
        user: UserId(11),
        region: eu.clone(),
        created_ms: 1,
        expires_ms: 2,
    };
    s.insert_token(&[7; 32], &tok).expect("token");
    assert_eq!(s.token(&[7; 32]).expect("token"), Some(tok));
    assert!(s.token(&[8; 32]).expect("token").is_none());
    assert!(s.delete_token(&[7; 32]).expect("delete"));
    assert!(!s.delete_token(&[7; 32]).expect("delete again"));
    // Settings and family links.
    assert!(s.settings(UserId(11)).expect("settings").is_none());
    let set = Settings {
        private: true,
        ..Settings::default()
    };
    s.set_settings(UserId(11), &set).expect("set");
    s.set_settings(UserId(11), &set).expect("set again");
    assert_eq!(s.settings(UserId(11)).expect("settings"), Some(set.clone()));
    assert_eq!(s.all_settings().expect("all"), vec![(UserId(11), set)]);
    let link = Family {
        guardian: UserId(11),
        supervised: false,
        daily_limit_min: Some(30),
        restricted: true,
        comments: None,
        may_be_public: false,
        since_ms: 1,
    };
    s.set_family(UserId(21), Some(&link)).expect("link");
    assert_eq!(s.families().expect("families"), vec![(UserId(21), link)]);
    s.set_family(UserId(21), None).expect("unlink");
    assert!(s.families().expect("families").is_empty());
    // Videos and sounds.
    let snd = Sound {
        id: SoundId(5),
        title: "t".into(),
        creator: UserId(11),
        region: eu.clone(),
        origin: VideoId(31),
        created_ms: 1,
    };
    s.insert_video(&video(&eu, 31, UserId(11)), Some(&snd))
        .expect("video");
    s.insert_video(&video(&eu, 32, UserId(11)), None)
        .expect("video");
    assert_eq!(s.sounds().expect("sounds"), vec![snd]);
    let mut v = video(&eu, 31, UserId(11));
    v.mature = true;
    assert!(s.update_video(&v).expect("update"));
    assert!(!s
        .update_video(&video(&eu, 99, UserId(11)))
        .expect("update absent"));
    assert_eq!(
        s.delete_video(VideoId(32)).expect("delete").map(|v| v.id),
        Some(VideoId(32))
    );
    assert!(s.delete_video(VideoId(32)).expect("delete again").is_none());
    assert_eq!(s.videos().expect("videos"), vec![v]);
    // Reports are replaced whole.
    let mut r = Report {
        id: 77,
        ts_ms: 1,
        video: Some(VideoId(31)),
        comment: None,
        creator: UserId(11),
        reason: "spam".into(),
        note: String::new(),
        reporter: "p".into(),
        status: ReportStatus::Open,
        decision: String::new(),
        appeal: String::new(),
        decided_ms: 0,
    };
    s.put_report(&r).expect("report");
    r.decision = "removed".into();
    s.put_report(&r).expect("report again");
    assert_eq!(s.reports().expect("reports"), vec![r]);
    // Access decisions get positions 1, 2, 3 and are read from a position.
    for n in 0..3 {
        let rec = AccessRecord {
            seq: 0,
            ts_ms: n,
            actor: UserId(11),
            role: Role::Admin,
            actor_region: eu.clone(),
            target_region: eu.clone(),
            purpose: "p".into(),
            category: "c".into(),
            action: format!("a{n}"),
            records: 1,
            allowed: true,
            pseudonymised: false,
            rule: "r".into(),
            verb: String::new(),
            subject: String::new(),
        };
        assert_eq!(s.record_access(&rec).expect("access"), n + 1);
    }
    let got: Vec<u64> = s
        .access_records(2, 10)
        .expect("read")
        .iter()
        .map(|r| r.seq)
        .collect();
    assert_eq!(got, [2, 3]);
    assert_eq!(s.access_records(1, 1).expect("read").len(), 1);
    // A bulk import is all or nothing.
    let fresh = account(&eu, 41, "gamma");
    assert!(matches!(
        s.import(&[fresh.clone(), account(&eu, 42, "alpha")], &[], &[]),
        Err(StoreError::HandleTaken { .. })
    ));
    assert!(
        s.account(UserId(41)).expect("read").is_none(),
        "a refused import left an account"
    );
    s.import(&[fresh], &[], &[video(&eu, 43, UserId(41))])
        .expect("import");
    assert_eq!(s.videos().expect("videos").len(), 2);
}
