//! The tree walk shared by encryption and decryption (sops-format §2-§5): depth-first in
//! document order, list items under their list's path, comments under their parent's path,
//! the MAC over the plaintext values in walk order.

use std::borrow::Cow;

use gitseal_formats::{Comment, Format, Leaf, MapItem, Node, Scalar, SeqItem, Span};
use gitseal_keys::DataKey;
use sha2::{Digest, Sha512};
use zeroize::Zeroizing;

use crate::cipher::{self, plaintext, ValueType};
use crate::envelope::hex_upper;
use crate::selection::Rule;

/// `SHA-256("sops")`, fed first into the MAC when it covers only encrypted values.
const MAC_ONLY_ENCRYPTED_INIT: [u8; 32] = [
    0x8a, 0x3f, 0xd2, 0xad, 0x54, 0xce, 0x66, 0x52, 0x7b, 0x10, 0x34, 0xf3, 0xd1, 0x47, 0xbe, 0x0b, 0x0b, 0x97, 0x5b,
    0x3b, 0xf4, 0x4f, 0x72, 0xc6, 0xfd, 0xad, 0xec, 0x81, 0x76, 0xf2, 0x7d, 0x69,
];

/// Which way the walk goes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Plaintext to `ENC[...]`.
    Encrypt,
    /// `ENC[...]` to plaintext.
    Decrypt,
}

/// A value that failed, with its key path.
pub struct WalkError {
    /// `["a"]["b"]` style path, or `the top level`.
    pub path: String,
    /// Why (never the value).
    pub message: String,
    /// True for encryption failures.
    pub encrypting: bool,
}

/// One walk over a file's documents.
pub struct Walk<'k> {
    cipher: cipher::Cipher,
    _key: std::marker::PhantomData<&'k DataKey>,
    rule: Rule,
    mac_only: bool,
    direction: Direction,
    hash: Sha512,
    aad: String,
    /// Where each key of the current path starts in `aad` (for error messages).
    marks: Vec<usize>,
    matched: usize,
    comments: Vec<Vec<String>>,
    /// Skip top-level keys that are metadata (`sops`, or `sops_*` for dotenv).
    metadata_key: fn(&str) -> bool,
    /// Non-fatal findings (e.g. a comment that does not decrypt), named by key path.
    pub warnings: Vec<String>,
    /// When encrypting a file whose codec may not reproduce every value's text: its format,
    /// indentation step and source, to remember those texts (see [`crate::envelope::layout`]).
    record: Option<(Format, Option<usize>, &'k str)>,
    /// What was remembered.
    pub layout: crate::envelope::layout::Layout,
    /// How many alias expansions the walk is inside (their leaves' source text is the anchor's).
    in_alias: usize,
    /// Where the outermost alias being walked starts: comments of its expansion from before it
    /// are the anchor's own (see [`Walk::comment`]).
    alias_at: usize,
    /// Where the source text after the last remembered alias starts.
    alias_from: usize,
    /// IVs of decrypted values, to reuse when the same values are encrypted again.
    stash: Option<crate::envelope::stash::Stash>,
    /// Checking (see [`Walk::checking`]): the paths of values the rule encrypts that are in the
    /// clear.
    check: Option<Vec<String>>,
    /// Decrypting JSON: also compute the MAC as sops before 3.13.2 did (see
    /// [`Walk::legacy_json_mac`]).
    legacy_json: bool,
    /// That MAC, from the first value where it differs; `None` while it does not.
    legacy: Option<Sha512>,
    /// How many more times the walk may split a collection between two threads (see
    /// [`Walk::fork_point`]).
    forks: usize,
    /// The cores to count on; `None` until the machine is asked (tests split on any machine).
    cores: Option<usize>,
    /// The least text a collection split between threads has ([`FORK_MIN_BYTES`]; less in tests).
    fork_min: usize,
    /// In the walk of a collection's second half on another thread: what goes into the MAC,
    /// kept for the walk of the first half to feed in after its own values.
    deferred: Option<Deferred>,
    /// Where each value is decrypted (one wiped buffer for the walk, not one per value).
    plain: Zeroizing<Vec<u8>>,
    /// The text the tree was parsed from, where the tokens of leaves that say
    /// `token_in_source` are read (see [`Walk::source`]).
    source: &'k str,
}

/// The MAC input of a half walked on another thread (see [`Walk::hash_value`]).
#[derive(Default)]
struct Deferred {
    bytes: Chunks,
    /// The same for the MAC of sops before 3.13.2, once a value differs there.
    legacy: Option<Chunks>,
}

/// Bytes kept in wiped buffers of a fixed size: a buffer that grew would be moved, leaving its
/// old copy (decrypted values) in freed memory, and every move faults in fresh pages.
#[derive(Clone, Default)]
struct Chunks(Vec<Zeroizing<Vec<u8>>>);

impl Chunks {
    const SIZE: usize = 64 * 1024;

    fn extend(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            match self.0.last_mut().filter(|c| c.len() < c.capacity()) {
                Some(c) => {
                    let n = (c.capacity() - c.len()).min(bytes.len());
                    c.extend_from_slice(&bytes[..n]);
                    bytes = &bytes[n..];
                }
                None => self.0.push(Zeroizing::new(Vec::with_capacity(Self::SIZE))),
            }
        }
    }

    fn hash_into(&self, hash: &mut Sha512) {
        for c in &self.0 {
            hash.update(c.as_slice());
        }
    }
}

impl<'k> Walk<'k> {
    /// A walk with `key`, the file's selection `rule`, and the MAC mode.
    pub fn new(
        key: &'k DataKey,
        rule: Rule,
        mac_only: bool,
        direction: Direction,
        metadata_key: fn(&str) -> bool,
    ) -> Self {
        let mut hash = Sha512::new();
        if mac_only {
            hash.update(MAC_ONLY_ENCRYPTED_INIT);
        }
        Walk {
            cipher: cipher::Cipher::new(key),
            _key: std::marker::PhantomData,
            rule,
            mac_only,
            direction,
            hash,
            aad: String::new(),
            marks: Vec::new(),
            matched: 0,
            comments: Vec::new(),
            metadata_key,
            warnings: Vec::new(),
            record: None,
            layout: crate::envelope::layout::Layout::default(),
            in_alias: 0,
            alias_at: 0,
            alias_from: 0,
            stash: None,
            check: None,
            legacy_json: false,
            legacy: None,
            forks: 1,
            cores: None,
            fork_min: FORK_MIN_BYTES,
            deferred: None,
            plain: Zeroizing::new(Vec::new()),
            source: "",
        }
    }

