//! Erasure: a person, or a video, with everything attached.

use super::{account, eu, event, video, Open};
use crate::{AccessRecord, Settings, Sound, TokenRecord};
use foryou_types::{CommentId, EventKind, EventRecord, Role, SoundId, UserId, VideoId};

/// A person erased with their videos, sessions, settings, likes, saves, comments and comment
/// likes, their sounds and the staff records naming them anonymised; then a video alone. The
/// store opened by `open` is dropped at the end (so a backend's files can be scanned after).
pub fn erasure_takes_a_person_and_what_hangs_on_them(open: Open<'_>) {
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
