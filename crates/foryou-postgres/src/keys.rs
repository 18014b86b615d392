//! The keys a region's log records are sealed under, in the region's database: [`PgKeys`]
//! implements foryou-store's [`KeyStore`]. Like the embedded key file, every key is held in
//! memory while open (a replay unseals each record with its key), a new key is committed before
//! anything is sealed under it, and a destroyed key is deleted (the store's `vacuum` after an
//! erasure rewrites the table, so no dead row keeps it).

use crate::{job, k, u, PgOptions, PgStore};
use foryou_store::{KeyStore, StoreError, SubjectKey};
use foryou_types::{Region, UserId};
use std::collections::HashMap;
use std::sync::RwLock;

/// A region's keys in its PostgreSQL database.
pub struct PgKeys {
    db: PgStore,
    cache: RwLock<Cache>,
}

#[derive(Default)]
struct Cache {
    by_subject: HashMap<UserId, SubjectKey>,
    by_id: HashMap<[u8; 16], UserId>,
}

impl Cache {
    fn insert(&mut self, key: SubjectKey) {
        self.by_id.insert(key.id, key.subject);
        self.by_subject.insert(key.subject, key);
    }
}

fn parts(subject: i64, id: &[u8], secret: &[u8]) -> Option<SubjectKey> {
    Some(SubjectKey::from_parts(
        UserId(u(subject)),
        id.try_into().ok()?,
        secret.try_into().ok()?,
    ))
}

impl PgKeys {
    /// Opens the keys of `region` in the database at `url` (the region's record database),
    /// loading them all.
    pub fn open(region: Region, url: &str, options: &PgOptions) -> Result<PgKeys, StoreError> {
        let db = PgStore::open(region, url, options)?;
        let rows: Vec<(i64, Vec<u8>, Vec<u8>)> = job!(db, [], |c| {
            let rows = c
                .query("SELECT subject, id, secret FROM subject_keys", &[])
                .await?;
            Ok(Ok(rows
                .iter()
                .map(|r| (r.get(0), r.get(1), r.get(2)))
                .collect()))
        })?;
        let mut cache = Cache::default();
        for (s, id, secret) in rows {
            let key = parts(s, &id, &secret).ok_or_else(|| StoreError::Corrupt {
                table: "subject_keys",
                message: format!("a key of subject {} has the wrong length", u(s)),
            })?;
            cache.insert(key);
        }
        Ok(PgKeys {
            db,
            cache: RwLock::new(cache),
        })
    }

    fn cache(&self) -> std::sync::RwLockReadGuard<'_, Cache> {
        self.cache.read().unwrap_or_else(|p| p.into_inner())
    }

    fn cache_mut(&self) -> std::sync::RwLockWriteGuard<'_, Cache> {
        self.cache.write().unwrap_or_else(|p| p.into_inner())
    }
}

impl KeyStore for PgKeys {
    fn get(&self, subject: UserId) -> Result<Option<SubjectKey>, StoreError> {
        Ok(self.cache().by_subject.get(&subject).cloned())
    }

    fn by_id(&self, id: &[u8; 16]) -> Result<Option<SubjectKey>, StoreError> {
        let c = self.cache();
        Ok(c.by_id.get(id).and_then(|s| c.by_subject.get(s)).cloned())
    }

    fn get_or_create(&self, subject: UserId) -> Result<SubjectKey, StoreError> {
        let mut keys = self.get_or_create_many(&[subject])?;
        keys.pop().ok_or_else(|| StoreError::Corrupt {
            table: "subject_keys",
            message: "no key made".into(),
        })
    }

    fn get_or_create_many(&self, subjects: &[UserId]) -> Result<Vec<SubjectKey>, StoreError> {
        let missing: Vec<UserId> = {
            let c = self.cache();
            let mut m: Vec<UserId> = subjects
                .iter()
                .filter(|s| !c.by_subject.contains_key(s))
                .copied()
                .collect();
            m.sort_by_key(|s| s.0);
            m.dedup();
            m
        };
        if !missing.is_empty() {
            // Made here, kept only if no other writer made one first (its key wins).
            let fresh: Vec<(i64, Vec<u8>, Vec<u8>)> = missing
                .iter()
                .map(|s| {
                    let key = SubjectKey::generate(*s);
                    (k(s.0), key.id.to_vec(), key.secret().to_vec())
                })
                .collect();
            let stored: Vec<(i64, Vec<u8>, Vec<u8>)> = job!(self.db, [fresh], |c| {
                crate::tx(&c, async {
                    let put = "INSERT INTO subject_keys VALUES ($1, $2, $3) ON CONFLICT (subject) DO NOTHING";
                    for (s, id, secret) in &fresh {
                        c.execute(put, &[s, id, secret]).await?;
                    }
                    let ids: Vec<i64> = fresh.iter().map(|f| f.0).collect();
                    let rows = c
                        .query("SELECT subject, id, secret FROM subject_keys WHERE subject = ANY($1)", &[&ids])
                        .await?;
                    Ok(Ok(rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect()))
                })
                .await
            })?;
            let mut c = self.cache_mut();
            for (s, id, secret) in stored {
                if let Some(key) = parts(s, &id, &secret) {
                    c.insert(key);
                }
            }
        }
        let c = self.cache();
        subjects
            .iter()
            .map(|s| {
                c.by_subject
                    .get(s)
                    .cloned()
                    .ok_or_else(|| StoreError::Corrupt {
                        table: "subject_keys",
                        message: format!("no key for subject {}", s.0),
                    })
            })
            .collect()
    }

    fn destroy(&self, subject: UserId) -> Result<bool, StoreError> {
        let s = k(subject.0);
        let existed: bool = job!(self.db, [], |c| {
            Ok(Ok(c
                .execute("DELETE FROM subject_keys WHERE subject = $1", &[&s])
                .await?
                == 1))
        })?;
        let mut c = self.cache_mut();
        if let Some(key) = c.by_subject.remove(&subject) {
            c.by_id.remove(&key.id);
        }
        Ok(existed)
    }
}
