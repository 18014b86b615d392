//! Checkpoints in signed notes, and witness cosignatures.
//!
//! A checkpoint (C2SP tlog-checkpoint) is three lines: the log's origin, the tree size and the
//! base64 root hash. The log signs it as a C2SP signed note with Ed25519, under a key whose name
//! is the origin; verifier keys are spelled `<name>+<key id>+<base64(0x01‖public key)>`
//! (`signed_note` does both). A witness adds C2SP tlog-cosignature/v1 lines: Ed25519 over
//! `cosignature/v1\ntime <t>\n<checkpoint body>`, the signature prefixed by the 8-byte
//! timestamp, under a key id computed with algorithm byte 0x04.

use base64::prelude::*;
use ed25519_dalek::{Signer as _, SigningKey, Verifier as _, VerifyingKey};
use signed_note::{Note, Signature, Signer, StandardSigner, StandardVerifier, Verifier};
use tlog_tiles::Checkpoint;

/// A note or key that does not check out.
#[derive(Debug, thiserror::Error)]
pub enum NoteError {
    /// A key string does not parse.
    #[error("malformed key: {0}")]
    Key(String),
    /// The note does not parse as a signed note.
    #[error("malformed signed note")]
    Malformed,
    /// No signature by the expected key, or a signature by it that is wrong.
    #[error("the checkpoint is not signed by {0}: {1}")]
    Signature(String, String),
    /// The note's text is not a checkpoint of the expected origin.
    #[error("not a checkpoint of origin '{0}'")]
    Origin(String),
    /// Signing failed.
    #[error("signing failed")]
    Sign,
}

/// Algorithm byte of Ed25519 note signatures.
const ALG_ED25519: u8 = 0x01;
/// Algorithm byte of Ed25519 tlog-cosignature/v1 signatures.
const ALG_COSIGNATURE_V1: u8 = 0x04;

/// The log's signing key: its name is the log's origin.
pub struct LogSigner {
    signer: StandardSigner,
    vkey: String,
    origin: String,
}

impl LogSigner {
    /// A new random key for `origin`; returns the private key string (to keep secret) and the
    /// signer.
    pub fn generate(origin: &str) -> Result<(String, LogSigner), NoteError> {
        if !signed_note::is_key_name_valid(origin) {
            return Err(NoteError::Key(format!(
                "'{origin}' cannot name a key: no spaces or '+'"
            )));
        }
        let (skey, _) = signed_note::generate_key(&mut rand::rngs::OsRng, origin);
        let signer = LogSigner::from_skey(&skey)?;
        Ok((skey, signer))
    }

    /// The signer of a private key string `PRIVATE+KEY+<name>+<id>+<key>`.
    pub fn from_skey(skey: &str) -> Result<LogSigner, NoteError> {
        let signer = StandardSigner::new(skey.trim()).map_err(|e| NoteError::Key(e.to_string()))?;
        let seed = key_material(skey.trim(), 4)?;
        let [ALG_ED25519, seed @ ..] = seed.as_slice() else {
            return Err(NoteError::Key("not an Ed25519 key".into()));
        };
        let seed: [u8; 32] = seed
            .try_into()
            .map_err(|_| NoteError::Key("wrong key length".into()))?;
        let public = SigningKey::from_bytes(&seed).verifying_key();
        let origin = signer.name().to_string();
        let vkey = signed_note::new_ed25519_verifier_key(&origin, &public);
        Ok(LogSigner {
            signer,
            vkey,
            origin,
        })
    }

    /// The verifier key anyone pins to check this log.
    pub fn vkey(&self) -> &str {
        &self.vkey
    }

    /// The log's origin (the key's name).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The signed note of a checkpoint of this log.
    pub fn sign(&self, size: u64, root: tlog_tiles::Hash) -> Result<Vec<u8>, NoteError> {
        let cp = Checkpoint::new(&self.origin, size, root, "").map_err(|_| NoteError::Sign)?;
        let mut note = Note::new(&cp.to_bytes(), &[]).map_err(|_| NoteError::Sign)?;
        note.add_sigs(&[&self.signer])
            .map_err(|_| NoteError::Sign)?;
        Ok(note.to_bytes())
    }
}