    /// The text the tree was parsed from, for a tree whose tokens the parse left there
    /// ([`gitseal_formats::parse_encrypted`]): the walk reads each from there, and a leaf it
    /// does not decrypt gets its token copied in as its value.
    pub fn source(mut self, src: &'k str) -> Self {
        self.source = src;
        self
    }

    /// Decrypting a JSON file: also computes the MAC the way sops before 3.13.2 did, which read
    /// every JSON number as a float, so that an integer beyond 2^53 in the clear counts as the
    /// float's digits (`9007199254740993` as `9007199254740992`). Files written that way keep
    /// opening; sops 3.13.2 (getsops/sops#2222) and gitseal write the integer's own digits.
    pub fn legacy_json_mac(mut self) -> Self {
        self.legacy_json = true;
        self
    }

    /// Instead of decrypting, records where a value the file's rule encrypts is in the clear
    /// (see [`Walk::plaintext_paths`]); nothing is decrypted, and the MAC is not computed.
    pub fn checking(mut self) -> Self {
        self.check = Some(Vec::new());
        self
    }

    /// What [`Walk::checking`] found: key paths, in document order.
    pub fn plaintext_paths(&mut self) -> Vec<String> {
        self.check.take().unwrap_or_default()
    }

    /// Decrypting: remember every value's IV in `stash`. Encrypting: reuse the IVs it holds for
    /// values unchanged at their key path (see [`crate::envelope::stash`]).
    pub fn with_stash(mut self, stash: crate::envelope::stash::Stash) -> Self {
        self.stash = Some(stash);
        self
    }

    /// The stash given to [`Walk::with_stash`], with what decryption recorded.
    pub fn take_stash(&mut self) -> Option<crate::envelope::stash::Stash> {
        self.stash.take()
    }

    /// Encrypts one value, with its stashed IV when there is one, or as the very ENC string it
    /// was decrypted from when that holds the same boolean or number in another spelling.
    fn seal(&self, plaintext: &[u8], ty: ValueType) -> String {
        let stash = self.stash.as_ref();
        match stash.and_then(|s| s.iv(self.aad(), plaintext, ty)) {
            Some(iv) => self.cipher.encrypt_with_iv(plaintext, self.aad(), ty, &iv),
            None => match stash.and_then(|s| s.same_value(self.aad(), plaintext, ty)) {
                Some(enc) => enc.to_string(),
                None => self.cipher.encrypt(plaintext, self.aad(), ty),
            },
        }
    }

    fn stash_record(&mut self, plaintext: &[u8], ty: ValueType, encrypted: &str) {
        let aad = aad_text(&self.aad);
        if let Some(stash) = self.stash.as_mut() {
            stash.record(aad, plaintext, ty, encrypted);
        }
    }

    /// Remember the source text of encrypted values that decryption would not write back the
    /// same way (YAML folded blocks, aliases, ...).
    pub fn remember_layout(mut self, format: Format, indent: Option<usize>, src: &'k str) -> Self {
        self.record = Some((format, indent, src));
        self
    }

    /// Walks one document's top node.
    pub fn document(&mut self, node: &mut Node) -> Result<(), WalkError> {
        match node {
            Node::Map(items) => self.map(items, true),
            other => self.node(other),
        }
    }

    /// The MAC over everything walked so far: 128 upper-case hex digits.
    pub fn mac(self) -> String {
        hex_upper(self.hash.finalize().as_slice())
    }

    /// The MAC, and the one of sops before 3.13.2 where it differs (see
    /// [`Walk::legacy_json_mac`]): a file matching either is intact.
    pub fn macs(self) -> (String, Option<String>) {
        let legacy = self.legacy.map(|h| hex_upper(h.finalize().as_slice()));
        (hex_upper(self.hash.finalize().as_slice()), legacy)
    }

    /// Feeds a value into the MAC; `legacy` is its text for the MAC of sops before 3.13.2 when
    /// that differs.
    fn hash_value(&mut self, bytes: &[u8], legacy: Option<&[u8]>) {
        if let Some(d) = self.deferred.as_mut() {
            if legacy.is_some() && d.legacy.is_none() {
                d.legacy = Some(d.bytes.clone());
            }
            d.bytes.extend(bytes);
            if let Some(l) = d.legacy.as_mut() {
                l.extend(legacy.unwrap_or(bytes));
            }
            return;
        }
        if legacy.is_some() && self.legacy.is_none() {
            self.legacy = Some(self.hash.clone());
        }
        self.hash.update(bytes);
        if let Some(h) = self.legacy.as_mut() {
            h.update(legacy.unwrap_or(bytes));
        }
    }

    fn aad(&self) -> &str {
        aad_text(&self.aad)
    }

    fn path_text(&self) -> String {
        if self.marks.is_empty() {
            return "the top level".into();
        }
        // Each key is the aad text between two marks, without its trailing ':'.
        let ends = self.marks.iter().skip(1).copied().chain(std::iter::once(self.aad.len()));
        self.marks.iter().zip(ends).map(|(&start, end)| format!("[{:?}]", &self.aad[start..end - 1])).collect()
    }

    fn fail(&self, message: impl Into<String>) -> WalkError {
        WalkError { path: self.path_text(), message: message.into(), encrypting: self.direction == Direction::Encrypt }
    }

    fn selected(&self, is_comment: bool) -> bool {
        self.rule.encrypts(self.matched > 0, &self.comments, is_comment)
    }

    fn node(&mut self, node: &mut Node) -> Result<(), WalkError> {
        match node {
            Node::Leaf(leaf) => self.leaf(leaf),
            Node::Map(items) => self.map(items, false),
            Node::Seq(items) => self.seq(items),
            Node::Alias(alias) => self.alias(alias),
        }
    }

    /// An alias to a collection is walked at its own path, as sops expands it. When it ends up
    /// holding encrypted values the codec writes the expansion in its place; the layout memory
    /// then keeps the `*name` text and what decryption will write there, to swap them back.
    fn alias(&mut self, alias: &mut gitseal_formats::Alias) -> Result<(), WalkError> {
        // Only the outermost expansion is swapped back: aliases inside it are part of its text.
        let predicted = match self.record {
            Some((Format::Yaml, _, _)) if self.in_alias == 0 => Some(decrypted_expansion(&alias.node)),
            _ => None,
        };
        if self.in_alias == 0 {
            self.alias_at = alias.span.start;
        }
        self.in_alias += 1;
        let r = self.node(&mut alias.node);
        self.in_alias -= 1;
        r?;
        if let (Some(text), Some((_, _, src))) = (predicted, self.record) {
            // An alias left in the clear reads as its anchor, whose values may be encrypted:
            // written out too (as sops reads it), else the MAC, over its values, would not match.
            if !gitseal_formats::yaml_has_changed_leaf(&alias.node) {
                mark_changed(&mut alias.node);
            }
            self.remember_alias(src, text, alias.span);
        }
        Ok(())
    }

