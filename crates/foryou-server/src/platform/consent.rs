//! Verifiable parental consent for an under-13 account. A child (or anyone) gives a parent's
//! e-mail address; the server keeps only that address and a hash of a random token
//! (`DATA/consent/pending`, expiring after 72 hours) and writes the message with the link to the
//! outbox folder the operator's mail system sends from (`DATA/outbox/`, one `.eml` file per
//! message). Nothing about the child is asked or kept. The parent opens the link, signs in with
//! their own adult account and makes the supervised account: private, not findable, unable to
//! comment or be followed, not personalised, in restricted mode with a daily limit, and linked to
//! the parent (see `family`). The pending record is then deleted.

use super::settings::{band, Band};
use super::*;
use foryou_store::{CommentPolicy, Family};

/// How long a consent link stays valid.
const PENDING_MS: u64 = 72 * 3_600_000;
/// Most pending requests kept; past it new ones are refused until some expire.
const MAX_PENDING: usize = 100_000;
/// The supervised account's daily limit until the parent changes it, minutes.
const SUPERVISED_LIMIT_MIN: u32 = 60;

/// One pending request: the parent's address and the hash of the token sent to it.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct Pending {
    token_hash: String,
    email: String,
    expires_ms: u64,
}

/// The pending requests, kept in `DATA/consent/pending` (rewritten whole on each change).
pub(crate) struct Consents {
    dir: PathBuf,
    outbox: PathBuf,
    pending: Mutex<Vec<Pending>>,
}

fn token_hash(token: &str) -> String {
    use sha2::{Digest, Sha256};
    crate::auth::hex(&Sha256::digest(token.as_bytes()))
}

/// A plausible e-mail address: one `@`, a dotted domain, printable ASCII without spaces, at
/// most 254 characters.
fn check_email(e: &str) -> Result<String, PlatformError> {
    let e = e.trim();
    let bad = || {
        PlatformError::unprocessable(
            "invalid",
            "parent_email: give your parent's e-mail address, like name@example.com",
        )
    };
    if e.len() > 254 || !e.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad());
    }
    let (local, domain) = e.split_once('@').ok_or_else(bad)?;
    if local.is_empty()
        || domain.contains('@')
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
        || e.contains(['<', '>', '"', '\\', ',', ';'])
    {
        return Err(bad());
    }
    Ok(e.to_string())
}

impl Consents {
    /// Opens the pending requests in `data_dir/consent`, dropping expired ones.
    pub fn open(data_dir: &Path) -> Result<Consents, PlatformError> {
        let dir = data_dir.join("consent");
        let outbox = data_dir.join("outbox");
        std::fs::create_dir_all(&dir).map_err(PlatformError::internal)?;
        std::fs::create_dir_all(&outbox).map_err(PlatformError::internal)?;
        let now = now_ms();
        let pending: Vec<Pending> = std::fs::read(dir.join("pending"))
            .ok()
            .and_then(|b| serde_json::from_slice::<Vec<Pending>>(&b).ok())
            .unwrap_or_default()
            .into_iter()
            .filter(|p| p.expires_ms > now)
            .collect();
        Ok(Consents {
            dir,
            outbox,
            pending: Mutex::new(pending),
        })
    }

    fn save(&self, pending: &[Pending]) -> Result<(), PlatformError> {
        let bytes = serde_json::to_vec(pending).map_err(PlatformError::internal)?;
        write_atomically(&self.dir.join("pending"), &bytes).map_err(PlatformError::internal)
    }
}

/// What a consent link says before the parent acts.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ConsentRequest {
    /// The address it was sent to, partly masked.
    pub sent_to: String,
    /// When the link stops working, Unix ms.
    pub expires_ms: u64,
}

/// The supervised account the parent makes.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupervisedAccount {
    /// The child's handle.
    pub handle: String,
    /// The child's password.
    pub password: String,
    /// The child's date of birth (under 13).
    pub birthdate: String,
    /// The child's country (their home region follows from it).
    pub country: String,
}

fn mask(email: &str) -> String {
    match email.split_once('@') {
        Some((l, d)) => format!("{}…@{d}", l.chars().next().unwrap_or('?')),
        None => "…".into(),
    }
}

