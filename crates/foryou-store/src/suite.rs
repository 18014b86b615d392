//! The conformance suite every [`RegionStore`] backend passes (feature `suite`): records kept
//! and refused as the trait says, the log's effects against a model under random batches
//! (resent records, gaps), and erasure. Each backend's tests call [`run`] with a function that
//! opens a fresh, empty store of the region it is given.

use crate::{
    AccessRecord, Account, Effect, Family, RegionStore, Report, ReportStatus, Settings, Sound,
    StoreError, TokenRecord, Video,
};
use foryou_types::{
    parse_date, CommentId, EventKind, EventRecord, Region, Role, SoundId, UserId, VideoId,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::collections::{BTreeMap, BTreeSet};

/// Opens a fresh, empty store for a region.
pub type Open<'a> = &'a dyn Fn(&Region) -> Box<dyn RegionStore>;

/// Runs the whole suite; panics with what failed.
pub fn run(open: Open<'_>) {
    records_are_kept_and_refused_as_the_trait_says(open);
    the_logs_effects_match_a_model(open, 12);
    erasure_takes_a_person_and_what_hangs_on_them(open);
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

/// One random batch item: (kind, user, target, event id).
type Item = (u8, u8, u8, u8);

const KINDS: [EventKind; 12] = [
    EventKind::Like,
    EventKind::Unlike,
    EventKind::Follow,
    EventKind::Unfollow,
    EventKind::Save,
    EventKind::Unsave,
    EventKind::LikeComment,
    EventKind::UnlikeComment,
    EventKind::ApproveFollower,
    EventKind::DeclineFollower,
    EventKind::View,
    EventKind::Share,
];

fn record(region: &Region, (kind, user, target, _): Item, seq: u64) -> EventRecord {
    let kind = KINDS[kind as usize % KINDS.len()];
    let t = u64::from(target);
    let person = matches!(
        kind,
        EventKind::Follow
            | EventKind::Unfollow
            | EventKind::ApproveFollower
            | EventKind::DeclineFollower
    );
    EventRecord {
        seq,
        video: (!person).then_some(VideoId(t + 100)),
        creator: person.then_some(UserId(t + 50)),
        // Comment `t + 700` is on video `t + 100`.
        comment: matches!(kind, EventKind::LikeComment | EventKind::UnlikeComment)
            .then_some(CommentId(t + 700)),
        ..EventRecord::new(
            format!("ev{seq}"),
            UserId(u64::from(user) + 1),
            region.clone(),
            kind,
            1_000 + seq,
        )
    }
}

#[derive(Default)]
struct Model {
    likes: BTreeSet<(u64, u64)>,
    saves: BTreeSet<(u64, u64)>,
    follows: BTreeSet<(u64, u64)>,
    comment_likes: BTreeSet<(u64, u64)>,
    approvals: BTreeMap<(u64, u64), bool>,
    counts: BTreeMap<u64, (u64, u64)>,
}

impl Model {
    /// Applies a record; whether it changed a pair table.
    fn apply(&mut self, r: &EventRecord) -> bool {
        let v = (r.user.0, r.video.map_or(0, |v| v.0));
        let p = (r.user.0, r.creator.map_or(0, |c| c.0));
        let c = (r.user.0, r.comment.map_or(0, |c| c.0));
        match r.kind {
            EventKind::Like => self.likes.insert(v),
            EventKind::Unlike => self.likes.remove(&v),
            EventKind::Save => self.saves.insert(v),
            EventKind::Unsave => self.saves.remove(&v),
            EventKind::Follow => self.follows.insert(p),
            EventKind::Unfollow => self.follows.remove(&p),
            EventKind::LikeComment => self.comment_likes.insert(c),
            EventKind::UnlikeComment => self.comment_likes.remove(&c),
            EventKind::ApproveFollower | EventKind::DeclineFollower => {
                let yes = r.kind == EventKind::ApproveFollower;
                self.approvals.insert(p, yes) != Some(yes)
            }
            EventKind::View | EventKind::Share => {
                let e = self.counts.entry(v.1).or_default();
                if r.kind == EventKind::View {
                    e.0 += 1;
                } else {
                    e.1 += 1;
                }
                false
            }
            _ => false,
        }
    }

    fn check(&self, s: &dyn RegionStore) -> Result<(), TestCaseError> {
        let set = |v: Vec<(u64, u64)>| v.into_iter().collect::<BTreeSet<_>>();
        prop_assert_eq!(
            &set(s
                .likes()
                .expect("likes")
                .into_iter()
                .map(|(a, b)| (a.0, b.0))
                .collect()),
            &self.likes
        );
        prop_assert_eq!(
            &set(s
                .saves()
                .expect("saves")
                .into_iter()
                .map(|(a, b, _)| (a.0, b.0))
                .collect()),
            &self.saves
        );
        prop_assert_eq!(
            &set(s
                .follows()
                .expect("follows")
                .into_iter()
                .map(|(a, b)| (a.0, b.0))
                .collect()),
            &self.follows
        );
        prop_assert_eq!(
            &set(s
                .comment_likes()
                .expect("comment likes")
                .into_iter()
                .map(|(a, b)| (a.0, b.0))
                .collect()),
            &self.comment_likes
        );
        let approvals: BTreeMap<(u64, u64), bool> = s
            .approvals()
            .expect("approvals")
            .into_iter()
            .map(|(a, b, y)| ((a.0, b.0), y))
            .collect();
        prop_assert_eq!(&approvals, &self.approvals);
        let counts: BTreeMap<u64, (u64, u64)> = s
            .view_share_counts()
            .expect("counts")
            .into_iter()
            .map(|(v, a, b)| (v.0, (a, b)))
            .collect();
        prop_assert_eq!(&counts, &self.counts);
        Ok(())
    }
}

fn the_logs_effects_match_a_model(open: Open<'_>, cases: u32) {
    let batches = prop::collection::vec(
        prop::collection::vec((0u8..12, 0u8..3, 0u8..4, 0u8..12), 1..6),
        1..8,
    );
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&batches, |batches| {
        let eu = eu();
        let s = open(&eu);
        let mut model = Model::default();
        let mut seq = 0u64;
        for items in batches {
            let batch: Vec<EventRecord> = items
                .iter()
                .map(|&it| {
                    seq += 1;
                    record(&eu, it, seq)
                })
                .collect();
            let effects = s.apply(&batch).expect("apply");
            for (r, e) in batch.iter().zip(&effects) {
                let changed = model.apply(r);
                prop_assert_eq!(changed, *e != Effect::None, "{:?} gave {:?}", r.kind, e);
            }
            // Offered again (a consumer that restarted), nothing changes.
            let again = s.apply(&batch).expect("apply again");
            prop_assert!(again.iter().all(|e| *e == Effect::None));
            prop_assert_eq!(s.applied_seq().expect("applied"), seq);
            model.check(s.as_ref())?;
        }
        // A record past the next position is refused and changes nothing.
        let mut r = record(&eu, (0, 0, 0, 0), seq + 2);
        r.kind = EventKind::Like;
        let refused = s.apply(&[r]);
        prop_assert!(
            matches!(refused, Err(StoreError::Gap { .. })),
            "a gap was accepted"
        );
        prop_assert_eq!(s.applied_seq().expect("applied"), seq);
        model.check(s.as_ref())?;
        Ok(())
    });
    if let Err(e) = result {
        panic!("the store's effects differ from the model: {e}");
    }
}

fn erasure_takes_a_person_and_what_hangs_on_them(open: Open<'_>) {
    let eu = eu();
    let s = open(&eu);
    let gone = UserId(4_111_222_333_444);
    let kept = UserId(4_555_666_777_888);
    s.insert_account(&account(&eu, gone.0, "zorblaxian"))
        .expect("account");
    s.insert_account(&account(&eu, kept.0, "keeper"))
        .expect("account");
    s.insert_token(
        &[1; 32],
        &TokenRecord {
            user: gone,
            region: eu.clone(),
            created_ms: 1,
            expires_ms: 2,
        },
    )
    .expect("token");
    s.set_settings(gone, &Settings::default())
        .expect("settings");
    s.insert_video(&video(&eu, 71, gone), None).expect("video");
    s.insert_video(&video(&eu, 72, kept), None).expect("video");
    let snd = Sound {
        id: SoundId(9),
        title: "zorblaxian's tune".into(),
        creator: gone,
        region: eu.clone(),
        origin: VideoId(71),
        created_ms: 1,
    };
    s.insert_video(&video(&eu, 73, kept), Some(&snd))
        .expect("video with their sound");
    let access = AccessRecord {
        seq: 0,
        ts_ms: 1,
        actor: kept,
        role: Role::Admin,
        actor_region: eu.clone(),
        target_region: eu.clone(),
        purpose: "about zorblaxian".into(),
        category: "c".into(),
        action: format!("read user {}", gone.0),
        records: 1,
        allowed: true,
        pseudonymised: false,
        rule: "r".into(),
        verb: String::new(),
        subject: String::new(),
    };
    s.record_access(&access).expect("access");
    s.apply(&[
        event(&eu, 1, gone, EventKind::Comment, 72),
        event(&eu, 2, kept, EventKind::Comment, 71),
        event(&eu, 3, kept, EventKind::Like, 71),
        event(&eu, 4, kept, EventKind::Comment, 72),
        event(&eu, 5, gone, EventKind::Like, 72),
        event(&eu, 6, gone, EventKind::Save, 72),
        event(&eu, 7, kept, EventKind::Save, 71),
        EventRecord {
            comment: Some(CommentId(904)),
            ..event(&eu, 8, gone, EventKind::LikeComment, 72)
        },
        EventRecord {
            comment: Some(CommentId(901)),
            ..event(&eu, 9, kept, EventKind::LikeComment, 72)
        },
        event(&eu, 10, kept, EventKind::View, 71),
    ])
    .expect("apply");
    let erased = s.erase(Some(gone), &[]).expect("erase");
    assert!(erased.account);
    assert_eq!(
        erased.videos.iter().map(|v| v.id).collect::<Vec<_>>(),
        [VideoId(71)]
    );
    let mut comments = erased.comments.clone();
    comments.sort_by_key(|c| c.0);
    assert_eq!(
        comments,
        [CommentId(901), CommentId(902)],
        "their comment and the one on their video"
    );
    s.vacuum().expect("vacuum");
    assert!(s.account(gone).expect("account").is_none());
    assert!(s.account(kept).expect("account").is_some());
    assert!(s.token(&[1; 32]).expect("token").is_none());
    assert!(s.settings(gone).expect("settings").is_none());
    assert!(s.likes().expect("likes").is_empty());
    assert!(s.saves().expect("saves").is_empty());
    assert_eq!(
        s.comment_likes().expect("comment likes"),
        [(kept, CommentId(901))]
    );
    assert_eq!(
        s.erase_comment_likes(&erased.comments)
            .expect("erase comment likes"),
        1
    );
    assert!(s.comment_likes().expect("comment likes").is_empty());
    let texts: Vec<String> = s
        .comments()
        .expect("comments")
        .into_iter()
        .map(|c| c.text)
        .collect();
    assert_eq!(texts, ["quux-wrote-4"]);
    assert!(s
        .view_share_counts()
        .expect("counts")
        .iter()
        .all(|(v, _, _)| *v != VideoId(71)));
    let sounds = s.sounds().expect("sounds");
    assert_eq!(
        (
            sounds[0].creator,
            sounds[0].origin,
            sounds[0].title.as_str()
        ),
        (UserId(0), VideoId(0), "original sound")
    );
    let a = &s.access_records(1, 10).expect("access")[0];
    assert!(
        !a.action.contains(&gone.0.to_string()) && !a.purpose.contains("zorblaxian"),
        "{a:?}"
    );
    // Erasing a video alone takes what hangs on it, whoever's.
    s.apply(&[
        event(&eu, 11, kept, EventKind::Like, 73),
        event(&eu, 12, kept, EventKind::Comment, 73),
    ])
    .expect("apply");
    let erased = s.erase(None, &[VideoId(73)]).expect("erase video");
    assert!(!erased.account);
    assert_eq!(erased.comments, [CommentId(912)]);
    assert!(s.likes().expect("likes").is_empty());
    assert_eq!(s.videos().expect("videos").len(), 1);
    // The store carries on.
    s.apply(&[event(&eu, 13, kept, EventKind::Like, 72)])
        .expect("apply after");
    assert_eq!(s.likes().expect("likes").len(), 1);
}

/// A sealed record for the log suite: tag `t`, a body naming it.
fn sealed(t: u8, n: u32) -> crate::Sealed {
    crate::Sealed {
        seq: 0,
        tag: [t; 32],
        body: format!("body-{t}-{n}").into_bytes(),
    }
}

/// The suite every [`crate::EventLog`] backend passes, on an empty log: positions 1, 2, 3, …
/// without gaps; a resent tag (in a later batch or the same one) is a duplicate answered with
/// the first position; reads by range, across the backend's own batch sizes.
pub fn run_log(log: &dyn crate::EventLog) {
    assert_eq!(log.last_seq().expect("last"), 0);
    assert!(log.read(1, 10).expect("read").is_empty());
    let first: Vec<crate::Sealed> = (1..=3).map(|t| sealed(t, 0)).collect();
    let got = log.append(&first).expect("append");
    assert_eq!(
        got.iter().map(|l| (l.seq, l.duplicate)).collect::<Vec<_>>(),
        [(1, false), (2, false), (3, false)]
    );
    // New, resent, new, and a resend within the batch.
    let got = log
        .append(&[sealed(4, 0), sealed(2, 1), sealed(5, 0), sealed(4, 1)])
        .expect("append");
    assert_eq!(
        got.iter().map(|l| (l.seq, l.duplicate)).collect::<Vec<_>>(),
        [(4, false), (2, true), (5, false), (4, true)]
    );
    assert_eq!(log.last_seq().expect("last"), 5);
    let all = log.read(1, 100).expect("read");
    assert_eq!(
        all.iter().map(|s| s.seq).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );
    assert_eq!(all[1].tag, [2; 32]);
    assert_eq!(all[1].body, b"body-2-0", "the first copy stays");
    assert_eq!(all[3].body, b"body-4-0");
    let mid: Vec<u64> = log
        .read(2, 2)
        .expect("read")
        .iter()
        .map(|s| s.seq)
        .collect();
    assert_eq!(mid, [2, 3]);
    assert!(log.read(6, 10).expect("read past the end").is_empty());
    assert!(log.read(1, 0).expect("read none").is_empty());
    // Many more, read back whole across batches.
    for b in 0..25u32 {
        let batch: Vec<crate::Sealed> = (0..100u32)
            .map(|i| {
                let n = b * 100 + i;
                crate::Sealed {
                    seq: 0,
                    tag: {
                        let mut t = [9u8; 32];
                        t[..4].copy_from_slice(&n.to_le_bytes());
                        t
                    },
                    body: format!("bulk-{n}").into_bytes(),
                }
            })
            .collect();
        log.append(&batch).expect("append bulk");
    }
    assert_eq!(log.last_seq().expect("last"), 2505);
    let all = log.read(1, 10_000).expect("read all");
    assert_eq!(all.len(), 2505);
    assert!(all.iter().enumerate().all(|(i, s)| s.seq == i as u64 + 1));
    assert_eq!(all[2504].body, b"bulk-2499");
}

/// The suite every [`crate::KeyStore`] backend passes. `open` opens the same (initially empty)
/// keys each time it is called, so what was made or destroyed must hold across a reopen.
pub fn run_keys(open: &dyn Fn() -> Box<dyn crate::KeyStore>) {
    let same = |a: &crate::SubjectKey, b: &crate::SubjectKey| {
        a.subject == b.subject && a.id == b.id && a.secret() == b.secret()
    };
    let (one, two, three) = (UserId(11), UserId(22), UserId(33));
    let ks = open();
    assert!(ks.get(one).expect("get").is_none());
    let k1 = ks.get_or_create(one).expect("create");
    assert!(same(&ks.get(one).expect("get").expect("there"), &k1));
    assert!(
        same(&ks.get_or_create(one).expect("again"), &k1),
        "a second key was made"
    );
    assert!(same(&ks.by_id(&k1.id).expect("by id").expect("there"), &k1));
    assert!(ks.by_id(&[0; 16]).expect("by id").is_none());
    let many = ks
        .get_or_create_many(&[two, one, three, two])
        .expect("many");
    assert_eq!(
        many.iter().map(|k| k.subject).collect::<Vec<_>>(),
        [two, one, three, two]
    );
    assert!(same(&many[1], &k1) && same(&many[0], &many[3]));
    assert_ne!(
        many[0].secret(),
        many[2].secret(),
        "two subjects share a secret"
    );
    drop(ks);
    let ks = open();
    assert!(
        same(&ks.get(one).expect("get").expect("kept"), &k1),
        "a key was lost on reopen"
    );
    let k2 = ks.get(two).expect("get").expect("kept");
    assert!(ks.destroy(two).expect("destroy"));
    assert!(!ks.destroy(two).expect("destroy again"));
    assert!(ks.get(two).expect("get").is_none() && ks.by_id(&k2.id).expect("by id").is_none());
    drop(ks);
    let ks = open();
    assert!(
        ks.get(two).expect("get").is_none(),
        "a destroyed key came back"
    );
    assert!(ks.get(three).expect("get").is_some());
    let fresh = ks.get_or_create(two).expect("a new key after destruction");
    assert_ne!(fresh.secret(), k2.secret());
}