    fn map(&mut self, items: &mut [MapItem], top: bool) -> Result<(), WalkError> {
        self.comments.push(Vec::new());
        // A split after an entry: the comments before the next one start afresh.
        let metadata_key = self.metadata_key;
        let start = |i: &MapItem| match i {
            MapItem::Entry(e) => e.span.start,
            MapItem::Comment(c) => c.span.start,
        };
        let split = self.fork_point(
            items,
            start,
            |k| matches!(&items[k - 1], MapItem::Entry(e) if !(top && metadata_key(&e.key))),
        );
        match split {
            Some(k) => {
                let (first, second) = items.split_at_mut(k);
                self.forked(first, second, |w, part| w.map_items(part, top))?;
            }
            None => self.map_items(items, top)?,
        }
        self.comments.pop();
        Ok(())
    }

    fn map_items(&mut self, items: &mut [MapItem], top: bool) -> Result<(), WalkError> {
        for item in items.iter_mut() {
            match item {
                MapItem::Comment(c) => self.comment(c)?,
                MapItem::Entry(e) => {
                    if top && (self.metadata_key)(&e.key) {
                        continue;
                    }
                    let mark = self.aad.len();
                    let matched = usize::from(self.rule.key_matches(&e.key));
                    self.aad.push_str(&e.key);
                    self.aad.push(':');
                    self.marks.push(mark);
                    self.matched += matched;
                    let r = self.node(&mut e.value);
                    self.matched -= matched;
                    self.marks.pop();
                    self.aad.truncate(mark);
                    r?;
                    if let Some(level) = self.comments.last_mut() {
                        level.clear();
                    }
                }
            }
        }
        Ok(())
    }

    fn seq(&mut self, items: &mut [SeqItem]) -> Result<(), WalkError> {
        self.comments.push(Vec::new());
        // A split after an item that is walked as a value (not an encrypted comment).
        let start = |i: &SeqItem| match i {
            SeqItem::Node { start, .. } => *start,
            SeqItem::Comment(c) => c.span.start,
        };
        let split = self.fork_point(
            items,
            start,
            |k| matches!(&items[k - 1], SeqItem::Node { node, .. } if !maybe_comment_item(node)),
        );
        match split {
            Some(k) => {
                let (first, second) = items.split_at_mut(k);
                self.forked(first, second, Walk::seq_items)?;
            }
            None => self.seq_items(items)?,
        }
        self.comments.pop();
        Ok(())
    }

    fn seq_items(&mut self, items: &mut [SeqItem]) -> Result<(), WalkError> {
        for item in items.iter_mut() {
            match item {
                SeqItem::Comment(c) => self.comment(c)?,
                SeqItem::Node { start, node } => {
                    if let Some(text) = self.comment_item(node)? {
                        let end = match node {
                            Node::Leaf(l) => l.span.end,
                            _ => *start,
                        };
                        *item = SeqItem::Comment(Comment { text, span: Span::new(*start, end), changed: true });
                        continue;
                    }
                    self.node(node)?;
                    if let Some(level) = self.comments.last_mut() {
                        level.clear();
                    }
                }
            }
        }
        Ok(())
    }

    /// Where to split a collection between this thread and another, when the walk may: no
    /// stash (its IVs are per key path, in order) and no check, outside alias expansions, not
    /// split yet, more than one core, and the collection's text (from its first item's start to its
    /// last's, by `start`) at least [`FORK_MIN_BYTES`]. The split is the first item from the
    /// middle of that text on after which `clean(k)` says the walk's state is as at the
    /// collection's start (no comments carried over to the next item).
    fn fork_point<T>(
        &mut self,
        items: &[T],
        start: impl Fn(&T) -> usize,
        clean: impl Fn(usize) -> bool,
    ) -> Option<usize> {
        let free = self.stash.is_none() && self.check.is_none() && self.in_alias == 0 && self.deferred.is_none();
        let (first, last) = (items.first().map(&start)?, items.last().map(&start)?);
        if self.forks == 0 || last.saturating_sub(first) < self.fork_min || !free {
            return None;
        }
        // Remembered aliases count the text since the previous one, which the second half
        // cannot know: a layout is recorded in two halves only when the file has no `*`.
        if self.record.is_some_and(|(_, _, src)| memchr::memchr(b'*', src.as_bytes()).is_some()) {
            return None;
        }
        // Asked once per walk (it reads the cgroup's CPU limits).
        if *self.cores.get_or_insert_with(|| std::thread::available_parallelism().map_or(1, usize::from)) < 2 {
            self.forks = 0;
            return None;
        }
        let middle = items.partition_point(|i| start(i) < first + (last - first) / 2).max(1);
        let k = (middle..items.len()).find(|&k| clean(k))?;
        // Both halves hold a good share of the text (the second, without its last item, whose
        // length is not known: a collection of one huge item and a small one is not split, the
        // huge one may be).
        let at = start(&items[k]);
        if at - first < self.fork_min / 2 || last - at < self.fork_min / 2 {
            return None;
        }
        self.forks -= 1;
        Some(k)
    }

    /// Walks `first` here and `second` on another thread, from the same state (a collection's
    /// start), then feeds the second half's MAC input and warnings in after the first's. The
    /// first error in document order is the one returned, as in a walk on one thread.
    fn forked<T: Send>(
        &mut self,
        first: &mut [T],
        second: &mut [T],
        walk: impl Fn(&mut Walk<'k>, &mut [T]) -> Result<(), WalkError> + Sync,
    ) -> Result<(), WalkError> {
        let mut other = self.fork();
        let split = std::thread::scope(|s| {
            let handle = std::thread::Builder::new().stack_size(gitseal_formats::TREE_STACK).spawn_scoped(s, || {
                let r = walk(&mut other, second);
                (r, other)
            });
            let handle = handle.ok()?;
            let mine = walk(self, first);
            Some((mine, handle.join()))
        });
        // Without a thread (the system has none to give), both halves are walked here, in order.
        let Some((mine, theirs)) = split else {
            walk(self, first)?;
            return walk(self, second);
        };
        let (theirs, mut other) = theirs.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        mine?;
        theirs?;
        // The second half's MAC input, after the first half's (this walk is never deferred:
        // only a walk of its own splits).
        let deferred = other.deferred.take().unwrap_or_default();
        if deferred.legacy.is_some() && self.legacy.is_none() {
            self.legacy = Some(self.hash.clone());
        }
        deferred.bytes.hash_into(&mut self.hash);
        if let Some(h) = self.legacy.as_mut() {
            deferred.legacy.as_ref().unwrap_or(&deferred.bytes).hash_into(h);
        }
        self.warnings.append(&mut other.warnings);
        // The second half's remembered texts, numbered after the first half's values.
        let offset = self.layout.count;
        let entries = std::mem::take(&mut other.layout.entries);
        self.layout.entries.extend(entries.into_iter().map(|(i, text, hash)| (i + offset, text, hash)));
        self.layout.count += other.layout.count;
        self.layout.aliases.append(&mut other.layout.aliases);
        Ok(())
    }

    /// A walk in this one's state, for the second half of a collection (see [`Walk::forked`]).
    fn fork(&self) -> Walk<'k> {
        Walk {
            cipher: self.cipher.clone(),
            _key: std::marker::PhantomData,
            rule: self.rule.clone(),
            mac_only: self.mac_only,
            direction: self.direction,
            hash: Sha512::new(),
            aad: self.aad.clone(),
            marks: self.marks.clone(),
            matched: self.matched,
            comments: self.comments.clone(),
            metadata_key: self.metadata_key,
            warnings: Vec::new(),
            record: self.record,
            layout: crate::envelope::layout::Layout::default(),
            in_alias: 0,
            alias_at: self.alias_at,
            alias_from: self.alias_from,
            stash: None,
            check: None,
            legacy_json: self.legacy_json,
            legacy: None,
            forks: 0,
            cores: self.cores,
            fork_min: self.fork_min,
            deferred: Some(Deferred::default()),
            plain: Zeroizing::new(Vec::new()),
            source: self.source,
        }
    }