/// The base64 key material of a key string, after its first `n` `+`-separated fields.
fn key_material(key: &str, n: usize) -> Result<Vec<u8>, NoteError> {
    // The base64 material may itself hold '+': it is everything after the first `n` fields.
    let field = key
        .splitn(n + 1, '+')
        .nth(n)
        .ok_or_else(|| NoteError::Key("too few fields".into()))?;
    BASE64_STANDARD
        .decode(field)
        .map_err(|_| NoteError::Key("key material is not base64".into()))
}

/// A checkpoint whose log signature checked out, with the witness cosignatures that did too.
#[derive(Debug)]
pub struct Opened {
    /// The checkpoint.
    pub checkpoint: Checkpoint,
    /// The note's text (the checkpoint body).
    pub text: Vec<u8>,
    /// Names of the trusted witnesses whose cosignatures verified, with their timestamps.
    pub cosigned_by: Vec<(String, u64)>,
    /// Signature lines by keys nobody said to trust (kept when the note is passed on).
    pub other_signatures: Vec<Signature>,
}

/// Opens a signed checkpoint: its signature by the log key `log_vkey` must verify, its origin
/// must be the key's name, and every cosignature by a key in `witnesses` must verify too.
pub fn open_checkpoint(
    note: &[u8],
    log_vkey: &str,
    witnesses: &[CosignatureVerifier],
) -> Result<Opened, NoteError> {
    let log = StandardVerifier::new(log_vkey.trim())
        .map_err(|e| NoteError::Key(format!("log key: {e}")))?;
    let origin = log.name().to_string();
    let parsed = Note::from_bytes(note).map_err(|_| NoteError::Malformed)?;
    let mut list: Vec<Box<dyn Verifier>> = vec![Box::new(log)];
    for w in witnesses {
        list.push(Box::new(w.clone()));
    }
    let known = signed_note::VerifierList::new(list);
    let (verified, others) = parsed
        .verify(&known)
        .map_err(|e| NoteError::Signature(origin.clone(), e.to_string()))?;
    if !verified.iter().any(|s| s.name() == origin) {
        return Err(NoteError::Signature(
            origin,
            "no signature by the log's key".into(),
        ));
    }
    let checkpoint =
        Checkpoint::from_bytes(parsed.text()).map_err(|_| NoteError::Origin(origin.clone()))?;
    if checkpoint.origin() != origin {
        return Err(NoteError::Origin(origin));
    }
    let cosigned_by = verified
        .iter()
        .filter(|s| s.name() != origin || witnesses.iter().any(|w| w.id == s.id()))
        .filter_map(|s| {
            let ts = s.signature().get(..8)?;
            Some((
                s.name().to_string(),
                u64::from_be_bytes(ts.try_into().ok()?),
            ))
        })
        .collect();
    Ok(Opened {
        checkpoint,
        text: parsed.text().to_vec(),
        cosigned_by,
        other_signatures: others,
    })
}

/// Appends signature lines (e.g. a witness's cosignatures) to a signed note.
pub fn add_signature_lines(note: &[u8], lines: &[u8]) -> Result<Vec<u8>, NoteError> {
    let parsed = Note::from_bytes(note).map_err(|_| NoteError::Malformed)?;
    let mut out = parsed.to_bytes();
    for line in lines.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let sig = Signature::from_bytes(line).map_err(|_| NoteError::Malformed)?;
        let bytes = sig.to_bytes();
        if !out.windows(bytes.len()).any(|w| w == bytes.as_slice()) {
            out.extend_from_slice(&bytes);
        }
    }
    Ok(out)
}

/// The message a tlog-cosignature/v1 signs.
fn cosigned_message(timestamp: u64, body: &[u8]) -> Vec<u8> {
    let mut m = format!("cosignature/v1\ntime {timestamp}\n").into_bytes();
    m.extend_from_slice(body);
    m
}

/// A witness's cosigning key.
pub struct Cosigner {
    name: String,
    id: u32,
    key: SigningKey,
    /// The clock, in seconds since the epoch.
    now: fn() -> u64,
}

