//! The cleanup routine: what keeps keys and plaintext from outliving their use.
//!
//! [`disable_core_dumps`] runs first thing in every `smime-proxy` command. The rest of
//! the routine is the way secrets are held, listed here once:
//!
//! | secret | held in | wiped |
//! |---|---|---|
//! | passphrases (PKCS#12, store) from a file, the prompt or the unlock form | `Zeroizing<Vec<u8>>` | as soon as the import or unlock returns |
//! | a PKCS#12 file's bytes | `Zeroizing<Vec<u8>>` | after it is read |
//! | DER PKCS#8 of a key being sealed or unsealed | `Zeroizing<Vec<u8>>` | right after sealing, or once parsed into a key |
//! | the local CA's private key (`smime_ca::LocalCa`, unsealed by `store::CaVault::unlock`) | aws-lc-rs key memory, cleansed when freed; its DER PKCS#8 in `Zeroizing` | as soon as the run's intermediate is signed; never held otherwise |
//! | the run's intermediate CA key (in the `LeafAuthority`) | aws-lc-rs key memory | when the next unlock replaces it, when it expires, at exit; it signs only the configured sites and the own origin (name constraints) |
//! | unlocked private keys (`Arc<Identity>` in the `KeyRing`) | RSA / EC secret types that zeroize on drop | on lock: idle timeout (`lock_after_idle`), `POST /api/lock`, SIGUSR1, shutdown; a flow using a key holds its `Arc` only for one operation, so the key is wiped when that ends |
//! | decrypted message bodies, plaintext to encrypt | `Zeroizing<Vec<u8>>` (`message` command; the crypto crate's buffers) | after the output is written |
//! | read views: a decrypted message rendered for its frame, and its attachments | `Zeroizing<Vec<u8>>` in the `flows::read::ViewStore` (the rendered HTML `String`s are zeroized too) | when the frame is served (attachments 2 minutes later) or 2 minutes after an unserved view was made; the copy handed to hyper for sending is not wiped |
//! | pages of the sites kept for signed records (what their servers sent, no plaintext the proxy made) | `Zeroizing<Vec<u8>>` behind an `Arc` in `records::RecentPages` | 15 minutes after the page arrived, or pushed out by newer ones (16 pages, 32 MiB); a record being signed holds it until the signature is made |
//! | the decrypted original a reply or forward answers (text, real subject) | `Zeroizing<String>` in `flows::original::Original`, in the compose's session | when the answer is sent, the compose is forgotten, or the key store locks (`KeyRing::wait_for_lock`) |
//! | attachments held while composing | `Zeroizing<Vec<u8>>` in the compose's session | when sent, removed, or the compose is forgotten (12 h idle, 64 newest kept); not on lock: the user's own files |
//!
//! Not secret but telling: `<config-dir>/cache/pki/` (the `pki` module's cache of CRLs,
//! OCSP answers and issuers' certificates fetched for correspondents) is owner-only and
//! capped in size; deleting the directory forgets it.
//!
//! And: core dumps are off and the process is not dumpable (no `/proc/PID/mem` or
//! ptrace for other processes of the same user); nothing secret is logged (logs carry
//! counts, fingerprints and paths, never passphrases, keys, bodies or headers); nothing
//! secret is written in clear (keys are sealed; `--out` files are `0600`); every response
//! of the proxy's own origin is `Cache-Control: no-store`, and so must be every response
//! a flow builds from plaintext (decrypted views).
//!
//! Limits, stated plainly: the allocator may have copied a buffer before it was wrapped
//! (e.g. a `String` that grew while a prompt was typed, or hyper's read buffers for the
//! unlock form), and swap is not locked (`mlock`) in this version.

/// Turns core dumps off for this process (RLIMIT_CORE = 0) and, on Linux, marks it not
/// dumpable (`PR_SET_DUMPABLE` 0), which also keeps other processes of the same user from
/// reading its memory. Returns what failed, if anything, for a warning.
pub fn disable_core_dumps() -> Result<(), String> {
    #[cfg(unix)]
    {
        use rustix::process::{Resource, Rlimit, setrlimit};
        setrlimit(Resource::Core, Rlimit { current: Some(0), maximum: Some(0) })
            .map_err(|e| format!("cannot disable core dumps (setrlimit RLIMIT_CORE): {e}"))?;
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use rustix::process::{DumpableBehavior, set_dumpable_behavior};
        set_dumpable_behavior(DumpableBehavior::NotDumpable)
            .map_err(|e| format!("cannot mark the process not dumpable (prctl PR_SET_DUMPABLE): {e}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[cfg(target_os = "linux")]
    #[test]
    fn core_dumps_are_off_afterwards() {
        super::disable_core_dumps().unwrap();
        let limit = rustix::process::getrlimit(rustix::process::Resource::Core);
        assert_eq!((limit.current, limit.maximum), (Some(0), Some(0)));
        assert_eq!(rustix::process::dumpable_behavior().unwrap(), rustix::process::DumpableBehavior::NotDumpable);
    }
}