    /// sops writes comments inside YAML sequences as sequence items `- ENC[...,type:comment]`;
    /// on decryption they become comments again (and stay out of the MAC).
    fn comment_item(&mut self, node: &Node) -> Result<Option<String>, WalkError> {
        let Node::Leaf(Leaf { value: Scalar::Str(s), .. }) = node else { return Ok(None) };
        if self.check.is_some()
            || self.direction == Direction::Encrypt
            || !s.ends_with(",type:comment]")
            || !cipher::is_encrypted(s)
        {
            return Ok(None);
        }
        if !self.selected(false) {
            return Ok(None);
        }
        match self.cipher.decrypt(s, self.aad()) {
            Ok((plain, ValueType::Comment)) => {
                self.stash_record(&plain, ValueType::Comment, s);
                String::from_utf8(plain.to_vec())
                    .map(Some)
                    .map_err(|_| self.fail("the decrypted comment is not valid UTF-8"))
            }
            Ok(_) => Ok(None),
            Err(e) => Err(self.fail(e.to_string())),
        }
    }

    fn comment(&mut self, c: &mut Comment) -> Result<(), WalkError> {
        if let Some(level) = self.comments.last_mut() {
            level.push(c.text.clone());
        }
        if c.text.is_empty() || !self.selected(true) {
            return Ok(());
        }
        // In an alias's expansion, a comment from before the alias is a copy of one in the
        // anchor's collection: it is encrypted (and decrypted) there, under the anchor's key
        // path, and never written at the alias (an expansion is written without comments).
        // Encrypting the copy too was lost work; decrypting it under the alias's key path
        // failed, so such a file never decrypted.
        if self.in_alias > 0 && c.span.start < self.alias_at {
            return Ok(());
        }
        match self.direction {
            Direction::Encrypt => {
                c.text = self.seal(c.text.as_bytes(), ValueType::Comment);
                c.changed = true;
            }
            Direction::Decrypt => {
                if !cipher::is_encrypted(&c.text) || self.check.is_some() {
                    return Ok(());
                }
                // An encrypted comment that does not open was changed (as sops, an error: kept
                // as it is, its damaged bytes would go into the output).
                match self.cipher.decrypt(&c.text, self.aad()) {
                    Ok((plain, ValueType::Comment)) => {
                        let text = String::from_utf8(plain.to_vec())
                            .map_err(|_| self.fail("the decrypted comment is not valid UTF-8"))?;
                        let encrypted = std::mem::replace(&mut c.text, text);
                        self.stash_record(&plain, ValueType::Comment, &encrypted);
                        c.changed = true;
                    }
                    Ok(_) => return Err(self.fail("an encrypted comment holds a value, not a comment")),
                    Err(e) => return Err(self.fail(format!("encrypted comment: {e}"))),
                }
            }
        }
        Ok(())
    }

    fn note_layout(&mut self, format: Format, indent: Option<usize>, src: &str, leaf: &Leaf, payload: &[u8]) {
        let index = self.layout.count;
        self.layout.count += 1;
        let source = &src[leaf.span.start..leaf.span.end];
        let as_number = !matches!(leaf.value, Scalar::Str(_) | Scalar::Time(_));
        let payload = as_number.then(|| std::str::from_utf8(payload).unwrap_or_default());
        // The text decryption will write for the value (a copy is wiped once compared).
        if let Some(differs) = gitseal_formats::decrypted_text_differs(format, indent, src, leaf, payload, source) {
            if differs {
                self.layout.entries.push((
                    index,
                    source.to_string(),
                    Some(crate::envelope::layout::value_hash(&leaf.value)),
                ));
            }
        }
    }

    /// Remembers an alias written out as `text`, to swap it back on decryption. Decrypted
    /// output reads like the source between two aliases, where the anchor (or another value)
    /// may read the same as the expansion: those copies are counted, to be skipped.
    fn remember_alias(&mut self, src: &str, text: String, span: Span) {
        let between = src.get(self.alias_from..span.start).unwrap_or_default();
        let skip = crate::envelope::layout::value_occurrences(between, &text).count();
        self.alias_from = span.end;
        self.layout.aliases.push((text, src[span.start..span.end].to_string(), skip));
    }