fn unix_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Cosigner {
    /// A new random cosigning key named `name`: the private key string and the cosigner.
    pub fn generate(name: &str) -> Result<(String, Cosigner), NoteError> {
        if !signed_note::is_key_name_valid(name) {
            return Err(NoteError::Key(format!(
                "'{name}' cannot name a key: no spaces or '+'"
            )));
        }
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        let id = cosignature_key_id(name, &key.verifying_key());
        let mut material = vec![ALG_COSIGNATURE_V1];
        material.extend_from_slice(&key.to_bytes());
        let skey = format!(
            "PRIVATE+KEY+{name}+{id:08x}+{}",
            BASE64_STANDARD.encode(material)
        );
        Ok((
            skey,
            Cosigner {
                name: name.to_string(),
                id,
                key,
                now: unix_seconds,
            },
        ))
    }

    /// The cosigner of a private key string written by [`Cosigner::generate`].
    pub fn from_skey(skey: &str) -> Result<Cosigner, NoteError> {
        let skey = skey.trim();
        let mut fields = skey.splitn(5, '+');
        let (Some("PRIVATE"), Some("KEY"), Some(name), Some(id16), Some(_)) = (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        ) else {
            return Err(NoteError::Key(
                "expected PRIVATE+KEY+<name>+<id>+<key>".into(),
            ));
        };
        let material = key_material(skey, 4)?;
        let [ALG_COSIGNATURE_V1, seed @ ..] = material.as_slice() else {
            return Err(NoteError::Key("not a cosignature/v1 key".into()));
        };
        let seed: [u8; 32] = seed
            .try_into()
            .map_err(|_| NoteError::Key("wrong key length".into()))?;
        let key = SigningKey::from_bytes(&seed);
        let id = cosignature_key_id(name, &key.verifying_key());
        if format!("{id:08x}") != id16 {
            return Err(NoteError::Key("the key id does not match the key".into()));
        }
        Ok(Cosigner {
            name: name.to_string(),
            id,
            key,
            now: unix_seconds,
        })
    }

    /// The verifier key (`<name>+<id>+<base64(0x04‖public key)>`).
    pub fn vkey(&self) -> String {
        cosigner_vkey(&self.name, &self.key.verifying_key())
    }

    /// The witness's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The signature line (ending in a newline) cosigning a checkpoint body.
    pub fn cosign_line(&self, body: &[u8]) -> Result<Vec<u8>, NoteError> {
        let sig = self.sign(body).map_err(|_| NoteError::Sign)?;
        let s = Signature::new(self.name.clone(), self.id, sig).map_err(|_| NoteError::Sign)?;
        Ok(s.to_bytes())
    }
}

impl Signer for Cosigner {
    fn name(&self) -> &str {
        &self.name
    }
    fn key_id(&self) -> u32 {
        self.id
    }
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, ed25519_dalek::SignatureError> {
        let t = (self.now)();
        let sig = self.key.sign(&cosigned_message(t, msg));
        let mut out = t.to_be_bytes().to_vec();
        out.extend_from_slice(&sig.to_bytes());
        Ok(out)
    }
}

fn cosignature_key_id(name: &str, key: &VerifyingKey) -> u32 {
    let mut material = vec![ALG_COSIGNATURE_V1];
    material.extend_from_slice(key.as_bytes());
    signed_note::key_id(name, &material)
}

fn cosigner_vkey(name: &str, key: &VerifyingKey) -> String {
    let mut material = vec![ALG_COSIGNATURE_V1];
    material.extend_from_slice(key.as_bytes());
    format!(
        "{name}+{:08x}+{}",
        signed_note::key_id(name, &material),
        BASE64_STANDARD.encode(material)
    )
}

/// Checks tlog-cosignature/v1 signatures of one witness.
#[derive(Clone, Debug)]
pub struct CosignatureVerifier {
    name: String,
    id: u32,
    key: VerifyingKey,
}