impl Platform {
    /// Asks a parent for consent: writes the message with a one-time link to the outbox. The
    /// answer is the same whatever the address.
    pub fn request_consent(&self, parent_email: &str) -> Result<(), PlatformError> {
        let email = check_email(parent_email)?;
        let mut secret = [0u8; 32];
        rand::thread_rng().fill(&mut secret[..]);
        let token = crate::auth::hex(&secret);
        let now = now_ms();
        let c = &self.consents;
        let mut pending = c.pending.lock().map_err(lock_err)?;
        pending.retain(|p| p.expires_ms > now);
        if pending.len() >= MAX_PENDING {
            return Err(PlatformError::new(
                Kind::TooMany,
                "too_many_requests",
                "too many consent requests are waiting; try again later",
            ));
        }
        let mut next = pending.clone();
        next.push(Pending {
            token_hash: token_hash(&token),
            email: email.clone(),
            expires_ms: now + PENDING_MS,
        });
        c.save(&next)?;
        *pending = next;
        let link = format!(
            "{}/#/consent/{token}",
            self.config.public_url.trim_end_matches('/')
        );
        let message = format!(
            "To: {email}\r\nSubject: Your child asked to join Foryou\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
             Someone asked for a supervised Foryou account for a child under 13, giving this address as their parent's.\r\n\r\n\
             If that is your child and you agree, open this link within 72 hours, sign in with your own account\r\n\
             (or make one), and set up their account:\r\n\r\n  {link}\r\n\r\n\
             A supervised account is private, cannot be found, followed or commented on, shows no mature videos,\r\n\
             learns nothing about your child, and stops for the day after the limit you set. You can change its\r\n\
             settings or erase it at any time from your Family page.\r\n\r\n\
             If you did not expect this message, ignore it: nothing about the child was stored, and the request\r\n\
             expires on its own.\r\n"
        );
        let name = format!("{now}-{}.eml", &token_hash(&token)[..12]);
        write_atomically(&c.outbox.join(name), message.as_bytes())
            .map_err(PlatformError::internal)?;
        Ok(())
    }

    fn pending(&self, token: &str) -> Result<Pending, PlatformError> {
        let h = token_hash(token);
        let now = now_ms();
        self.consents
            .pending
            .lock()
            .map_err(lock_err)?
            .iter()
            .find(|p| p.token_hash == h && p.expires_ms > now)
            .cloned()
            .ok_or_else(|| {
                PlatformError::not_found(
                    "this consent link is not valid (links work once, for 72 hours); ask your child to send a new one",
                )
            })
    }

    /// What a consent link is about (for the page the parent opens).
    pub fn consent_request(&self, token: &str) -> Result<ConsentRequest, PlatformError> {
        let p = self.pending(token)?;
        Ok(ConsentRequest {
            sent_to: mask(&p.email),
            expires_ms: p.expires_ms,
        })
    }

    /// The signed-in parent consents and makes the supervised account; the pending record goes.
    pub fn confirm_consent(
        &self,
        parent: &Caller,
        token: &str,
        child: SupervisedAccount,
    ) -> Result<Account, PlatformError> {
        let p = self.pending(token)?;
        let adult = self
            .world
            .read()
            .map_err(lock_err)?
            .users
            .get(&parent.user)
            .is_some_and(|u| u.band() == Band::Adult);
        if !adult {
            return Err(PlatformError::forbidden(
                "only a parent's (adult) account can consent; sign in with yours",
            ));
        }
        let birth = parse_date(&child.birthdate)?;
        if band(birth) != Band::Child {
            return Err(PlatformError::unprocessable(
                "not_under_13",
                "birthdate: supervised accounts are for children under 13; a teen signs up and links to you with Family Pairing",
            ));
        }
        let link = Family {
            guardian: parent.user,
            supervised: true,
            daily_limit_min: Some(SUPERVISED_LIMIT_MIN),
            restricted: true,
            comments: Some(CommentPolicy::Nobody),
            may_be_public: false,
            since_ms: now_ms(),
        };
        let account = self.insert_account(
            &child.handle,
            &child.password,
            &child.birthdate,
            &child.country,
            Role::User,
            Some(link),
        )?;
        let h = token_hash(token);
        let mut pending = self.consents.pending.lock().map_err(lock_err)?;
        let next: Vec<Pending> = pending
            .iter()
            .filter(|q| q.token_hash != h && q.email != p.email)
            .cloned()
            .collect();
        self.consents.save(&next)?;
        *pending = next;
        Ok(account)
    }
}