    fn leaf(&mut self, leaf: &mut Leaf) -> Result<(), WalkError> {
        if matches!(leaf.value, Scalar::Null) {
            return Ok(());
        }
        let selected = self.selected(false);
        let decrypting = self.direction == Direction::Decrypt && selected && self.check.is_none();
        if leaf.token_in_source && !decrypting {
            // A value this walk does not decrypt holds its token as its value.
            let token = self.token_in(self.source, leaf)?.to_string();
            leaf.value = Scalar::Str(token);
            leaf.token_in_source = false;
        }
        match self.direction {
            Direction::Encrypt => {
                let (bytes, ty) = plaintext(&leaf.value);
                if !self.mac_only || selected {
                    self.hash_value(&bytes, None);
                }
                if selected && !matches!(&leaf.value, Scalar::Str(s) if s.is_empty()) {
                    // The MAC is over the canonical text; the payload may keep the author's
                    // spelling (`1e3`) when sops parses it to the same value. A boolean is
                    // encrypted as sops encrypts it, `true`/`false` (its MAC text is `True`).
                    let spelled = match leaf.value {
                        Scalar::Bool(b) => Some(if b { "true" } else { "false" }),
                        _ => None,
                    };
                    let literal = sops_literal(leaf).or(spelled);
                    let payload = literal.map_or(&bytes[..], str::as_bytes);
                    match self.record {
                        Some((format, indent, src)) if self.in_alias == 0 => {
                            self.note_layout(format, indent, src, leaf, payload)
                        }
                        // Counted all the same, so indexes match the decrypted leaves.
                        Some(_) => self.layout.count += 1,
                        None => {}
                    }
                    leaf.value = Scalar::Str(self.seal(payload, ty));
                    leaf.literal = None;
                    leaf.changed = true;
                } else if !selected && self.in_alias == 0 {
                    // An alias kept in the clear reads as its anchor's value, which may be
                    // encrypted: written out as the value, as sops reads it (else the MAC, over
                    // the value, would not match); the layout memory puts `*name` back.
                    if let Some((Format::Yaml, indent, src)) = self.record {
                        if src.get(leaf.span.start..leaf.span.end).is_some_and(|t| t.starts_with('*')) {
                            let payload = leaf.literal.clone();
                            leaf.changed = true;
                            let text =
                                gitseal_formats::decrypted_text(Format::Yaml, indent, src, leaf, payload.as_deref());
                            if let Some(text) = text.map(Cow::into_owned) {
                                self.remember_alias(src, text, leaf.span);
                            }
                        }
                    }
                }
            }
            Direction::Decrypt => {
                if selected && self.check.is_some() {
                    let clear = !matches!(&leaf.value, Scalar::Str(s) if s.is_empty() || cipher::is_encrypted(s));
                    if clear {
                        let path = self.path_text();
                        self.check.get_or_insert_with(Vec::new).push(path);
                    }
                    return Ok(());
                }
                if selected {
                    let source = self.source;
                    let value = match &leaf.value {
                        Scalar::Str(s) if s.is_empty() && !leaf.token_in_source => None,
                        Scalar::Str(s) => {
                            let s = if leaf.token_in_source { self.token_in(source, leaf)? } else { s };
                            // (The field, not `self.aad()`: the buffer below is borrowed mutably.)
                            let aad = aad_text(&self.aad);
                            let ty = match self.cipher.decrypt_into(s, aad, &mut self.plain) {
                                Ok(ty) => ty,
                                Err(e) => return Err(self.fail(e.to_string())),
                            };
                            if self.stash.is_some() {
                                let (plain, encrypted) = (self.plain.clone(), s.to_string());
                                self.stash_record(&plain, ty, &encrypted);
                            }
                            let v = typed(&self.plain, ty).map_err(|m| self.fail(m))?;
                            let literal = matches!(v, Scalar::Int(_) | Scalar::Float(_) | Scalar::Bool(_))
                                .then(|| String::from_utf8_lossy(&self.plain).into_owned())
                                .filter(|l| !gitseal_formats::is_canonical_bool_payload(l));
                            Some((v, literal))
                        }
                        _ => return Err(self.fail("value is not encrypted (expected an ENC[AES256_GCM,...] string)")),
                    };
                    if let Some((v, literal)) = value {
                        // The ciphertext it replaces is dropped without the wiping a value gets.
                        if let Scalar::Str(enc) = &mut leaf.value {
                            drop(std::mem::take(enc));
                        }
                        leaf.literal = literal;
                        leaf.value = v;
                        leaf.changed = true;
                        leaf.token_in_source = false;
                        if mac_text_as_decrypted(&leaf.value, &self.plain) {
                            // A decrypted value is in the MAC; a number's MAC text is here the
                            // decrypted text itself, fed as it is rather than written out again.
                            let plain = std::mem::take(&mut self.plain);
                            self.hash_value(&plain, None);
                            self.plain = plain;
                            return Ok(());
                        }
                    }
                }
                if !self.mac_only || selected {
                    let legacy = match leaf.value {
                        // In the clear: sops before 3.13.2 read it as a float.
                        Scalar::Int(i) if self.legacy_json && !selected && i.unsigned_abs() > 1 << 53 => {
                            Some(gitseal_formats::format_float(i as f64))
                        }
                        _ => None,
                    };
                    self.hash_value(&plaintext(&leaf.value).0, legacy.as_ref().map(String::as_bytes));
                }
            }
        }
        Ok(())
    }
}

impl Walk<'_> {
    /// The token of a leaf that the parse left in `source`; an error when the walk was not
    /// given the text the tree was parsed from.
    fn token_in<'s>(&self, source: &'s str, leaf: &Leaf) -> Result<&'s str, WalkError> {
        // A JSON string's span holds its quotes.
        let unquoted = |t: &'s str| t.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(t);
        source.get(leaf.span.start..leaf.span.end).map(unquoted).filter(|t| cipher::is_encrypted(t)).ok_or_else(|| {
            self.fail("the value's encrypted text is not at its place in the file (the walk was given another text)")
        })
    }
}

/// The additional data a value is encrypted with: its key path, or `:` at the top level.
fn aad_text(path: &str) -> &str {
    if path.is_empty() {
        ":"
    } else {
        path
    }
}

/// Collections written in less text are walked on one thread (a thread costs tens of
/// microseconds; this is a few thousand encrypted values).
const FORK_MIN_BYTES: usize = 256 * 1024;

/// Whether a sequence item may be an encrypted comment (see [`Walk::comment_item`]).
fn maybe_comment_item(node: &Node) -> bool {
    matches!(node, Node::Leaf(Leaf { value: Scalar::Str(s), .. }) if s.ends_with(",type:comment]"))
}

/// Marks every leaf of `node` as to be written.
fn mark_changed(node: &mut Node) {
    match node {
        Node::Leaf(l) => l.changed = true,
        Node::Map(items) => items.iter_mut().for_each(|i| {
            if let MapItem::Entry(e) = i {
                mark_changed(&mut e.value)
            }
        }),
        Node::Seq(items) => items.iter_mut().for_each(|i| {
            if let SeqItem::Node { node, .. } = i {
                mark_changed(node)
            }
        }),
        Node::Alias(a) => mark_changed(&mut a.node),
    }
}

/// What decrypting writes for an alias expansion: the expansion in flow style with every
/// number and boolean spelled as its encrypted payload (see [`sops_literal`]).
fn decrypted_expansion(node: &Node) -> String {
    fn payload_literals(node: &mut Node) {
        match node {
            Node::Leaf(l) => l.literal = sops_literal(l).map(str::to_string),
            Node::Map(items) => items.iter_mut().for_each(|i| {
                if let MapItem::Entry(e) = i {
                    payload_literals(&mut e.value)
                }
            }),
            Node::Seq(items) => items.iter_mut().for_each(|i| {
                if let SeqItem::Node { node, .. } = i {
                    payload_literals(node)
                }
            }),
            Node::Alias(a) => payload_literals(&mut a.node),
        }
    }
    let mut copy = node.clone();
    payload_literals(&mut copy);
    gitseal_formats::yaml_flow_text(&copy)
}

