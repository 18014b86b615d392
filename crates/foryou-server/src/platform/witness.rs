//! The server's side of the witness protocol (C2SP tlog-witness): after every append, submit
//! the new checkpoint with a consistency proof from the witness's last size, keep the
//! cosignature to publish it, and report every refusal loudly.

use super::transparency::WitnessConfig;
use foryou_tlog::log::Sequencer;
use foryou_tlog::note::{add_signature_lines, open_checkpoint, CosignatureVerifier};
use std::sync::{Arc, Mutex};

/// Submits each new checkpoint to the witness and keeps its cosignature; a refusal is logged
/// as an error, loudly, every time.
pub(super) fn witness_loop(
    seq: Sequencer,
    w: WitnessConfig,
    verifier: CosignatureVerifier,
    cosigned: Arc<Mutex<Option<Vec<u8>>>>,
    wake: std::sync::mpsc::Receiver<()>,
) {
    // The witness's size for this log, learned from its first answer.
    let mut known: Option<u64> = None;
    let mut done = 0u64;
    while wake.recv().is_ok() {
        while wake.try_recv().is_ok() {}
        for _attempt in 0..3 {
            let Ok((note, size, vkey)) =
                seq.read(|l| (l.checkpoint().to_vec(), l.size(), l.vkey().to_string()))
            else {
                return;
            };
            if known == Some(size) && done == size {
                break;
            }
            let old = known.unwrap_or(0);
            let proof = if old == 0 || old >= size {
                Vec::new()
            } else {
                match seq.read(|l| l.prove_consistency(old, size)) {
                    Ok(Ok(p)) => p,
                    _ => Vec::new(),
                }
            };
            let body = foryou_tlog::witness::add_checkpoint_body(old, &proof, &note);
            let url = format!("{}/add-checkpoint", w.url.trim_end_matches('/'));
            match crate::client::request(
                "POST",
                &url,
                "text/plain",
                &body,
                std::time::Duration::from_secs(10),
            ) {
                Ok((200, lines)) => {
                    let ok = add_signature_lines(&note, &lines).ok().filter(|c| {
                        open_checkpoint(c, &vkey, std::slice::from_ref(&verifier))
                            .map(|o| !o.cosigned_by.is_empty())
                            .unwrap_or(false)
                    });
                    match ok {
                        Some(c) => {
                            if let Ok(mut slot) = cosigned.lock() {
                                *slot = Some(c);
                            }
                            known = Some(size);
                            done = size;
                            tracing::info!(size, witness = %verifier.name(), "checkpoint cosigned");
                        }
                        None => {
                            tracing::error!(size, witness = %verifier.name(), "WITNESS answered without a valid cosignature by its key")
                        }
                    }
                    break;
                }
                Ok((409, b)) => {
                    let theirs = String::from_utf8_lossy(&b).trim().parse::<u64>().ok();
                    if theirs.is_some_and(|t| t > size) {
                        tracing::error!(size, witness_size = ?theirs, "WITNESS has cosigned a LARGER tree than this log holds: the log was rolled back or forked");
                        break;
                    }
                    known = theirs;
                }
                Ok((status, b)) => {
                    tracing::error!(size, status, answer = %String::from_utf8_lossy(&b).chars().take(200).collect::<String>(), "WITNESS REFUSED to cosign the checkpoint");
                    break;
                }
                Err(e) => {
                    tracing::error!(size, error = %e, "WITNESS unreachable: the checkpoint is not cosigned");
                    break;
                }
            }
        }
    }
}
