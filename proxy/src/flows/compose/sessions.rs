//! Per-compose state, kept in memory only: the latest Sign/Encrypt choice (posted with
//! every form, and sent by the controls' script whenever a toggle changes, because the
//! webmail's upload and spell-check requests do not carry it), the sender identities the
//! compose page offered, and the attachments held on the device while S/MIME is on.
//!
//! Held attachments are plaintext: they live in wiping buffers, are dropped when the
//! message is sent, removed, or the compose is forgotten (idle for [`IDLE`], or pushed
//! out by newer composes), and never touch the disk.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;
use zeroize::Zeroizing;

use crate::flows::original::Original;
use crate::rules::SmimeChoice;

/// A compose untouched this long is forgotten, with its held attachments.
pub(crate) const IDLE: Duration = Duration::from_secs(12 * 60 * 60);
/// Most composes remembered at once (the oldest is forgotten first).
const MAX_SESSIONS: usize = 64;
/// Most bytes of held attachments over all composes.
pub(crate) const MAX_HELD_BYTES: usize = 256 * 1024 * 1024;

/// An attachment kept on the device.
#[derive(Debug)]
pub(crate) struct HeldFile {
    /// The id the webmail page knows it by.
    pub(crate) id: String,
    /// File name as uploaded.
    pub(crate) name: String,
    /// Content type as uploaded (`application/octet-stream` when none).
    pub(crate) content_type: String,
    /// The bytes.
    pub(crate) data: Zeroizing<Vec<u8>>,
}

/// One sender identity of a compose page: the value its form posts and what it shows
/// (`Name <address>` or an address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SenderOption {
    /// The posted value (Roundcube: the identity id).
    pub(crate) value: String,
    /// The option's text.
    pub(crate) text: String,
}

#[derive(Debug, Default)]
struct Session {
    choice: Option<SmimeChoice>,
    senders: Vec<SenderOption>,
    held: Vec<Arc<HeldFile>>,
    /// Uploads that went to the webmail (less removals that went there too).
    uploaded: usize,
    /// The message this compose answers (reply, forward), and the frame showing it
    /// until the compose page takes it.
    original: Option<Arc<Original>>,
    frame: Option<String>,
    touched: Option<Instant>,
}

/// Why an attachment could not be held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum HoldError {
    /// Too many bytes are held already.
    #[error("smime-proxy already holds {} MB of attachments; send or discard other messages first", MAX_HELD_BYTES / (1024 * 1024))]
    Full,
}

/// Every compose the proxy knows, by (site, compose id).
#[derive(Debug, Default)]
pub(crate) struct Sessions {
    map: Mutex<HashMap<(String, String), Session>>,
}