/// The source spelling of a number or boolean when Go's strconv (what sops decrypts with)
/// reads it as the same value: `1e3`, `1.0`, `+12`, `TRUE`.
fn sops_literal(leaf: &Leaf) -> Option<&str> {
    let l = leaf.literal.as_deref()?;
    let ok = match leaf.value {
        Scalar::Int(v) => {
            let digits = l.strip_prefix(['+', '-']).unwrap_or(l);
            !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) && l.parse::<i64>() == Ok(v)
        }
        Scalar::Float(v) => {
            l.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
                && l.parse::<f64>().is_ok_and(|p| p.to_bits() == v.to_bits())
        }
        Scalar::Bool(v) => match l {
            "true" | "True" | "TRUE" => v,
            "false" | "False" | "FALSE" => !v,
            _ => false,
        },
        _ => false,
    };
    ok.then_some(l)
}

/// A decrypted value back to its type, parsing as Go's strconv/time do.
fn typed(plain: &[u8], ty: ValueType) -> Result<Scalar, String> {
    let text = || std::str::from_utf8(plain).map_err(|_| "the decrypted value is not valid UTF-8".to_string());
    let bad = |what: &str| format!("the decrypted value is not a valid {what}");
    Ok(match ty {
        ValueType::Str | ValueType::Bytes => Scalar::Str(text()?.to_string()),
        ValueType::Int => Scalar::Int(text()?.parse().map_err(|_| bad("int"))?),
        ValueType::Float => Scalar::Float(parse_go_float(text()?).ok_or_else(|| bad("float"))?),
        ValueType::Bool => Scalar::Bool(match text()? {
            "1" | "t" | "T" | "TRUE" | "true" | "True" => true,
            "0" | "f" | "F" | "FALSE" | "false" | "False" => false,
            _ => return Err(bad("bool")),
        }),
        ValueType::Time => {
            Scalar::Time(gitseal_formats::parse_rfc3339(text()?).ok_or_else(|| bad("time"))?.to_rfc3339_nano())
        }
        ValueType::Comment => return Err("a comment was found where a value belongs".into()),
    })
}

/// Whether `payload`, the decrypted text that `value` (a number) was read from, is already the
/// value's MAC text ([`plaintext`]: Rust's `Display`, Go's `FormatFloat(v, 'f', -1, 64)` for a
/// float), as the numbers sops writes are. True only for plain decimals: an optional `-`, no
/// leading zeros, no `+`, no exponent; for a float also no trailing zeros after its `.`, at most
/// 15 significant digits and at most 32 characters. A decimal of 15 significant digits or fewer
/// is the only one of that length that reads back as the double it reads as (binary64 keeps 15
/// decimal digits, far from the subnormal range), so it is that double's shortest text. A
/// negative zero is left to the formatting.
fn mac_text_as_decrypted(value: &Scalar, payload: &[u8]) -> bool {
    // Most decrypted values are strings: they leave at once.
    if !matches!(value, Scalar::Int(_) | Scalar::Float(_)) {
        return false;
    }
    let digits = payload.strip_prefix(b"-").unwrap_or(payload);
    let plain_int = |d: &[u8]| !d.is_empty() && d.iter().all(u8::is_ascii_digit) && (d.len() == 1 || d[0] != b'0');
    let negative_zero = payload.len() > digits.len() && digits.iter().all(|&c| c == b'0' || c == b'.');
    if negative_zero {
        return false;
    }
    match value {
        Scalar::Int(_) => plain_int(digits),
        Scalar::Float(_) => {
            let (int, frac) = match memchr::memchr(b'.', digits) {
                Some(dot) => (&digits[..dot], &digits[dot + 1..]),
                None => (digits, &[][..]),
            };
            let frac_ok = frac.is_empty() || (frac.iter().all(u8::is_ascii_digit) && frac.last() != Some(&b'0'));
            let has_dot = int.len() < digits.len();
            let significant = int.iter().chain(frac).skip_while(|&&c| c == b'0').count();
            payload.len() <= 32 && plain_int(int) && frac_ok && !(has_dot && frac.is_empty()) && significant <= 15
        }
        _ => false,
    }
}

