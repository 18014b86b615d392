//! The event-log and key-store suites.

use foryou_types::UserId;

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
