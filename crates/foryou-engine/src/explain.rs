//! "Why this video": reasons read off the stages that found and ranked a candidate, strongest
//! first, so every reason shown is one that actually moved the item onto the page.

use crate::pipeline::{Candidate, Lift, Origin, Query};
use crate::Reason;

/// A personal signal is named as a reason when it added at least this much to the lift `z`.
const MIN_LIFT: f32 = 0.4;

/// The reasons for one candidate on the page.
pub fn reasons(q: &Query, c: &Candidate) -> Vec<Reason> {
    let s = q.state;
    let it = &s.items[c.item as usize];
    let has = |o: Origin| c.origins.contains(&o);
    let mut r = Vec::new();
    // Popularity is claimed only of what a popularity source found.
    let popular_or_newest = || {
        if has(Origin::Trending) {
            Reason::PopularInRegion
        } else if has(Origin::Worldwide) {
            Reason::PopularWorldwide
        } else {
            Reason::Newest
        }
    };
    if has(Origin::Boosted) {
        r.push(Reason::Boosted);
    }
    if q.user.is_none() {
        r.push(Reason::NotPersonalised);
        if !has(Origin::Boosted) {
            r.push(popular_or_newest());
        }
        return r;
    }
    // Personal signals that lifted the item, strongest first.
    let mut lifted: Vec<(Lift, f32)> = [
        Lift::Following,
        Lift::Creator,
        Lift::Sound,
        Lift::Hashtag,
        Lift::CoEngaged,
        Lift::Embedding,
    ]
    .into_iter()
    .map(|l| (l, c.lifts[l as usize]))
    .filter(|(_, v)| *v >= MIN_LIFT)
    .collect();
    lifted.sort_by(|a, b| b.1.total_cmp(&a.1));
    for (l, _) in lifted {
        let reason = match l {
            Lift::Following => it.creator.map(|k| Reason::FollowedCreator {
                creator: *s.creator_ids.key(k),
            }),
            Lift::Creator if !c.following => it.creator.map(|k| Reason::EngagedCreator {
                creator: *s.creator_ids.key(k),
            }),
            Lift::Sound => it.sound.map(|k| Reason::LikedSound {
                sound: *s.sound_ids.key(k),
            }),
            Lift::Hashtag => c.tag_aff.0.map(|t| Reason::Hashtag {
                tag: s.tag_ids.key(t).clone(),
            }),
            Lift::CoEngaged => c.because.map(|b| Reason::WatchedTogether {
                video: s.items[b as usize].id,
            }),
            Lift::Embedding => Some(Reason::SimilarTaste),
            Lift::Creator => None,
        };
        r.extend(reason);
    }
    if has(Origin::Fresh) || it.stage.is_some() && c.is_exploration() {
        r.push(Reason::NewVideo);
    }
    if has(Origin::Explore) && r.iter().all(|x| *x == Reason::Boosted) {
        r.push(Reason::Exploring);
    }
    if r.iter().all(|x| *x == Reason::Boosted) && !has(Origin::Boosted) {
        let by_history = [
            Origin::CoEngaged,
            Origin::Embedding,
            Origin::Batch,
            Origin::Affinity,
            Origin::Following,
        ]
        .into_iter()
        .any(has);
        r.push(
            if by_history && !has(Origin::Trending) && !has(Origin::Worldwide) {
                // Found through the user's own history, though no single signal stood out.
                Reason::SimilarTaste
            } else {
                popular_or_newest()
            },
        );
    }
    r
}
