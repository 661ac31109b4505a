//! [`ViewStore`]: decrypted views waiting for their frame to load. A view is a rendered
//! document plus the attachments it links to, under a 128-bit random id, bound to the
//! webmail origin whose page asked for it.
//!
//! Single use: the document is handed out once and forgotten. Its attachments stay for
//! [`PARTS_AFTER_SERVED`] afterwards, so a click on a link in the frame still works. A
//! view whose frame never loads expires after [`UNSERVED_LIFETIME`]. The store holds at
//! most [`MAX_VIEWS`] views (the oldest goes first). Every buffer wipes itself on drop.
//! Time is `tokio::time::Instant`, so tests can pause and advance it.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;
use zeroize::Zeroizing;

/// How long a view waits for its frame to load.
pub const UNSERVED_LIFETIME: Duration = Duration::from_secs(120);
/// How long the attachments of a served view stay downloadable.
pub const PARTS_AFTER_SERVED: Duration = Duration::from_secs(120);
/// Most views held at once.
pub const MAX_VIEWS: usize = 64;

/// A view's id: 128 random bits, as 32 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ViewId(String);

impl ViewId {
    /// A fresh random id.
    pub fn random() -> Result<Self, crate::Error> {
        Ok(Self(crate::random::random_hex(16)?))
    }