impl Sessions {
    /// The sessions, those idle too long already forgotten.
    fn lock(&self) -> MutexGuard<'_, HashMap<(String, String), Session>> {
        let mut map = self.map.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        map.retain(|_, s| s.touched.is_some_and(|t| now.duration_since(t) < IDLE));
        map
    }

    /// The session of `(site, id)`, created as needed.
    fn with<T>(&self, site: &str, id: &str, f: impl FnOnce(&mut Session) -> T) -> T {
        let mut map = self.lock();
        let now = Instant::now();
        let key = (site.to_owned(), id.to_owned());
        if !map.contains_key(&key)
            && map.len() >= MAX_SESSIONS
            && let Some(oldest) = map.iter().min_by_key(|(_, s)| s.touched).map(|(k, _)| k.clone())
        {
            map.remove(&oldest);
        }
        let session = map.entry(key).or_default();
        session.touched = Some(now);
        f(session)
    }

    /// Records the compose page's sender options and the state its controls were shown in.
    pub(crate) fn opened(&self, site: &str, id: &str, senders: Vec<SenderOption>, shown: SmimeChoice) {
        self.with(site, id, |s| {
            s.senders = senders;
            s.choice.get_or_insert(shown);
        });
    }

    /// Records the message compose `id` answers, and the frame that shows it.
    pub(crate) fn answering(&self, site: &str, id: &str, original: Original, frame: Option<String>) {
        self.with(site, id, |s| {
            s.original = Some(Arc::new(original));
            s.frame = frame;
        });
    }

    /// The message compose `id` answers, if any.
    pub(crate) fn original(&self, site: &str, id: &str) -> Option<Arc<Original>> {
        self.lock().get(&(site.to_owned(), id.to_owned())).and_then(|s| s.original.clone())
    }

    /// The frame showing the original, once (a view is single use).
    pub(crate) fn take_frame(&self, site: &str, id: &str) -> Option<String> {
        self.lock().get_mut(&(site.to_owned(), id.to_owned())).and_then(|s| s.frame.take())
    }

    /// Forgets every answered original (decrypted text and subject) and its frame: the
    /// key store was locked.
    pub(crate) fn forget_originals(&self) -> usize {
        let mut map = self.lock();
        let mut forgotten = 0;
        for session in map.values_mut() {
            forgotten += usize::from(session.original.take().is_some());
            session.frame = None;
        }
        forgotten
    }

    /// Records the toggles as the page last reported or posted them.
    pub(crate) fn choose(&self, site: &str, id: &str, choice: SmimeChoice) {
        self.with(site, id, |s| s.choice = Some(choice));
    }

    /// The latest known toggles of a compose (`None`: a page the proxy did not rewrite).
    pub(crate) fn choice(&self, site: &str, id: &str) -> Option<SmimeChoice> {
        self.lock().get(&(site.to_owned(), id.to_owned())).and_then(|s| s.choice)
    }

    /// True when some compose of `site` has Encrypt on.
    pub(crate) fn any_encrypting(&self, site: &str) -> bool {
        self.lock().iter().any(|((s, _), session)| s == site && session.choice.is_some_and(|c| c.encrypt))
    }

    /// The sender options the compose page offered.
    pub(crate) fn senders(&self, site: &str, id: &str) -> Vec<SenderOption> {
        self.lock().get(&(site.to_owned(), id.to_owned())).map(|s| s.senders.clone()).unwrap_or_default()
    }

    /// Keeps `file` for the compose.
    pub(crate) fn hold(&self, site: &str, id: &str, file: HeldFile) -> Result<(), HoldError> {
        let held: usize = self.lock().values().flat_map(|s| &s.held).map(|f| f.data.len()).sum();
        if held.saturating_add(file.data.len()) > MAX_HELD_BYTES {
            return Err(HoldError::Full);
        }
        self.with(site, id, |s| s.held.push(Arc::new(file)));
        Ok(())
    }

    /// The held attachments with these ids, in the given order; the ids not held are
    /// returned as the error.
    pub(crate) fn held(&self, site: &str, id: &str, ids: &[String]) -> Result<Vec<Arc<HeldFile>>, Vec<String>> {
        let map = self.lock();
        let session = map.get(&(site.to_owned(), id.to_owned()));
        let find = |want: &String| session.and_then(|s| s.held.iter().find(|f| &f.id == want).cloned());
        let missing: Vec<String> = ids.iter().filter(|i| find(i).is_none()).cloned().collect();
        if missing.is_empty() { Ok(ids.iter().filter_map(find).collect()) } else { Err(missing) }
    }

    /// The ids of every attachment held for the compose, oldest first.
    pub(crate) fn held_ids(&self, site: &str, id: &str) -> Vec<String> {
        let map = self.lock();
        map.get(&(site.to_owned(), id.to_owned()))
            .map(|s| s.held.iter().map(|f| f.id.clone()).collect())
            .unwrap_or_default()
    }

    /// Counts an upload that went to the webmail (`true`) or a removal that did (`false`).
    pub(crate) fn note_uploaded(&self, site: &str, id: &str, added: bool) {
        self.with(site, id, |s| s.uploaded = if added { s.uploaded + 1 } else { s.uploaded.saturating_sub(1) });
    }

    /// How many attachments of the compose are on the webmail's server.
    pub(crate) fn uploaded(&self, site: &str, id: &str) -> usize {
        self.lock().get(&(site.to_owned(), id.to_owned())).map_or(0, |s| s.uploaded)
    }

    /// Whether any of `ids` is held for the compose.
    pub(crate) fn holds_any(&self, site: &str, id: &str, ids: &[String]) -> bool {
        self.lock().get(&(site.to_owned(), id.to_owned())).is_some_and(|s| s.held.iter().any(|f| ids.contains(&f.id)))
    }

    /// Drops one held attachment, named by its id (or, for a webmail that names files by
    /// name, by its name). Returns whether it was held.
    pub(crate) fn remove(&self, site: &str, id: &str, file: &str) -> bool {
        let mut map = self.lock();
        let Some(session) = map.get_mut(&(site.to_owned(), id.to_owned())) else { return false };
        let Some(at) =
            session.held.iter().position(|f| f.id == file).or_else(|| session.held.iter().position(|f| f.name == file))
        else {
            return false;
        };
        session.held.remove(at);
        true
    }

    /// Forgets a compose (after its message was sent).
    pub(crate) fn finish(&self, site: &str, id: &str) {
        self.lock().remove(&(site.to_owned(), id.to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(id: &str, len: usize) -> HeldFile {
        HeldFile { id: id.into(), name: "a.txt".into(), content_type: "text/plain".into(), data: vec![7; len].into() }
    }

    const ON: SmimeChoice = SmimeChoice { sign: true, encrypt: true };
    const OFF: SmimeChoice = SmimeChoice { sign: false, encrypt: false };

    #[tokio::test(start_paused = true)]
    async fn choice_hold_and_expiry() {
        let s = Sessions::default();
        assert_eq!(s.choice("w", "c1"), None, "unknown compose");
        s.opened("w", "c1", vec![SenderOption { value: "1".into(), text: "a@x".into() }], OFF);
        assert_eq!(s.choice("w", "c1"), Some(OFF));
        assert!(!s.any_encrypting("w"));
        s.choose("w", "c1", ON);
        assert!(s.any_encrypting("w") && !s.any_encrypting("other"));
        s.opened("w", "c1", Vec::new(), OFF);
        assert_eq!(s.choice("w", "c1"), Some(ON), "reopening the page keeps the reported choice");

        s.hold("w", "c1", file("f1", 3)).unwrap();
        s.hold("w", "c1", file("f2", 3)).unwrap();
        assert_eq!(s.held("w", "c1", &["f2".into(), "f1".into()]).unwrap()[0].id, "f2");
        assert_eq!(s.held("w", "c1", &["f1".into(), "x".into()]).unwrap_err(), vec!["x".to_owned()]);
        assert!(s.holds_any("w", "c1", &["x".into(), "f1".into()]));
        assert!(s.remove("w", "c1", "f1") && !s.remove("w", "c1", "f1"));

        tokio::time::advance(IDLE).await;
        assert!(s.held("w", "c2", &[]).unwrap().is_empty());
        assert_eq!(s.choice("w", "c1"), None, "forgotten after the idle time");
    }

    #[test]
    fn held_bytes_are_bounded() {
        let s = Sessions::default();
        s.hold("w", "c", file("big", MAX_HELD_BYTES - 1)).unwrap();
        assert_eq!(s.hold("w", "d", file("more", 2)), Err(HoldError::Full));
        s.finish("w", "c");
        s.hold("w", "d", file("more", 2)).unwrap();
    }

    #[test]
    fn oldest_compose_goes_first() {
        let s = Sessions::default();
        for i in 0..=MAX_SESSIONS {
            s.choose("w", &i.to_string(), ON);
        }
        assert_eq!(s.lock().len(), MAX_SESSIONS);
    }
}