impl CosignatureVerifier {
    /// Parses a witness verifier key `<name>+<id>+<base64(0x04‖public key)>`.
    pub fn new(vkey: &str) -> Result<CosignatureVerifier, NoteError> {
        let vkey = vkey.trim();
        let mut fields = vkey.splitn(3, '+');
        let (Some(name), Some(id16), Some(_)) = (fields.next(), fields.next(), fields.next())
        else {
            return Err(NoteError::Key("expected <name>+<id>+<key>".into()));
        };
        let material = key_material(vkey, 2)?;
        let [ALG_COSIGNATURE_V1, public @ ..] = material.as_slice() else {
            return Err(NoteError::Key("not a cosignature/v1 verifier key".into()));
        };
        let public: [u8; 32] = public
            .try_into()
            .map_err(|_| NoteError::Key("wrong key length".into()))?;
        let key = VerifyingKey::from_bytes(&public)
            .map_err(|_| NoteError::Key("not an Ed25519 public key".into()))?;
        let id = signed_note::key_id(name, &material);
        if format!("{id:08x}") != id16 || !signed_note::is_key_name_valid(name) {
            return Err(NoteError::Key("the key id does not match the key".into()));
        }
        Ok(CosignatureVerifier {
            name: name.to_string(),
            id,
            key,
        })
    }

    /// The witness's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Verifier for CosignatureVerifier {
    fn name(&self) -> &str {
        &self.name
    }
    fn key_id(&self) -> u32 {
        self.id
    }
    fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        let (Some(ts), Some(sig)) = (sig.get(..8), sig.get(8..)) else {
            return false;
        };
        let Ok(sig) = <[u8; 64]>::try_from(sig) else {
            return false;
        };
        let Ok(ts) = <[u8; 8]>::try_from(ts) else {
            return false;
        };
        let t = u64::from_be_bytes(ts);
        if t > i64::MAX as u64 {
            return false;
        }
        self.key
            .verify(
                &cosigned_message(t, msg),
                &ed25519_dalek::Signature::from_bytes(&sig),
            )
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_and_cosigned_checkpoint_opens_and_a_tampered_one_does_not() {
        let (skey, _) = LogSigner::generate("example.com/log").expect("key");
        let log = LogSigner::from_skey(&skey).expect("reload");
        let root = crate::tree::leaf_hash(b"x");
        let note = log.sign(1, root).expect("sign");
        let text = String::from_utf8(note.clone()).expect("utf8");
        assert!(text.starts_with("example.com/log\n1\n"), "{text}");
        assert!(text.contains("\n\n\u{2014} example.com/log "), "{text}");
        let (wkey, _) = Cosigner::generate("witness.example/w1").expect("witness");
        let w = Cosigner::from_skey(&wkey).expect("reload");
        let wv = CosignatureVerifier::new(&w.vkey()).expect("vkey");
        let body = Note::from_bytes(&note).expect("note").text().to_vec();
        let line = w.cosign_line(&body).expect("cosign");
        let cosigned = add_signature_lines(&note, &line).expect("add");
        let opened =
            open_checkpoint(&cosigned, log.vkey(), std::slice::from_ref(&wv)).expect("opens");
        assert_eq!(opened.checkpoint.size(), 1);
        assert_eq!(opened.cosigned_by.len(), 1);
        assert_eq!(opened.cosigned_by[0].0, "witness.example/w1");
        // Without the witness key, its line is kept as an unknown signature.
        let opened = open_checkpoint(&cosigned, log.vkey(), &[]).expect("opens");
        assert!(opened.cosigned_by.is_empty());
        assert_eq!(opened.other_signatures.len(), 1);
        // A changed size or another key fails.
        let forged = String::from_utf8(cosigned.clone())
            .expect("utf8")
            .replacen("\n1\n", "\n2\n", 1);
        assert!(open_checkpoint(forged.as_bytes(), log.vkey(), &[]).is_err());
        let (_, other) = LogSigner::generate("example.com/log").expect("key");
        assert!(open_checkpoint(&note, other.vkey(), &[]).is_err());
        // The cosignature covers the body: moved onto another checkpoint it fails.
        let note2 = log.sign(2, root).expect("sign");
        let moved = add_signature_lines(&note2, &line).expect("add");
        assert!(open_checkpoint(&moved, log.vkey(), &[wv]).is_err());
    }
}
