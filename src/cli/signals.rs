//! The signal guard of the commands that hold plaintext on disk while another program runs
//! (`edit`, `exec-file`): SIGINT, SIGTERM and SIGHUP only raise a flag, so the command can stop
//! its child and remove the plaintext before it exits.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

use super::{exit, Failure};

/// The signals that end an edit (or an exec-file run), each with its flag.
pub(crate) struct Signals {
    flags: Vec<(i32, Arc<AtomicBool>)>,
}

impl Signals {
    /// From now on SIGINT, SIGTERM and SIGHUP only raise their flag: the caller polls
    /// [`Signals::received`], cleans up and exits.
    pub(crate) fn install() -> Result<Signals, Failure> {
        let mut flags = Vec::new();
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            let flag = Arc::new(AtomicBool::new(false));
            signal_hook::flag::register(sig, Arc::clone(&flag))
                .map_err(|e| Failure::new(exit::GENERIC, format!("cannot install a signal handler: {e}")))?;
            flags.push((sig, flag));
        }
        Ok(Signals { flags })
    }

    /// The first signal received, if any.
    pub(crate) fn received(&self) -> Option<i32> {
        self.flags.iter().find(|(_, f)| f.load(Ordering::Relaxed)).map(|(s, _)| *s)
    }
}