fn parse_go_float(s: &str) -> Option<f64> {
    let word = s.trim_start_matches(['+', '-']);
    if word.eq_ignore_ascii_case("inf") || word.eq_ignore_ascii_case("infinity") {
        Some(if s.starts_with('-') { f64::NEG_INFINITY } else { f64::INFINITY })
    } else if word.eq_ignore_ascii_case("nan") {
        Some(f64::NAN)
    } else {
        s.parse().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Everything a decryption walk gives: the values (or the error, with its path), the MAC,
    /// the MAC of older sops, the warnings.
    type Outcome = Result<(gitseal_formats::Value, String, Option<String>, Vec<String>), String>;

    fn decrypted(key: &DataKey, mut doc: gitseal_formats::Document, rule: &Rule, split: bool) -> Outcome {
        let mut walk = Walk::new(key, rule.clone(), false, Direction::Decrypt, |k| k == "sops");
        if doc.format == Format::Json {
            walk = walk.legacy_json_mac();
        }
        (walk.forks, walk.cores, walk.fork_min) = if split { (1, Some(2), 4096) } else { (0, None, usize::MAX) };
        let r = walk.document(&mut doc.roots[0].node);
        r.map_err(|e| format!("{}: {}", e.path, e.message))?;
        let warnings = std::mem::take(&mut walk.warnings);
        let (mac, legacy) = walk.macs();
        Ok((gitseal_formats::Value::from_node(&doc.roots[0].node), mac, legacy, warnings))
    }

    fn encrypted(key: &DataKey, format: Format, src: &str, rule: &Rule) -> gitseal_formats::Document {
        let mut doc = gitseal_formats::parse(format, src).unwrap();
        let mut walk = Walk::new(key, rule.clone(), false, Direction::Encrypt, |k| k == "sops");
        walk.document(&mut doc.roots[0].node).unwrap_or_else(|e| panic!("{}", e.message));
        doc
    }

    /// A YAML file whose last top-level key holds a long sequence or mapping (the collection
    /// the walk splits, in its middle), with values the rules leave in the clear on both sides
    /// of the middle, and comments that select values (`sops:enc`): on the collection's key,
    /// or (`every`) on every item, items all of one length so that the middle of the text
    /// falls on an item's comment when `n` is odd (the split must then move past it).
    fn long_yaml(n: usize, list: bool, every: bool) -> String {
        let mut src = String::from(if every { "# head\ntop: value\n" } else { "# head\ntop: value\n# sops:enc\n" });
        src.push_str(if list { "list:\n" } else { "map:\n" });
        for i in 0..n {
            if every {
                src.push_str("  # sops:enc\n");
            }
            if list {
                src.push_str(&format!("  - k{i:05}: v{i:05}\n    x_unencrypted: c{i:05}\n"));
            } else {
                src.push_str(&format!("  n{i:05}: {:05}\n  s{i:05}: \"s {i:05}\"\n", i + 10000));
            }
        }
        src
    }

    /// The second half's MAC input is kept in buffers that never move (a move would leave a copy
    /// of decrypted values in freed memory), and hashes as the bytes in order.
    #[test]
    fn deferred_mac_input_is_kept_in_order_in_buffers_that_never_grow() {
        let input: Vec<u8> = (0..400_000u32).map(|i| (i % 251) as u8).collect();
        let mut chunks = Chunks::default();
        let mut at = 0;
        for n in [10, 70_000, 65_526, 1, 0, 200_000, 64_463] {
            chunks.extend(&input[at..at + n]);
            at += n;
        }
        assert_eq!(at, input.len());
        assert_eq!(chunks.0.iter().flat_map(|c| c.iter().copied()).collect::<Vec<u8>>(), input);
        assert!(chunks.0.iter().all(|c| c.capacity() == Chunks::SIZE), "a buffer grew");
        let mut hash = Sha512::new();
        chunks.hash_into(&mut hash);
        assert_eq!(hash.finalize(), Sha512::digest(&input));
    }

    /// Splitting a long collection between two threads changes nothing but the time: the same
    /// values, MACs and warnings, for every selection rule, and the same first error at the same
    /// key path when a value was moved to another path, in either half.
    #[test]
    fn a_walk_split_between_threads_gives_what_one_thread_gives() {
        let key = DataKey::generate();
        let n = 2001;
        let rules = [
            Rule::default(),
            Rule::UnencryptedSuffix("_unencrypted".into()),
            Rule::EncryptedCommentRegex(regex::Regex::new("sops:enc").unwrap()),
            Rule::UnencryptedCommentRegex(regex::Regex::new("sops:enc").unwrap()),
        ];
        let shapes = [(true, false), (false, false), (true, true), (false, true)];
        for (rule, (list, every)) in rules.iter().flat_map(|r| shapes.map(|shape| (r, shape))) {
            let doc = encrypted(&key, Format::Yaml, &long_yaml(n, list, every), rule);
            let one = decrypted(&key, doc.clone(), rule, false);
            assert!(one.is_ok(), "{one:?}");
            assert_eq!(decrypted(&key, doc.clone(), rule, true), one, "{rule:?} list {list} every {every}");
            // A value moved to another key path, early or late in the list, or in the map.
            let name = if list { "list" } else { "map" };
            for at in [10, n - 10] {
                let mut moved = doc.clone();
                swap_leaves(&mut moved, name, at);
                let one = decrypted(&key, moved.clone(), rule, false);
                // Encrypted values no longer open where they are (the rules that leave these in
                // the clear leave it to the MAC).
                assert!(one.is_err() || !matches!(rule, Rule::UnencryptedSuffix(_)), "{rule:?} {name} {at}");
                assert_eq!(decrypted(&key, moved, rule, true), one, "{rule:?} {name} {at}");
            }
        }
        // JSON: a large integer in the clear after the middle gives the MAC of older sops too.
        let mut json = String::from("{\"records\": [");
        for i in 0..n {
            let big = if i == n - 5 { ", \"n_unencrypted\": 9007199254740993" } else { "" };
            json.push_str(&format!("{}{{\"id\": {i}, \"name\": \"r{i}\"{big}}}", if i > 0 { ", " } else { "" }));
        }
        json.push_str("]}");
        let rule = Rule::UnencryptedSuffix("_unencrypted".into());
        let doc = encrypted(&key, Format::Json, &json, &rule);
        let one = decrypted(&key, doc.clone(), &rule, false);
        assert!(matches!(&one, Ok((_, _, Some(_), _))), "{one:?}");
        assert_eq!(decrypted(&key, doc, &rule, true), one);
    }

    /// Encryption split between threads gives the MAC and the remembered layout of one thread
    /// (the values themselves differ by their random IVs), and decrypts to the same values.
    #[test]
    fn an_encryption_split_between_threads_gives_what_one_thread_gives() {
        let key = DataKey::generate();
        let n = 2001;
        let mut src = String::from("top: 1\nmap:\n");
        for i in 0..n {
            // Spellings the codec would not write back as they are: remembered in the layout.
            src.push_str(&format!("  a{i:05}: >\n    folded {i}\n    text\n  c{i:05}: plain {i}\n"));
        }
        let rule = Rule::default();
        let encrypt =
            |split: bool| {
                let mut doc = gitseal_formats::parse(Format::Yaml, &src).unwrap();
                let mut walk = Walk::new(&key, rule.clone(), false, Direction::Encrypt, |k| k == "sops")
                    .remember_layout(Format::Yaml, doc.indent, &src);
                (walk.forks, walk.cores, walk.fork_min) =
                    if split { (1, Some(2), 4096) } else { (0, None, usize::MAX) };
                walk.document(&mut doc.roots[0].node).unwrap_or_else(|e| panic!("{}", e.message));
                let layout = std::mem::take(&mut walk.layout);
                (doc, layout.count, layout.entries.clone(), walk.mac())
            };
        let (one_doc, one_count, one_entries, one_mac) = encrypt(false);
        let (two_doc, two_count, two_entries, two_mac) = encrypt(true);
        assert!(one_entries.len() >= n, "the layout remembers the folded values: {}", one_entries.len());
        assert_eq!((two_count, &two_entries, &two_mac), (one_count, &one_entries, &one_mac));
        let one = decrypted(&key, one_doc, &rule, false).unwrap();
        assert_eq!(decrypted(&key, two_doc, &rule, false).unwrap(), one);
    }

    /// Swaps the first leaf of item `at` of the top-level collection `name` with the first
    /// leaf of the item after it.
    fn swap_leaves(doc: &mut gitseal_formats::Document, name: &str, at: usize) {
        fn first_leaf(node: &mut Node) -> &mut Leaf {
            match node {
                Node::Leaf(l) => l,
                Node::Map(items) => first_leaf(
                    &mut items
                        .iter_mut()
                        .find_map(|i| match i {
                            MapItem::Entry(e) => Some(e),
                            MapItem::Comment(_) => None,
                        })
                        .expect("an entry")
                        .value,
                ),
                _ => panic!("no leaf"),
            }
        }
        let Node::Map(items) = &mut doc.roots[0].node else { panic!("a mapping") };
        let entry = items.iter_mut().find_map(|i| match i {
            MapItem::Entry(e) if e.key == name => Some(e),
            _ => None,
        });
        let mut nodes: Vec<&mut Node> = match &mut entry.expect("the collection").value {
            Node::Seq(items) => items
                .iter_mut()
                .filter_map(|i| match i {
                    SeqItem::Node { node, .. } => Some(node),
                    SeqItem::Comment(_) => None,
                })
                .collect(),
            Node::Map(items) => items
                .iter_mut()
                .filter_map(|i| match i {
                    MapItem::Entry(e) => Some(&mut e.value),
                    MapItem::Comment(_) => None,
                })
                .collect(),
            _ => panic!("a collection"),
        };
        let at = at % nodes.len();
        let (a, b) = nodes.split_at_mut(at + 1);
        std::mem::swap(&mut first_leaf(a[at]).value, &mut first_leaf(b[0]).value);
    }

    /// Floats read as Go's strconv.ParseFloat reads them: infinities and NaN in any case, with a sign.
    #[test]
    fn decrypted_floats_read_as_go_reads_them() {
        for (text, want) in [
            ("inf", f64::INFINITY),
            ("+Inf", f64::INFINITY),
            ("-INFINITY", f64::NEG_INFINITY),
            ("-infinity", f64::NEG_INFINITY),
            ("1.5", 1.5),
            ("-0.25", -0.25),
            ("1e3", 1000.0),
        ] {
            assert_eq!(parse_go_float(text), Some(want), "{text}");
        }
        assert!(parse_go_float("NaN").is_some_and(f64::is_nan));
        assert!(parse_go_float("-nan").is_some_and(f64::is_nan));
        for bad in ["", "in", "infinit", "1.5x", "nanx", "-"] {
            assert_eq!(parse_go_float(bad), None, "{bad}");
        }
    }

    /// A decrypted number's text is fed into the MAC as it is only when it is the text the
    /// value would be written as for the MAC: over numbers of every shape (signs, leading and
    /// trailing zeros, 1 to 34 digits, fractions, exponents), and the plain decimals sops writes.
    #[test]
    fn a_decrypted_number_is_its_own_mac_text_only_when_it_is_the_canonical_text() {
        use rand::rngs::StdRng;
        use rand::{Rng, SeedableRng};
        let mut rng = StdRng::seed_from_u64(0x0123_4567_89ab_cdef);
        let digits = |rng: &mut StdRng, n: usize| -> String {
            (0..n).map(|_| char::from(b'0' + rng.gen_range(0..10u8))).collect()
        };
        let mut texts: Vec<String> = [
            "0",
            "-0",
            "0.0",
            "-0.0",
            "5",
            "5.",
            ".5",
            "05",
            "+5",
            "-5",
            "1e5",
            "1E5",
            "393.3",
            "0.000001",
            "1e-7",
            "0.30000000000000004",
            "123456789012345",
            "1234567890123456",
            "9007199254740993",
            "0.10",
            "inf",
            "NaN",
            "9223372036854775807",
            "-9223372036854775808",
            "1.7976931348623157e308",
            "5e-324",
        ]
        .map(String::from)
        .to_vec();
        for _ in 0..20_000 {
            let mut t = String::new();
            if rng.gen_bool(0.3) {
                t.push('-');
            }
            let int_len = rng.gen_range(0..18);
            t.push_str(&digits(&mut rng, int_len));
            if rng.gen_bool(0.6) {
                t.push('.');
                let frac_len = rng.gen_range(0..18);
                t.push_str(&digits(&mut rng, frac_len));
            }
            if rng.gen_bool(0.05) {
                t.push_str(&format!("e{}", rng.gen_range(-30..30)));
            }
            texts.push(t);
        }
        let mut taken = [0usize; 2];
        for text in &texts {
            for (n, ty) in [ValueType::Int, ValueType::Float].into_iter().enumerate() {
                let Ok(value) = typed(text.as_bytes(), ty) else { continue };
                if mac_text_as_decrypted(&value, text.as_bytes()) {
                    assert_eq!(&plaintext(&value).0[..], text.as_bytes(), "{text} as {ty:?}");
                    taken[n] += 1;
                }
            }
        }
        assert!(taken[0] > 1000 && taken[1] > 2000, "too few texts taken: {taken:?}");
        let float = |t: &str| mac_text_as_decrypted(&typed(t.as_bytes(), ValueType::Float).unwrap(), t.as_bytes());
        assert!(float("393.3") && float("0.000001") && float("123456789012345") && float("-5") && float("0"));
        assert!(!float("-0") && !float("5.") && !float("1e5") && !float("0.10") && !float("05"));
    }

    #[test]
    fn errors_name_the_key_path_exactly() {
        let key = DataKey::generate();
        let src = "a:\n  \"b:c\":\n    - d: not-encrypted\n";
        let mut doc = gitseal_formats::parse(Format::Yaml, src).unwrap();
        let mut walk = Walk::new(&key, Rule::default(), false, Direction::Decrypt, |k| k == "sops");
        let err = walk.document(&mut doc.roots[0].node).expect_err("a plain value must not decrypt");
        assert_eq!(err.path, r#"["a"]["b:c"]["d"]"#);
        assert!(!err.message.contains("not-encrypted"), "{}", err.message);
    }

    /// sops before 3.13.2 read every JSON number as a float, so its MAC covers an integer
    /// beyond 2^53 in the clear as the float's digits; the walk gives that MAC too, and only
    /// when it differs.
    #[test]
    fn json_integers_beyond_2_53_in_the_clear_also_give_the_mac_of_older_sops() {
        let key = DataKey::generate();
        let mac_of = |texts: &[&str]| {
            let mut h = Sha512::new();
            texts.iter().for_each(|t| h.update(t));
            hex_upper(h.finalize().as_slice())
        };
        let macs = |src: &str| {
            let mut doc = gitseal_formats::parse(Format::Json, src).unwrap();
            let mut walk =
                Walk::new(&key, Rule::default(), false, Direction::Decrypt, |k| k == "sops").legacy_json_mac();
            walk.document(&mut doc.roots[0].node).unwrap_or_else(|e| panic!("{}", e.message));
            walk.macs()
        };
        let (mac, legacy) = macs(r#"{"a_unencrypted": 7, "n_unencrypted": 9007199254740993, "z_unencrypted": 1}"#);
        assert_eq!(mac, mac_of(&["7", "9007199254740993", "1"]));
        assert_eq!(legacy, Some(mac_of(&["7", "9007199254740992", "1"])));
        let (mac, legacy) = macs(r#"{"a_unencrypted": 9007199254740992, "b_unencrypted": -5}"#);
        assert_eq!((mac, legacy), (mac_of(&["9007199254740992", "-5"]), None));
    }
}