    /// Parses an id from a URL path segment (exactly 32 lowercase hex digits).
    pub fn parse(text: &str) -> Option<Self> {
        (text.len() == 32 && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
            .then(|| Self(text.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An attachment of a view.
#[derive(Debug)]
pub struct Attachment {
    /// File name to offer (already made safe for a header).
    pub filename: String,
    /// The content.
    pub data: Zeroizing<Vec<u8>>,
}

/// A rendered view, before it is stored.
#[derive(Debug)]
pub struct View {
    /// The webmail origin (`https://host:port`) whose page may frame it.
    pub origin: String,
    /// The frame's HTML document.
    pub document: Zeroizing<Vec<u8>>,
    /// The attachments the document links to, by index.
    pub attachments: Vec<Attachment>,
}

/// Why a view could not be had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gone {
    /// No such view: never made, already served, expired or evicted.
    Unknown,
}

/// The store of pending and recently served views.
#[derive(Debug, Default)]
pub struct ViewStore {
    views: Mutex<HashMap<ViewId, Entry>>,
}

#[derive(Debug)]
struct Entry {
    origin: String,
    document: Option<Zeroizing<Vec<u8>>>,
    attachments: Vec<Attachment>,
    created: Instant,
    served: Option<Instant>,
}

impl Entry {
    fn expired(&self, now: Instant) -> bool {
        match self.served {
            Some(at) => now.duration_since(at) >= PARTS_AFTER_SERVED,
            None => now.duration_since(self.created) >= UNSERVED_LIFETIME,
        }
    }
}

impl ViewStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores `view` under `id` (a fresh [`ViewId::random`]: the document links to it).
    pub fn insert(&self, id: ViewId, view: View) -> ViewId {
        let now = Instant::now();
        let mut views = self.views();
        views.retain(|_, e| !e.expired(now));
        while views.len() >= MAX_VIEWS {
            let Some(oldest) = views.iter().min_by_key(|(_, e)| e.created).map(|(id, _)| id.clone()) else { break };
            views.remove(&oldest);
        }
        let entry = Entry {
            origin: view.origin,
            document: Some(view.document),
            attachments: view.attachments,
            created: now,
            served: None,
        };
        views.insert(id.clone(), entry);
        id
    }

    /// The webmail origin a pending or served view is bound to.
    pub fn origin(&self, id: &ViewId) -> Option<String> {
        let now = Instant::now();
        self.views().get(id).filter(|e| !e.expired(now)).map(|e| e.origin.clone())
    }

    /// Takes the document of view `id`: the first call gets it, every later one
    /// [`Gone::Unknown`].
    pub fn take_document(&self, id: &ViewId) -> Result<Zeroizing<Vec<u8>>, Gone> {
        let now = Instant::now();
        let mut views = self.views();
        views.retain(|_, e| !e.expired(now));
        let entry = views.get_mut(id).ok_or(Gone::Unknown)?;
        let document = entry.document.take().ok_or(Gone::Unknown)?;
        entry.served = Some(now);
        if entry.attachments.is_empty() {
            views.remove(id);
        }
        Ok(document)
    }

    /// Attachment `index` of view `id`, once its document was served and not for longer
    /// than [`PARTS_AFTER_SERVED`]: the file name and a copy of the content.
    pub fn attachment(&self, id: &ViewId, index: usize) -> Result<(String, Zeroizing<Vec<u8>>), Gone> {
        let now = Instant::now();
        let mut views = self.views();
        views.retain(|_, e| !e.expired(now));
        let entry = views.get(id).filter(|e| e.served.is_some()).ok_or(Gone::Unknown)?;
        let part = entry.attachments.get(index).ok_or(Gone::Unknown)?;
        Ok((part.filename.clone(), part.data.clone()))
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.views().len()
    }

    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn views(&self) -> MutexGuard<'_, HashMap<ViewId, Entry>> {
        // Every update is a single map operation: a poisoned lock holds a consistent map.
        self.views.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(attachments: usize) -> View {
        View {
            origin: "https://mail.example".into(),
            document: Zeroizing::new(b"<p>secret</p>".to_vec()),
            attachments: (0..attachments)
                .map(|i| Attachment { filename: format!("f{i}.txt"), data: Zeroizing::new(vec![b'x'; i + 1]) })
                .collect(),
        }
    }

    #[test]
    fn ids_are_random_and_parse_back() {
        let (a, b) = (ViewId::random().unwrap(), ViewId::random().unwrap());
        assert_ne!(a, b);
        assert_eq!(ViewId::parse(a.as_str()), Some(a));
        for bad in ["", "abc", "../../etc/passwd", &"A".repeat(32), &"0".repeat(33)] {
            assert_eq!(ViewId::parse(bad), None, "{bad}");
        }
    }

    #[tokio::test]
    async fn a_document_is_served_once() {
        let store = ViewStore::new();
        let id = store.insert(ViewId::random().unwrap(), view(0));
        assert_eq!(store.origin(&id).as_deref(), Some("https://mail.example"));
        assert_eq!(store.take_document(&id).unwrap().as_slice(), b"<p>secret</p>");
        assert_eq!(store.take_document(&id), Err(Gone::Unknown));
        assert!(store.is_empty(), "a view without attachments is forgotten at once");
    }

    #[tokio::test(start_paused = true)]
    async fn attachments_only_after_serving_and_briefly() {
        let store = ViewStore::new();
        let id = store.insert(ViewId::random().unwrap(), view(2));
        assert_eq!(store.attachment(&id, 0).unwrap_err(), Gone::Unknown, "not before the frame loaded");
        store.take_document(&id).unwrap();
        assert_eq!(store.attachment(&id, 1).unwrap().0, "f1.txt");
        assert_eq!(store.attachment(&id, 1).unwrap().1.as_slice(), b"xx", "downloadable more than once");
        assert_eq!(store.attachment(&id, 2).unwrap_err(), Gone::Unknown);
        tokio::time::advance(PARTS_AFTER_SERVED).await;
        assert_eq!(store.attachment(&id, 0).unwrap_err(), Gone::Unknown);
        assert!(store.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn unserved_views_expire() {
        let store = ViewStore::new();
        let id = store.insert(ViewId::random().unwrap(), view(1));
        tokio::time::advance(UNSERVED_LIFETIME).await;
        assert_eq!(store.take_document(&id), Err(Gone::Unknown));
        assert_eq!(store.origin(&id), None);
    }

    #[tokio::test(start_paused = true)]
    async fn the_store_is_bounded() {
        let store = ViewStore::new();
        let first = store.insert(ViewId::random().unwrap(), view(0));
        for _ in 0..MAX_VIEWS {
            tokio::time::advance(Duration::from_millis(1)).await;
            store.insert(ViewId::random().unwrap(), view(0));
        }
        assert_eq!(store.len(), MAX_VIEWS);
        assert_eq!(store.take_document(&first), Err(Gone::Unknown), "the oldest was evicted");
    }
}
