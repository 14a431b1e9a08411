//! Test helper: damaged copies of a text, for the codecs' no-panic tests.

/// `count` copies of `base`, each with one to three random edits (a character removed, one of
/// `pieces` inserted, or the text cut), from a fixed-seed xorshift generator.
pub(crate) fn mutations(base: &str, count: usize, pieces: &[&str], seed: u64) -> Vec<String> {
    let mut seed = seed | 1;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    (0..count)
        .map(|_| {
            let mut s: Vec<char> = base.chars().collect();
            for _ in 0..(1 + next() % 3) {
                let at = (next() as usize) % (s.len() + 1);
                match next() % 3 {
                    0 if at < s.len() => {
                        s.remove(at);
                    }
                    1 => {
                        let p = pieces[(next() as usize) % pieces.len()];
                        for (k, c) in p.chars().enumerate() {
                            s.insert(at + k, c);
                        }
                    }
                    _ => s.truncate(at),
                }
            }
            s.into_iter().collect()
        })
        .collect()
}
